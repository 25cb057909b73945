//! A [`Cache`] in front of a networked one that may fail: it bounds what a failing
//! cache costs the requests, and makes sure no invalidation is lost.
//!
//! - **Circuit breaker.** After a failed operation the inner cache is skipped for a
//!   cool-down ([`ResilientCache::COOL_DOWN`]): reads miss at once, writes are
//!   dropped, so a down or hung Redis costs one request the operation timeout instead
//!   of every request. Then one request tries the cache again; success closes the
//!   breaker. `ping` (readiness) always asks the inner cache.
//! - **Invalidations are never lost.** A `delete` that fails — or that the breaker
//!   skips — is kept and retried in the background until it succeeds. Until then this
//!   process treats the key as absent: reads bypass the cache for it and fills are not
//!   written, so the process that made a change never serves the value its
//!   invalidation was meant to remove. Other processes may serve that value until the
//!   retry succeeds or the entry's TTL ends, whichever comes first; after a restart of
//!   this process, until the TTL ends.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use emporium_domain::{Cache, CacheError};

/// See the [module documentation](self).
#[derive(Clone)]
pub struct ResilientCache {
    inner: Arc<dyn Cache>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// The breaker is open (the inner cache skipped) until then.
    open_until: Option<Instant>,
    /// Keys whose invalidation has not reached the inner cache yet.
    pending: HashSet<String>,
    /// Whether a background task is retrying the pending invalidations.
    retrying: bool,
}

impl ResilientCache {
    /// How long the inner cache is skipped after a failure.
    pub const COOL_DOWN: Duration = Duration::from_secs(5);
    /// The first wait before a failed invalidation is retried; later waits double up
    /// to [`ResilientCache::MAX_RETRY_WAIT`].
    pub const FIRST_RETRY_WAIT: Duration = Duration::from_millis(200);
    /// The longest wait between two retries of failed invalidations.
    pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

