//! The contract of the `Cache` port, written once and run unchanged against every
//! adapter on its real store: `MokaCache` in process, `RedisCache` on the Redis named by
//! `EMPORIUM_TEST_REDIS_URL` (skipped with a SKIP line when unset, a failure when
//! `EMPORIUM_REQUIRE_SERVICES=1`).
//!
//! `ResilientCache` in front of Redis passes the same contract.
//!
//! Plus Redis-only failure tests against real servers this file starts and stops: a
//! closed port, a black-hole listener, a `redis-server` that is frozen (SIGSTOP) and
//! one that is killed and restarted — for the plain `RedisCache` and for the
//! `ResilientCache` (breaker, retried invalidations) in front of it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use emporium_adapters::cache::{MokaCache, RedisCache, RedisCacheOptions, ResilientCache};
use emporium_adapters::testing;
use emporium_domain::Cache;

/// The contract, as plain async functions over any `Cache`. Each takes a factory that
/// yields a fresh cache: a new instance in process, a new key prefix on a shared
/// server, so tests never see each other's keys.
mod contract {
    use std::future::Future;
    use std::sync::Arc;
    use std::time::Duration;

    use emporium_domain::Cache;

    /// A TTL long enough never to expire during a test.
    const LONG: Duration = Duration::from_secs(60);
    /// The short TTL used by expiry tests, and how long to wait for it to pass.
    const SHORT: Duration = Duration::from_secs(1);
    const PAST_SHORT: Duration = Duration::from_millis(1_500);

    pub async fn get_of_an_absent_key_is_a_miss(cache: Arc<dyn Cache>) {
        assert_eq!(cache.get("never-set").await.unwrap(), None);
    }

    pub async fn set_then_get_returns_the_same_bytes(cache: Arc<dyn Cache>) {
        let all_bytes: Vec<u8> = (0..=255).collect();
        let large: Vec<u8> = (0..512 * 1024).map(|i| (i * 7 % 251) as u8).collect();
        let utf8 = "{\"name\":\"Espresso cup ☕\"}".as_bytes().to_vec();
        let cases: [(&str, Vec<u8>); 5] = [
            ("all-bytes", all_bytes),
            ("empty", Vec::new()),
            ("large", large),
            ("json", utf8),
            ("key with spaces, ünïcode and :colons:", b"odd key".to_vec()),
        ];
        for (key, value) in &cases {
            cache.set(key, value, LONG).await.unwrap();
        }
        for (key, value) in &cases {
            assert_eq!(
                cache.get(key).await.unwrap().as_deref(),
                Some(value.as_slice()),
                "value of {key:?}"
            );
        }
    }

    pub async fn set_overwrites_the_previous_value(cache: Arc<dyn Cache>) {
        cache.set("k", b"first, and longer", LONG).await.unwrap();
        cache.set("k", b"second", LONG).await.unwrap();
        assert_eq!(cache.get("k").await.unwrap(), Some(b"second".to_vec()));
    }

    pub async fn overwrite_replaces_the_ttl(cache: Arc<dyn Cache>) {
        // Short then long: the entry outlives the first TTL.
        cache.set("extended", b"1", SHORT).await.unwrap();
        cache.set("extended", b"2", LONG).await.unwrap();
        // Long then short: the entry expires with the second TTL.
        cache.set("shortened", b"1", LONG).await.unwrap();
        cache.set("shortened", b"2", SHORT).await.unwrap();
        tokio::time::sleep(PAST_SHORT).await;
        assert_eq!(cache.get("extended").await.unwrap(), Some(b"2".to_vec()));
        assert_eq!(cache.get("shortened").await.unwrap(), None);
    }

    pub async fn delete_removes_and_tolerates_absent_keys(cache: Arc<dyn Cache>) {
        cache.set("gone", b"v", LONG).await.unwrap();
        cache.delete("gone").await.unwrap();
        assert_eq!(cache.get("gone").await.unwrap(), None);
        // Deleting again, or a key that never existed, is not an error.
        cache.delete("gone").await.unwrap();
        cache.delete("never-existed").await.unwrap();
        // The key can be used again afterwards.
        cache.set("gone", b"back", LONG).await.unwrap();
        assert_eq!(cache.get("gone").await.unwrap(), Some(b"back".to_vec()));
    }

    pub async fn entries_expire_after_their_own_ttl(cache: Arc<dyn Cache>) {
        cache.set("short", b"s", SHORT).await.unwrap();
        cache.set("long", b"l", LONG).await.unwrap();
        assert_eq!(cache.get("short").await.unwrap(), Some(b"s".to_vec()));
        tokio::time::sleep(PAST_SHORT).await;
        assert_eq!(
            cache.get("short").await.unwrap(),
            None,
            "expired entry returned"
        );
        assert_eq!(cache.get("long").await.unwrap(), Some(b"l".to_vec()));
    }

