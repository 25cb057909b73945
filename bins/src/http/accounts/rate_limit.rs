//! Limits on log-in and registration attempts, per client address and per e-mail
//! address (governor's GCRA, in memory, per process): a burst of `per_minute`
//! attempts, refilled evenly over a minute. Over the limit → 429 with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use poem::Request;

use crate::http::jsonapi::ApiError;

/// Keys kept before forgetting the ones whose limit has fully recovered.
const SHRINK_AT: usize = 10_000;

/// The attempt limits of the auth routes.
pub struct AuthRateLimit {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_email: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl AuthRateLimit {
    /// `per_minute` attempts per client address and per e-mail address.
    pub fn new(per_minute: NonZeroU32) -> Self {
        let quota = Quota::per_minute(per_minute);
        Self {
            by_address: RateLimiter::keyed(quota),
            by_email: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt from the request's client for `email` (compared
    /// case-insensitively); `Err(429)` over either limit.
    pub fn check(&self, request: &Request, email: Option<&str>) -> Result<(), ApiError> {
        if let Some(ip) = request.remote_addr().as_socket_addr().map(|a| a.ip()) {
            self.check_key(&self.by_address, &ip)?;
        }
        if let Some(email) = email {
            self.check_key(&self.by_email, &email.trim().to_lowercase())?;
        }
        Ok(())
    }

    fn check_key<K: std::hash::Hash + Eq + Clone>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> Result<(), ApiError> {
        if limiter.len() > SHRINK_AT {
            limiter.retain_recent();
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let seconds = u32::try_from(wait.as_secs()).unwrap_or(u32::MAX).max(1);
            ApiError::too_many_requests(seconds)
        })
    }
}
