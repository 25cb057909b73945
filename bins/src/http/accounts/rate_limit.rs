//! Limits on the auth routes: GCRA, in Redis when it is configured (one atomic
//! script per decision, so N replicas allow together what one allows), else in
//! memory per process (governor). Over a limit → 429 with `Retry-After`. A Redis
//! that fails or is slow (250 ms) never locks users out: the decision falls back to
//! the in-memory limits, and the fallback is logged (at most every 30 s) and shows
//! in `/ready` (the `redis-rate-limits` check, optional).
//!
//! The client address is the connection's peer, or the address a trusted proxy
//! recorded (see [`TrustedProxies`]).
//!
//! - **Per client address**: `per_minute` attempts at register, log-in, refresh and
//!   log-out together (a burst of `per_minute`, refilled evenly over a minute).
//! - **Per e-mail address, failed log-ins only**: a burst of
//!   [`FAILURES_PER_ADDRESS_LIMIT`] × `per_minute` failures, refilled at the same
//!   count per hour. It stops a password being guessed from many client addresses at
//!   once, and only that: one client guessing is stopped by its address limit long
//!   before it, so it cannot lock the account's owner out, and successful log-ins
//!   never count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use emporium_adapters::rate_limits::{Decision, Limit, RedisRateLimits};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use poem::Request;

use crate::http::jsonapi::ApiError;
use crate::http::middleware::client_address::TrustedProxies;

/// How often a fallback to the in-memory limits is logged at most.
const FALLBACK_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// Keys kept before forgetting the ones whose limit has fully recovered.
const SHRINK_AT: usize = 10_000;
/// How many times more failed log-ins an e-mail address may take (from all client
/// addresses together) than one client address may make attempts.
pub const FAILURES_PER_ADDRESS_LIMIT: u32 = 10;

/// The attempt limits of the auth routes.
pub struct AuthRateLimit {
    /// The limits shared by the replicas, when Redis is configured.
    shared: Option<RedisRateLimits>,
    per_minute: NonZeroU32,
    /// Whose `X-Forwarded-For` names the client.
    proxies: TrustedProxies,
    /// When a fallback was last logged.
    fallback_logged: Mutex<Option<Instant>>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    failures_by_email: DefaultKeyedRateLimiter<String>,
    /// E-mail addresses whose failure budget ran out, and until when.
    locked: Mutex<HashMap<String, Instant>>,
    clock: DefaultClock,
}

impl AuthRateLimit {
    /// `per_minute` attempts per client address; see the module documentation.
    pub fn new(per_minute: NonZeroU32) -> Self {
        let failures = failures_per_hour(per_minute);
        Self {
            shared: None,
            per_minute,
            proxies: TrustedProxies::default(),
            fallback_logged: Mutex::new(None),
            by_address: RateLimiter::keyed(Quota::per_minute(per_minute)),
            failures_by_email: RateLimiter::keyed(Quota::per_hour(failures)),
            locked: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    /// The same limits, shared through `shared` (with these in memory as the
    /// fallback).
    pub fn shared(mut self, shared: Option<RedisRateLimits>) -> Self {
        self.shared = shared;
        self
    }

    /// The same limits, with the client address taken from `proxies`.
    pub fn behind(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// Logs a failed shared decision (at most every [`FALLBACK_LOG_INTERVAL`]).
    fn fell_back(&self, error: &anyhow::Error) {
        let mut logged = self
            .fallback_logged
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if logged.is_none_or(|at| at.elapsed() > FALLBACK_LOG_INTERVAL) {
            *logged = Some(Instant::now());
            tracing::warn!(
                error = format!("{error:#}"),
                "the shared rate limits in Redis failed: each replica limits on its own meanwhile"
            );
        }
    }

    /// Counts one attempt from the request's client address; `Err(429)` over its
    /// limit.
    pub async fn check_attempt(&self, request: &Request) -> Result<(), ApiError> {
        let Some(ip) = self.proxies.client_of(request) else {
            return Ok(());
        };
        if let Some(shared) = &self.shared {
            let limit = Limit {
                count: self.per_minute.get(),
                period: Duration::from_secs(60),
            };
            match shared.check(&format!("addr:{ip}"), limit).await {
                Ok(Decision::Allowed) => return Ok(()),
                Ok(Decision::Refused(wait)) => return Err(too_many(wait)),
                Err(error) => self.fell_back(&error),
            }
        }
        if self.by_address.len() > SHRINK_AT {
            self.by_address.retain_recent();
        }
        self.by_address
            .check_key(&ip)
            .map_err(|not_until| too_many(not_until.wait_time_from(self.clock.now())))
    }

    /// `Err(429)` while failed log-ins to `email` are over their limit.
    pub async fn check_failures(&self, email: &str) -> Result<(), ApiError> {
        let key = normalise(email);
        if let Some(shared) = &self.shared {
            match shared.locked_for(&format!("lock:{key}")).await {
                Ok(Some(wait)) => return Err(too_many(wait)),
                Ok(None) => return Ok(()),
                Err(error) => self.fell_back(&error),
            }
        }
        let mut locked = self.locked.lock().unwrap_or_else(|p| p.into_inner());
        match locked.get(&key) {
            Some(until) if *until > Instant::now() => {
                Err(too_many(until.saturating_duration_since(Instant::now())))
            }
            Some(_) => {
                locked.remove(&key);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records a failed log-in to `email`.
    pub async fn count_failure(&self, email: &str) {
        let key = normalise(email);
        if let Some(shared) = &self.shared {
            let limit = Limit {
                count: failures_per_hour(self.per_minute).get(),
                period: Duration::from_secs(3600),
            };
            match shared
                .check_or_lock(&format!("fail:{key}"), &format!("lock:{key}"), limit)
                .await
            {
                Ok(_) => return,
                Err(error) => self.fell_back(&error),
            }
        }
        if self.failures_by_email.len() > SHRINK_AT {
            self.failures_by_email.retain_recent();
        }
        if let Err(not_until) = self.failures_by_email.check_key(&key) {
            let wait = not_until.wait_time_from(self.clock.now());
            let mut locked = self.locked.lock().unwrap_or_else(|p| p.into_inner());
            if locked.len() > SHRINK_AT {
                let now = Instant::now();
                locked.retain(|_, until| *until > now);
            }
            locked.insert(key, Instant::now() + wait);
        }
    }
}

/// Failed log-ins an e-mail address may take per hour.
fn failures_per_hour(per_minute: NonZeroU32) -> NonZeroU32 {
    per_minute
        .saturating_mul(NonZeroU32::new(FAILURES_PER_ADDRESS_LIMIT).expect("a non-zero constant"))
}

fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

fn too_many(wait: Duration) -> ApiError {
    ApiError::too_many_requests(u32::try_from(wait.as_secs()).unwrap_or(u32::MAX).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_lock_an_address_only_past_a_much_higher_limit() {
        let limit = AuthRateLimit::new(NonZeroU32::new(2).unwrap());
        for _ in 0..(2 * FAILURES_PER_ADDRESS_LIMIT) {
            assert!(limit.check_failures("Ada@Example.com").await.is_ok());
            limit.count_failure("ada@example.com").await;
        }
        assert!(limit.check_failures("ada@example.com").await.is_ok());
        limit.count_failure("ada@example.com").await;
        let locked = limit.check_failures(" ADA@example.com ").await.unwrap_err();
        assert_eq!(locked.status().as_u16(), 429);
        assert!(limit.check_failures("bob@example.com").await.is_ok());
    }
}