    pub async fn a_zero_ttl_keeps_nothing(cache: Arc<dyn Cache>) {
        cache.set("z", b"old", LONG).await.unwrap();
        cache.set("z", b"new", Duration::ZERO).await.unwrap();
        assert_eq!(cache.get("z").await.unwrap(), None);
        // A sub-millisecond TTL is accepted too (it may or may not still be there).
        cache
            .set("tiny", b"t", Duration::from_micros(10))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(cache.get("tiny").await.unwrap(), None);
    }

    pub async fn keys_are_isolated<F, Fut>(make: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Arc<dyn Cache>>,
    {
        let cache = make().await;
        // Similar keys are distinct keys.
        for (key, value) in [("a", "1"), ("a:", "2"), ("A", "3"), ("a:b", "4")] {
            cache.set(key, value.as_bytes(), LONG).await.unwrap();
        }
        cache.delete("a").await.unwrap();
        assert_eq!(cache.get("a").await.unwrap(), None);
        assert_eq!(cache.get("a:").await.unwrap(), Some(b"2".to_vec()));
        assert_eq!(cache.get("A").await.unwrap(), Some(b"3".to_vec()));
        assert_eq!(cache.get("a:b").await.unwrap(), Some(b"4".to_vec()));
        // Another cache (instance, or namespace on a shared store) sees none of it.
        let other = make().await;
        assert_eq!(other.get("a:").await.unwrap(), None);
        other.set("A", b"other", LONG).await.unwrap();
        other.delete("a:b").await.unwrap();
        assert_eq!(cache.get("A").await.unwrap(), Some(b"3".to_vec()));
        assert_eq!(cache.get("a:b").await.unwrap(), Some(b"4".to_vec()));
    }

    pub async fn concurrent_use_is_consistent(cache: Arc<dyn Cache>) {
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move {
                    let key = format!("concurrent-{i}");
                    let value = format!("value-{i}").into_bytes();
                    cache.set(&key, &value, LONG).await.unwrap();
                    assert_eq!(cache.get(&key).await.unwrap(), Some(value));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    }

    pub async fn ping_succeeds(cache: Arc<dyn Cache>) {
        cache.ping().await.unwrap();
    }
}

/// Generates one `#[tokio::test]` per contract case for an adapter. `$make` is an async
/// factory returning `Option<Arc<dyn Cache>>` (`None`: the store is not configured,
/// the test is skipped).
macro_rules! cache_contract {
    ($adapter:ident, $make:path) => {
        mod $adapter {
            use super::*;

            macro_rules! case {
                ($case:ident) => {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        if let Some(cache) = $make().await {
                            contract::$case(cache).await;
                        }
                    }
                };
            }

            case!(get_of_an_absent_key_is_a_miss);
            case!(set_then_get_returns_the_same_bytes);
            case!(set_overwrites_the_previous_value);
            case!(overwrite_replaces_the_ttl);
            case!(delete_removes_and_tolerates_absent_keys);
            case!(entries_expire_after_their_own_ttl);
            case!(a_zero_ttl_keeps_nothing);
            case!(concurrent_use_is_consistent);
            case!(ping_succeeds);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn keys_are_isolated() {
                if $make().await.is_some() {
                    contract::keys_are_isolated(|| async { $make().await.unwrap() }).await;
                }
            }
        }
    };
}

async fn moka() -> Option<Arc<dyn Cache>> {
    Some(Arc::new(MokaCache::new(10_000)))
}

async fn redis() -> Option<Arc<dyn Cache>> {
    let url = testing::redis_url()?;
    let cache = RedisCache::connect(&url)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to Redis at {url}: {error:#}"))
        .with_prefix(testing::unique_prefix());
    Some(Arc::new(cache))
}

async fn resilient_redis() -> Option<Arc<dyn Cache>> {
    Some(Arc::new(ResilientCache::new(redis().await?)))
}

cache_contract!(moka_cache, moka);
cache_contract!(redis_cache, redis);
cache_contract!(resilient_redis_cache, resilient_redis);

// ---------------------------------------------------------------------------------
// Redis-only: failures are bounded in time.

/// Generous slack on top of a configured bound, for a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(500);

/// A port on 127.0.0.1 where nothing listens (bound, then released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn redis_connect_to_a_closed_port_fails_fast_with_a_clear_error() {
    let port = free_port();
    let started = Instant::now();
    let error = RedisCache::connect(&format!("redis://127.0.0.1:{port}"))
        .await
        .expect_err("nothing listens there");
    let elapsed = started.elapsed();
    assert!(
        elapsed < RedisCacheOptions::DEFAULT_CONNECT_TIMEOUT + SLACK,
        "took {elapsed:?}"
    );
    let message = format!("{error:#}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
}

#[tokio::test]
async fn redis_connect_to_a_silent_server_fails_fast() {
    // A real TCP server that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let options = RedisCacheOptions {
        connect_timeout: Duration::from_millis(500),
        operation_timeout: Duration::from_millis(200),
        ..RedisCacheOptions::default()
    };
    let started = Instant::now();
    let error = RedisCache::connect_with(&format!("redis://{address}"), options.clone())
        .await
        .expect_err("the server never answers");
    let elapsed = started.elapsed();
    assert!(
        elapsed < options.connect_timeout + options.operation_timeout + SLACK,
        "took {elapsed:?}: {error:#}"
    );
    server.abort();
}

#[tokio::test]
async fn redis_connect_refuses_an_invalid_url_without_leaking_the_password() {
    let error = RedisCache::connect("http://user:hunter2@127.0.0.1:6379")
        .await
        .expect_err("not a Redis URL");
    let message = format!("{error:#}");
    assert!(!message.contains("hunter2"), "{message}");
}

/// A throwaway `redis-server` on a free port, killed when dropped.
struct RedisServer {
    child: std::process::Child,
    port: u16,
    stopped: bool,
}

impl RedisServer {
    /// Starts `redis-server` (no persistence) and waits until it accepts connections;
    /// `None` (with a SKIP line) when the binary is not installed.
    async fn start(port: u16) -> Option<Self> {
        Self::start_with(port, &["--save", "", "--appendonly", "no"]).await
    }