    /// `inner` behind a breaker, with failed invalidations retried.
    pub fn new(inner: Arc<dyn Cache>) -> Self {
        Self {
            inner,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// Keys whose invalidation is still to be retried (for tests and diagnostics).
    pub fn pending_invalidations(&self) -> usize {
        self.lock().pending.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Whether this call may use the inner cache for `key`: not while an
    /// invalidation of the key is pending, nor while the breaker is open (once the
    /// cool-down has passed, one call at a time gets through to try it).
    fn admits(&self, key: &str) -> bool {
        let mut state = self.lock();
        if state.pending.contains(key) {
            return false;
        }
        match state.open_until {
            Some(until) if Instant::now() < until => false,
            Some(_) => {
                // Half open: this call tries; the others keep skipping meanwhile.
                state.open_until = Some(Instant::now() + Self::COOL_DOWN);
                true
            }
            None => true,
        }
    }

    /// Records the outcome of a call to the inner cache.
    fn record<T>(&self, result: &Result<T, CacheError>) {
        let mut state = self.lock();
        match result {
            Ok(_) => state.open_until = None,
            Err(error) => {
                if state.open_until.is_none() {
                    tracing::warn!(%error, cool_down_ms = Self::COOL_DOWN.as_millis() as u64, "cache failing: skipping it for a while");
                }
                state.open_until = Some(Instant::now() + Self::COOL_DOWN);
            }
        }
    }

    /// Keeps `key` to be invalidated later, starting the retry task if needed.
    fn defer_invalidation(&self, key: &str) {
        let mut state = self.lock();
        state.pending.insert(key.to_owned());
        if state.retrying {
            return;
        }
        state.retrying = true;
        drop(state);
        let inner = self.inner.clone();
        let weak = Arc::downgrade(&self.state);
        tokio::spawn(retry_invalidations(inner, weak));
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Retries the pending invalidations until none is left (or the cache is gone).
async fn retry_invalidations(inner: Arc<dyn Cache>, state: Weak<Mutex<State>>) {
    let mut wait = ResilientCache::FIRST_RETRY_WAIT;
    loop {
        tokio::time::sleep(wait).await;
        let Some(shared) = state.upgrade() else {
            return;
        };
        let keys: Vec<String> = lock(&shared).pending.iter().cloned().collect();
        let mut failed = false;
        for key in keys {
            match inner.delete(&key).await {
                Ok(()) => {
                    lock(&shared).pending.remove(&key);
                    tracing::info!(key, "deferred cache invalidation done");
                }
                Err(error) => {
                    tracing::warn!(key, %error, "deferred cache invalidation failed; will retry");
                    failed = true;
                    break;
                }
            }
        }
        let mut guard = lock(&shared);
        if !failed {
            guard.open_until = None;
        }
        if guard.pending.is_empty() {
            guard.retrying = false;
            return;
        }
        drop(guard);
        wait = if failed {
            (wait * 2).min(ResilientCache::MAX_RETRY_WAIT)
        } else {
            ResilientCache::FIRST_RETRY_WAIT
        };
    }
}

impl std::fmt::Debug for ResilientCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("ResilientCache")
            .field("open_until", &state.open_until)
            .field("pending", &state.pending.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Cache for ResilientCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        if !self.admits(key) {
            return Ok(None);
        }
        let result = self.inner.get(key).await;
        self.record(&result);
        result
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        if !self.admits(key) {
            return Ok(());
        }
        let result = self.inner.set(key, value, ttl).await;
        self.record(&result);
        result
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        if !self.admits(key) {
            self.defer_invalidation(key);
            return Ok(());
        }
        let result = self.inner.delete(key).await;
        self.record(&result);
        if let Err(error) = result {
            tracing::warn!(key, %error, "cache invalidation failed; retrying it in the background");
            self.defer_invalidation(key);
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let result = self.inner.ping().await;
        if result.is_ok() {
            self.lock().open_until = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A cache that fails while `down`, counting the calls that reach it.
    #[derive(Default)]
    struct Flaky {
        down: AtomicBool,
        calls: AtomicUsize,
        deleted: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Cache for Flaky {
        async fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, CacheError> {
            self.answer().map(|()| Some(b"old".to_vec()))
        }
        async fn set(&self, _: &str, _: &[u8], _: Duration) -> Result<(), CacheError> {
            self.answer()
        }
        async fn delete(&self, key: &str) -> Result<(), CacheError> {
            self.answer()?;
            self.deleted.lock().unwrap().push(key.to_owned());
            Ok(())
        }
        async fn ping(&self) -> Result<(), CacheError> {
            self.answer()
        }
    }

    impl Flaky {
        fn answer(&self) -> Result<(), CacheError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                Err(CacheError(anyhow::anyhow!("connection refused")))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn a_failing_cache_is_skipped_for_the_cool_down() {
        let flaky = Arc::new(Flaky::default());
        flaky.down.store(true, Ordering::SeqCst);
        let cache = ResilientCache::new(flaky.clone());
        assert!(cache.get("k").await.is_err());
        for _ in 0..100 {
            assert_eq!(cache.get("k").await.unwrap(), None);
            cache.set("k", b"v", Duration::from_secs(1)).await.unwrap();
        }
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
        assert!(cache.ping().await.is_err(), "readiness always asks");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_invalidation_is_retried_and_the_key_bypassed_meanwhile() {
        let flaky = Arc::new(Flaky::default());
        let cache = ResilientCache::new(flaky.clone());
        flaky.down.store(true, Ordering::SeqCst);
        cache.delete("product").await.unwrap();
        assert_eq!(cache.pending_invalidations(), 1);
        flaky.down.store(false, Ordering::SeqCst);
        // Even with the cache back, this process does not read the stale entry.
        tokio::time::advance(ResilientCache::COOL_DOWN * 2).await;
        assert_eq!(cache.get("product").await.unwrap(), None);
        for _ in 0..10 {
            tokio::time::sleep(ResilientCache::MAX_RETRY_WAIT).await;
        }
        assert_eq!(cache.pending_invalidations(), 0);
        assert_eq!(*flaky.deleted.lock().unwrap(), vec!["product".to_owned()]);
        assert_eq!(cache.get("product").await.unwrap(), Some(b"old".to_vec()));
    }
}
