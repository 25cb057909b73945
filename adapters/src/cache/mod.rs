//! Adapters of the [`Cache`](emporium_domain::Cache) port.
//!
//! | adapter | feature | store |
//! |---|---|---|
//! | [`MokaCache`] | `in-process` | moka, in this process (the embedded default) |
//! | [`RedisCache`] | `redis` | Redis, shared between processes |
//! | [`ResilientCache`] | `in-process` | any cache behind a circuit breaker, with failed invalidations retried |
//!
//! All honour the per-entry time to live given to `set`, treat a zero TTL as "do not
//! keep" (the key is removed) and pass the same contract suite
//! (`adapters/tests/cache_contract.rs`).

use std::time::Duration;

#[cfg(feature = "in-process")]
mod moka_cache;
#[cfg(feature = "redis")]
pub(crate) mod redis_cache;
#[cfg(feature = "in-process")]
mod resilient;

#[cfg(feature = "in-process")]
pub use moka_cache::MokaCache;
#[cfg(feature = "redis")]
pub use redis_cache::{RedisCache, RedisCacheOptions};
#[cfg(feature = "in-process")]
pub use resilient::ResilientCache;

/// The longest time to live any adapter keeps an entry for; longer TTLs are shortened
/// to it. A cache holds nothing authoritative, so keeping an entry for less time than
/// asked is always safe, and the cap keeps every store's expiry arithmetic in range.
pub const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// `ttl` capped at [`MAX_TTL`].
fn capped_ttl(ttl: Duration) -> Duration {
    ttl.min(MAX_TTL)
}