    /// Starts a `redis-server` that keeps its data in `dir` (append-only file), so a
    /// restart finds it again.
    async fn start_persistent(port: u16, dir: &std::path::Path) -> Option<Self> {
        let dir = dir.to_str().unwrap();
        Self::start_with(
            port,
            &[
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                dir,
            ],
        )
        .await
    }

    async fn start_with(port: u16, persistence: &[&str]) -> Option<Self> {
        let spawned = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(persistence)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) if testing::services_required() => {
                panic!("cannot start redis-server: {error}")
            }
            Err(error) => {
                eprintln!("SKIP: cannot start redis-server ({error})");
                return None;
            }
        };
        let server = Self {
            child,
            port,
            stopped: false,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on {port}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Stops the server for good and waits for it to exit.
    fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        // It may be frozen: let it run so it can die.
        self.signal("CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Asserts that `operation` fails with a `CacheError` within the operation timeout
/// (plus slack) instead of hanging.
async fn assert_fails_within<T: std::fmt::Debug>(
    what: &str,
    bound: Duration,
    operation: impl Future<Output = Result<T, emporium_domain::CacheError>>,
) {
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(10), operation)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"));
    let elapsed = started.elapsed();
    let error = outcome.expect_err(what);
    assert!(elapsed < bound + SLACK, "{what} took {elapsed:?}: {error}");
    assert!(
        error.to_string().starts_with("cache unavailable"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_operations_on_a_frozen_server_time_out() {
    let Some(server) = RedisServer::start(free_port()).await else {
        return;
    };
    let timeout = Duration::from_millis(250);
    let cache = RedisCache::connect(&server.url())
        .await
        .unwrap()
        .with_operation_timeout(timeout);
    cache.set("k", b"v", Duration::from_secs(60)).await.unwrap();

    server.signal("STOP");
    assert_fails_within("get", timeout, cache.get("k")).await;
    assert_fails_within(
        "set",
        timeout,
        cache.set("k", b"w", Duration::from_secs(60)),
    )
    .await;
    assert_fails_within("delete", timeout, cache.delete("k")).await;
    assert_fails_within("ping", timeout, cache.ping()).await;

    server.signal("CONT");
    // Once the server runs again, so does the cache.
    let deadline = Instant::now() + Duration::from_secs(5);
    while cache.ping().await.is_err() {
        assert!(Instant::now() < deadline, "cache did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The commands that timed out were still queued on the socket and may have run
    // since (a timed-out write can still take effect); the cache works normally again.
    cache
        .set("k", b"after", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(cache.get("k").await.unwrap(), Some(b"after".to_vec()));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_operations_on_a_stopped_server_fail_fast_and_recover_after_restart() {
    let port = free_port();
    let Some(server) = RedisServer::start(port).await else {
        return;
    };
    let cache = RedisCache::connect(&server.url())
        .await
        .unwrap()
        .with_prefix(testing::unique_prefix());
    cache.set("k", b"v", Duration::from_secs(60)).await.unwrap();

    server.stop();
    let timeout = RedisCacheOptions::DEFAULT_OPERATION_TIMEOUT;
    // Every operation, repeated (the first ones may see the dropped connection, later
    // ones the failing reconnection): all fail within the timeout.
    for _ in 0..3 {
        assert_fails_within("get", timeout, cache.get("k")).await;
        assert_fails_within("set", timeout, cache.set("k", b"w", Duration::from_secs(9))).await;
        assert_fails_within("delete", timeout, cache.delete("k")).await;
        assert_fails_within("ping", timeout, cache.ping()).await;
    }

    // A new server on the same port: the same cache value reconnects by itself.
    let Some(restarted) = RedisServer::start(port).await else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.ping().await.is_err() {
        assert!(Instant::now() < deadline, "cache did not reconnect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The restarted server has no data (no persistence): a miss, then a working set.
    assert_eq!(cache.get("k").await.unwrap(), None);
    cache
        .set("k", b"again", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(cache.get("k").await.unwrap(), Some(b"again".to_vec()));
    restarted.stop();
}

#[tokio::test]
async fn redis_stores_with_a_millisecond_ttl_under_the_prefix() {
    // Checks the stored form with a raw client: the prefixed key and a PX expiry.
    let Some(url) = testing::redis_url() else {
        return;
    };
    let prefix = testing::unique_prefix();
    let cache = RedisCache::connect(&url)
        .await
        .unwrap()
        .with_prefix(prefix.clone());
    assert_eq!(cache.prefix(), prefix);
    cache
        .set("p", b"v", Duration::from_millis(4_500))
        .await
        .unwrap();

    let client = redis::Client::open(url.as_str()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let pttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}p"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!((4_000..=4_500).contains(&pttl), "PTTL {pttl}");
    let unprefixed: Option<Vec<u8>> = redis::cmd("GET")
        .arg("p")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(unprefixed, None);
    cache.delete("p").await.unwrap();
}

// ---------------------------------------------------------------------------------
// ResilientCache in front of a failing Redis.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_redis_costs_one_timeout_then_is_skipped() {
    let Some(server) = RedisServer::start(free_port()).await else {
        return;
    };
    let redis = RedisCache::connect(&server.url()).await.unwrap();
    let cache = ResilientCache::new(Arc::new(redis));
    cache.set("k", b"v", Duration::from_secs(60)).await.unwrap();
    server.signal("STOP");
    // The first read waits for the operation timeout and fails…
    let timeout = RedisCacheOptions::DEFAULT_OPERATION_TIMEOUT;
    assert_fails_within("get", timeout, cache.get("k")).await;
    // …then, for the cool-down, reads miss and writes are dropped at once.
    let started = Instant::now();
    for _ in 0..200 {
        assert_eq!(cache.get("k").await.unwrap(), None);
        cache.set("k", b"w", Duration::from_secs(60)).await.unwrap();
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(200),
        "200 skipped reads and writes took {elapsed:?}"
    );
    // Readiness still asks Redis itself.
    assert_fails_within("ping", timeout, cache.ping()).await;
    server.signal("CONT");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_lost_to_a_redis_restart_is_retried_until_it_lands() {
    let port = free_port();
    let dir = testing::TempDir::new();
    let Some(server) = RedisServer::start_persistent(port, dir.path()).await else {
        return;
    };
    let url = server.url();
    let redis = RedisCache::connect(&url)
        .await
        .unwrap()
        .with_prefix(testing::unique_prefix());
    let prefix = redis.prefix().to_owned();
    let cache = ResilientCache::new(Arc::new(redis));
    cache
        .set("product", b"old price", Duration::from_secs(300))
        .await
        .unwrap();

    // Redis restarts with its data: the cache's connection is gone, the entry is not.
    server.stop();
    let Some(restarted) = RedisServer::start_persistent(port, dir.path()).await else {
        return;
    };
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{prefix}product");
    let stored: Option<Vec<u8>> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        stored.as_deref(),
        Some(b"old price".as_slice()),
        "the entry survived the restart"
    );

    // The change's invalidation: it may meet the dead connection, but it is not lost.
    cache.delete("product").await.unwrap();
    assert_eq!(
        cache.pending_invalidations(),
        1,
        "the first delete after the restart met the dead connection"
    );
    // Meanwhile this process never serves the old entry.
    assert_eq!(cache.get("product").await.unwrap(), None);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let stored: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        if stored.is_none() && cache.pending_invalidations() == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the invalidation never reached Redis"
        );
        assert_eq!(
            cache.get("product").await.unwrap(),
            None,
            "stale entry served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    restarted.stop();
}
