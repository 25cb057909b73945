//! The in-process cache on moka.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use emporium_domain::{Cache, CacheError};
use moka::Expiry;

use super::capped_ttl;

/// One cached value and the time to live it was stored with.
#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
}

/// Expires every entry after the TTL it was last stored with.
struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Entry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        // An overwrite restarts the clock with the new entry's TTL.
        Some(entry.ttl)
    }
}

/// An in-process [`Cache`] on moka with a time to live per entry.
///
/// Cheap to clone: clones share the same store. Entries beyond `max_capacity` are
/// evicted (least recently / frequently used first, as moka decides); expired entries
/// are never returned, whether or not moka has evicted them yet.
#[derive(Clone)]
pub struct MokaCache {
    inner: moka::future::Cache<String, Entry>,
}

impl MokaCache {
    /// A cache holding at most `max_capacity` entries.
    pub fn new(max_capacity: u64) -> Self {
        let inner = moka::future::Cache::builder()
            .name("emporium-cache")
            .max_capacity(max_capacity)
            .expire_after(PerEntryTtl)
            .build();
        Self { inner }
    }

    /// How many entries the cache holds approximately (moka updates the count lazily).
    pub fn entry_count(&self) -> u64 {
        self.inner.entry_count()
    }
}

impl std::fmt::Debug for MokaCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MokaCache")
            .field("max_capacity", &self.inner.policy().max_capacity())
            .field("entry_count", &self.inner.entry_count())
            .finish()
    }
}

#[async_trait]
impl Cache for MokaCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.inner.get(key).await.map(|entry| entry.value.to_vec()))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        if ttl.is_zero() {
            // Nothing to keep, but the previous value must not survive the overwrite.
            self.inner.invalidate(key).await;
            return Ok(());
        }
        let entry = Entry {
            value: Arc::from(value),
            ttl: capped_ttl(ttl),
        };
        self.inner.insert(key.to_owned(), entry).await;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.inner.invalidate(key).await;
        Ok(())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}
