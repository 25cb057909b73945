//! Rate limits shared by every replica, on Redis: GCRA (the generic cell rate
//! algorithm, as governor runs it in one process), one atomic Lua script per
//! decision, with Redis's clock, so N replicas allow together what one allows.
//!
//! A limit of `count` per `period` allows a burst of `count` and then one more every
//! `period / count`. The state of a key is its theoretical arrival time, kept with an
//! expiry so idle keys vanish.

use std::time::Duration;

use anyhow::Context;
use redis::aio::ConnectionManager;

use crate::cache::redis_cache::{connect_redis, run_classified};

/// Consumes one cell of `KEYS[1]`: `ARGV[1]` is the emission interval and `ARGV[2]`
/// the burst tolerance, in microseconds. Returns `{1, 0}` when allowed, `{0, wait}`
/// (microseconds) when not. With `KEYS[2]` (a lock key), a refusal also sets it to
/// expire when the limit allows again.
const GCRA: &str = r"
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now_us)
if tat < now_us then tat = now_us end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now_us then
  local wait = allow_at - now_us
  if KEYS[2] then
    redis.call('SET', KEYS[2], '1', 'PX', math.ceil(wait / 1000))
  end
  return {0, wait}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now_us) / 1000))
return {1, 0}
";

/// What a limit decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go on.
    Allowed,
    /// Over the limit: try again after this long.
    Refused(Duration),
}

/// A limit: `count` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Cells per period (and the burst).
    pub count: u32,
    /// The period.
    pub period: Duration,
}

impl Limit {
    fn interval_us(self) -> u64 {
        let period = u64::try_from(self.period.as_micros()).unwrap_or(u64::MAX);
        (period / u64::from(self.count.max(1))).max(1)
    }

    fn tolerance_us(self) -> u64 {
        self.interval_us()
            .saturating_mul(u64::from(self.count.max(1)))
    }
}

/// Shared rate limits on Redis (see the [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct RedisRateLimits {
    connection: ConnectionManager,
    address: String,
    prefix: String,
    timeout: Duration,
    script: redis::Script,
}

impl RedisRateLimits {
    /// How long one decision may take before the caller falls back.
    pub const TIMEOUT: Duration = Duration::from_millis(250);

    /// Connects to `url`; keys are `<prefix>ratelimit:…`.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let (connection, address) =
            connect_redis(url, Duration::from_secs(1), Self::TIMEOUT).await?;
        Ok(Self {
            connection,
            address,
            prefix: format!("{prefix}ratelimit:"),
            timeout: Self::TIMEOUT,
            script: redis::Script::new(GCRA),
        })
    }

    /// Consumes one cell of `limit` for `key`.
    pub async fn check(&self, key: &str, limit: Limit) -> anyhow::Result<Decision> {
        self.decide(key, None, limit).await
    }

    /// Consumes one cell of `limit` for `key`; when refused, also locks `lock` until
    /// the limit allows again (see [`locked_for`](Self::locked_for)).
    pub async fn check_or_lock(
        &self,
        key: &str,
        lock: &str,
        limit: Limit,
    ) -> anyhow::Result<Decision> {
        self.decide(key, Some(lock), limit).await
    }

    /// How long `lock` stays locked (`None`: it is not).
    pub async fn locked_for(&self, lock: &str) -> anyhow::Result<Option<Duration>> {
        let mut connection = self.connection.clone();
        let key = format!("{}{lock}", self.prefix);
        let left: i64 = run_classified(
            &self.address,
            self.timeout,
            "reading a rate-limit lock".to_owned(),
            redis::cmd("PTTL").arg(&key).query_async(&mut connection),
        )
        .await
        .map_err(anyhow::Error::new)?;
        Ok(u64::try_from(left)
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis))
    }

    async fn decide(
        &self,
        key: &str,
        lock: Option<&str>,
        limit: Limit,
    ) -> anyhow::Result<Decision> {
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(format!("{}{key}", self.prefix));
        if let Some(lock) = lock {
            invocation.key(format!("{}{lock}", self.prefix));
        }
        invocation
            .arg(limit.interval_us())
            .arg(limit.tolerance_us());
        let (allowed, wait_us): (i64, i64) = run_classified(
            &self.address,
            self.timeout,
            "a rate-limit decision".to_owned(),
            invocation.invoke_async(&mut connection),
        )
        .await
        .map_err(anyhow::Error::new)
        .context("the shared rate limit")?;
        Ok(match allowed {
            1 => Decision::Allowed,
            _ => Decision::Refused(Duration::from_micros(u64::try_from(wait_us).unwrap_or(0))),
        })
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut connection = self.connection.clone();
        let _: String = run_classified(
            &self.address,
            self.timeout,
            "PING".to_owned(),
            redis::cmd("PING").query_async(&mut connection),
        )
        .await
        .map_err(anyhow::Error::new)?;
        Ok(())
    }
}

impl std::fmt::Debug for RedisRateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimits")
            .field("address", &self.address)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}
