//! The shared cache on Redis.

use std::time::Duration;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use emporium_domain::{Cache, CacheError, Unavailable};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::capped_ttl;
use crate::store_error::StoreError;

/// How a [`RedisCache`] connects and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisCacheOptions {
    /// Prepended to every key, so several users of one Redis (caches of other
    /// deployments, carts, tests) never see each other's keys.
    pub prefix: String,
    /// The most any single operation (get, set, delete, ping) may take, waiting for a
    /// connection included. Past it the operation fails with [`CacheError`] and the
    /// caller falls back to the source of truth.
    pub operation_timeout: Duration,
    /// The most [`RedisCache::connect`] may take, and the bound on each (re)connection
    /// attempt afterwards.
    pub connect_timeout: Duration,
}

impl RedisCacheOptions {
    /// The key prefix used unless another is given.
    pub const DEFAULT_PREFIX: &'static str = "emporium:cache:";
    /// The default [`operation_timeout`](Self::operation_timeout): 250 ms.
    pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_millis(250);
    /// The default [`connect_timeout`](Self::connect_timeout): 1 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
}

impl Default for RedisCacheOptions {
    fn default() -> Self {
        Self {
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            operation_timeout: Self::DEFAULT_OPERATION_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// A [`Cache`] on Redis: `SET key value PX ttl`, `GET`, `DEL`, `PING`.
///
/// Every operation is bounded by [`RedisCacheOptions::operation_timeout`], so a slow,
/// hung or stopped Redis costs a request at most that long before it falls back to the
/// database. The underlying [`ConnectionManager`] reconnects by itself once Redis is
/// back. A write that timed out may still take effect later (it was sent); commands
/// on the shared connection keep their order, so a later `delete` still wins over an
/// earlier `set`. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    prefix: String,
    operation_timeout: Duration,
    /// The server address with any credentials removed, for messages.
    address: String,
}

impl RedisCache {
    /// Connects to `url` (`redis://[user:password@]host[:port][/db]`, `rediss://…` for
    /// TLS) with the default [`RedisCacheOptions`].
    ///
    /// Fails within [`RedisCacheOptions::DEFAULT_CONNECT_TIMEOUT`] when Redis cannot be
    /// reached or does not answer `PING`.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, RedisCacheOptions::default()).await
    }

    /// Connects to `url` with the given options; fails within
    /// `options.connect_timeout` (plus one `operation_timeout` for the `PING`) when
    /// Redis cannot be reached or does not answer.
    pub async fn connect_with(url: &str, options: RedisCacheOptions) -> anyhow::Result<Self> {
        let (connection, address) =
            connect_redis(url, options.connect_timeout, options.operation_timeout).await?;
        let cache = Self {
            connection,
            prefix: options.prefix,
            operation_timeout: options.operation_timeout,
            address,
        };
        cache
            .ping()
            .await
            .map_err(|error| error.0)
            .context("Redis accepted the connection but did not answer PING")?;
        Ok(cache)
    }

    /// The same cache with every key prefixed by `prefix` instead (shares the
    /// connection). Tests use a unique prefix each to stay isolated.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The same cache with another per-operation timeout (shares the connection).
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// The key prefix in use.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs `command` on the shared connection, bounded by the operation timeout.
    /// `what` names the command in error messages (never the value).
    async fn run<T: redis::FromRedisValue>(
        &self,
        command: &redis::Cmd,
        what: &str,
    ) -> Result<T, CacheError> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(
            self.operation_timeout,
            command.query_async::<T>(&mut connection),
        )
        .await
        {
            Ok(result) => result
                .with_context(|| format!("Redis {what} failed on {}", self.address))
                .map_err(CacheError),
            Err(_) => Err(CacheError(anyhow!(
                "Redis {what} on {} timed out after {:?}",
                self.address,
                self.operation_timeout
            ))),
        }
    }
}

/// A reconnecting connection to the Redis at `url` (and the URL without
/// credentials, for messages): each (re)connection bounded by `connect_timeout`,
/// each response by `response_timeout`. Fails within `connect_timeout` when Redis
/// cannot be reached. Shared by every adapter on Redis.
pub(crate) async fn connect_redis(
    url: &str,
    connect_timeout: Duration,
    response_timeout: Duration,
) -> anyhow::Result<(ConnectionManager, String)> {
    let address = redact_credentials(url);
    let client =
        redis::Client::open(url).with_context(|| format!("invalid Redis URL {address}"))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(response_timeout))
        // Reconnection: a few quick attempts, then the next operation starts again.
        .set_number_of_retries(2)
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_secs(1));
    let connection = tokio::time::timeout(
        connect_timeout,
        ConnectionManager::new_with_config(client, config),
    )
    .await
    .map_err(|_| {
        anyhow!("Redis at {address} did not accept a connection within {connect_timeout:?}")
    })?
    .with_context(|| format!("cannot connect to Redis at {address}"))?;
    Ok((connection, address))
}

