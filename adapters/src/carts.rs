//! The cart store on Redis: one hash per user with a 30-day time to live, renewed on
//! every save.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};
use emporium_domain::UserId;
use emporium_domain::orders::{Cart, CartStore, CartStoreError};
use redis::aio::ConnectionManager;

use crate::cache::redis_cache::{connect_redis, eviction_policy, run_classified};
use crate::cart_codec;
use crate::store_error::StoreError;

/// Saves a cart only if the stored version is the one it was read at (a missing key
/// counts as version 0), then renews the time to live. Returns 1 when saved.
const SAVE: &str = r"
local current = redis.call('HGET', KEYS[1], 'version')
if (current or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'lines', ARGV[3], 'updated_at', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
";

/// Keeps carts in Redis: key `<prefix><user id>`, a hash of `version`, `lines` (JSON)
/// and `updated_at`. A cart untouched for [`RedisCartStore::TTL`] expires.
///
/// [`save`](CartStore::save) is one Lua script, so the version check and the write
/// are atomic. A Redis that cannot be reached, or answers slower than the operation
/// timeout, is [`CartStoreError::Unavailable`].
#[derive(Clone)]
pub struct RedisCartStore {
    connection: ConnectionManager,
    prefix: String,
    address: String,
    operation_timeout: Duration,
    save: redis::Script,
}

impl RedisCartStore {
    /// How long an untouched cart is kept.
    pub const TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);
    /// The key prefix used unless another is given.
    pub const DEFAULT_PREFIX: &'static str = "emporium:cart:";
    /// The most one operation may take before the store counts as unavailable.
    pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(1);

    /// Connects to `url`; fails within a second when Redis cannot be reached.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let (connection, address) =
            connect_redis(url, Duration::from_secs(1), Self::OPERATION_TIMEOUT).await?;
        let store = Self {
            connection,
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            address,
            operation_timeout: Self::OPERATION_TIMEOUT,
            save: redis::Script::new(SAVE),
        };
        store
            .ping()
            .await
            .context("Redis accepted the connection but did not answer PING")?;
        Ok(store)
    }

    /// The same store with every key prefixed by `prefix` instead (tests isolate
    /// themselves this way).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Redis's `maxmemory-policy`: carts are lost unless it is `noeviction`. An
    /// error when Redis refuses `CONFIG GET` (some managed services do).
    pub async fn eviction_policy(&self) -> anyhow::Result<String> {
        eviction_policy(&self.connection, &self.address, self.operation_timeout).await
    }

    fn key(&self, owner: UserId) -> String {
        format!("{}{owner}", self.prefix)
    }

    /// Runs `operation` bounded by the operation timeout, classifying failures.
    async fn run<T>(
        &self,
        what: String,
        operation: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        run_classified(&self.address, self.operation_timeout, what, operation).await
    }
}

impl std::fmt::Debug for RedisCartStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCartStore")
            .field("address", &self.address)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl CartStore for RedisCartStore {
    async fn get(&self, owner: UserId) -> Result<Option<Cart>, CartStoreError> {
        let key = self.key(owner);
        let mut connection = self.connection.clone();
        let (version, lines, updated_at): (Option<i64>, Option<String>, Option<String>) = self
            .run(
                format!("reading the cart of user {owner}"),
                redis::cmd("HMGET")
                    .arg(&key)
                    .arg("version")
                    .arg("lines")
                    .arg("updated_at")
                    .query_async(&mut connection),
            )
            .await?;
        let (Some(version), Some(lines), Some(updated_at)) = (version, lines, updated_at) else {
            return Ok(None);
        };
        let updated_at = DateTime::parse_from_rfc3339(&updated_at)
            .context("stored cart time is not RFC 3339")?
            .with_timezone(&Utc);
        Ok(Some(cart_codec::decode(
            owner, &lines, updated_at, version,
        )?))
    }

    async fn save(&self, cart: &Cart) -> Result<Cart, CartStoreError> {
        let owner = cart.owner();
        let lines = cart_codec::encode_lines(cart)?;
        let updated_at = cart
            .updated_at()
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        let next = cart.version() + 1;
        let mut connection = self.connection.clone();
        let ttl_ms = u64::try_from(Self::TTL.as_millis()).unwrap_or(u64::MAX);
        let mut invocation = self.save.key(self.key(owner));
        invocation
            .arg(cart.version())
            .arg(next)
            .arg(&lines)
            .arg(&updated_at)
            .arg(ttl_ms);
        let saved: i64 = self
            .run(
                format!("saving the cart of user {owner}"),
                invocation.invoke_async(&mut connection),
            )
            .await?;
        if saved == 0 {
            return Err(CartStoreError::Changed);
        }
        // The stored text keeps microseconds: answer the time a read would give.
        let updated_at = cart
            .updated_at()
            .duration_trunc(TimeDelta::microseconds(1))
            .unwrap_or(cart.updated_at());
        Ok(cart_codec::saved(cart, updated_at, next)?)
    }

    async fn delete(&self, owner: UserId) -> Result<(), CartStoreError> {
        let key = self.key(owner);
        let mut connection = self.connection.clone();
        let _: i64 = self
            .run(
                format!("deleting the cart of user {owner}"),
                redis::cmd("DEL").arg(&key).query_async(&mut connection),
            )
            .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), CartStoreError> {
        let mut connection = self.connection.clone();
        let _: String = self
            .run(
                "PING".to_owned(),
                redis::cmd("PING").query_async(&mut connection),
            )
            .await?;
        Ok(())
    }
}
