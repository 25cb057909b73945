//! The cache port: a byte-oriented key/value store with per-entry time to live.
//!
//! Callers must treat every error as "cache unavailable" and fall back to the source of
//! truth: a cache never decides whether a request succeeds.

use std::time::Duration;

use async_trait::async_trait;

/// Why a cache operation failed. The cache holds nothing authoritative, so there is
/// only one kind of failure: the cache could not be used.
#[derive(Debug, thiserror::Error)]
#[error("cache unavailable: {0:#}")]
pub struct CacheError(#[from] pub anyhow::Error);

/// A shared cache (in-process or networked).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Cache: Send + Sync {
    /// The value stored under `key`, or `None` when absent or expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// Stores `value` under `key` for at most `ttl`, replacing any previous value.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    /// Removes `key`; removing an absent key is not an error.
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Checks that the cache answers (used by readiness probes).
    async fn ping(&self) -> Result<(), CacheError>;
}