/// The `maxmemory-policy` of the Redis behind `connection` (`CONFIG GET`, which a
/// managed Redis may refuse: then an error).
pub(crate) async fn eviction_policy(
    connection: &ConnectionManager,
    address: &str,
    timeout: Duration,
) -> anyhow::Result<String> {
    let mut connection = connection.clone();
    let reply: Vec<String> = run_classified(
        address,
        timeout,
        "CONFIG GET maxmemory-policy".to_owned(),
        redis::cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory-policy")
            .query_async(&mut connection),
    )
    .await
    .map_err(|error| anyhow!(error))?;
    reply
        .get(1)
        .cloned()
        .ok_or_else(|| anyhow!("CONFIG GET maxmemory-policy answered nothing on {address}"))
}

/// Runs `operation` on the Redis at `address`, bounded by `timeout`: a connection
/// failure, a dropped connection, a timeout or a server not ready to serve
/// (see [`is_not_ready`]) is [`StoreError::Unavailable`], anything else unexpected;
/// `what` names the operation in messages. Shared by the adapters whose callers must
/// tell "down" from "wrong" (carts, the event bus).
pub(crate) async fn run_classified<T>(
    address: &str,
    timeout: Duration,
    what: String,
    operation: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(timeout, operation).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(StoreError::classify(
            error,
            "Redis",
            |error| {
                error.is_io_error()
                    || error.is_connection_refusal()
                    || error.is_connection_dropped()
                    || error.is_timeout()
                    || is_not_ready(error)
            },
            format!("{what} on Redis at {address}"),
        )),
        Err(_) => Err(StoreError::Unavailable(Unavailable::new(
            "Redis",
            anyhow!("{what} on Redis at {address} timed out after {timeout:?}"),
        ))),
    }
}

/// A server that answers but cannot serve yet: `LOADING` (restarted, reading its
/// append-only file back: the soak run's Redis restart met it), `MASTERDOWN`,
/// `TRYAGAIN`, `CLUSTERDOWN`. Down for a moment, not wrong.
fn is_not_ready(error: &redis::RedisError) -> bool {
    use redis::ServerErrorKind::{BusyLoading, ClusterDown, MasterDown, TryAgain};
    matches!(
        error.kind(),
        redis::ErrorKind::Server(BusyLoading | ClusterDown | MasterDown | TryAgain)
    )
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("address", &self.address)
            .field("prefix", &self.prefix)
            .field("operation_timeout", &self.operation_timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let key = self.key(key);
        self.run(redis::cmd("GET").arg(&key), &format!("GET {key}"))
            .await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        if ttl.is_zero() {
            // Redis refuses a zero expiry; "keep for no time" means "remove".
            return self.delete(key).await;
        }
        let key = self.key(key);
        // Round up so a sub-millisecond TTL still stores the value briefly.
        let millis = u64::try_from(capped_ttl(ttl).as_nanos().div_ceil(1_000_000))
            .unwrap_or(u64::MAX)
            .max(1);
        self.run(
            redis::cmd("SET").arg(&key).arg(value).arg("PX").arg(millis),
            &format!("SET {key} PX {millis}"),
        )
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let key = self.key(key);
        self.run(redis::cmd("DEL").arg(&key), &format!("DEL {key}"))
            .await
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let reply: String = self.run(&redis::cmd("PING"), "PING").await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(CacheError(anyhow!(
                "Redis on {} answered PING with {reply:?}",
                self.address
            )))
        }
    }
}

/// `url` without the password (or user) part, fit for logs and error messages.
fn redact_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{redact_credentials, run_classified};
    use crate::store_error::StoreError;

    /// A Redis restarting from its append-only file answers `LOADING` for a moment:
    /// down (503 at the edge), not a failure (500).
    #[tokio::test]
    async fn a_server_still_loading_is_unavailable() {
        use redis::ServerErrorKind::{BusyLoading, MasterDown, ResponseError, TryAgain};
        let classified = |kind: redis::ServerErrorKind| async move {
            let error = redis::RedisError::from((redis::ErrorKind::Server(kind), "refused"));
            run_classified::<()>(
                "redis://127.0.0.1:6379",
                Duration::from_secs(1),
                "GET".to_owned(),
                async { Err(error) },
            )
            .await
        };
        for kind in [BusyLoading, MasterDown, TryAgain] {
            let result = classified(kind).await;
            assert!(
                matches!(result, Err(StoreError::Unavailable(_))),
                "{kind:?}: {result:?}"
            );
        }
        let wrong = classified(ResponseError).await;
        assert!(matches!(wrong, Err(StoreError::Unexpected(_))), "{wrong:?}");
    }

    #[test]
    fn credentials_never_reach_messages() {
        assert_eq!(
            redact_credentials("redis://user:s3cret@cache.local:6380/2"),
            "redis://***@cache.local:6380/2"
        );
        assert_eq!(
            redact_credentials("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(redact_credentials("rediss://:pw@h/0"), "rediss://***@h/0");
    }
}
