//! Limits on the auth routes (governor's GCRA, in memory, per process). Over a limit
//! → 429 with `Retry-After`.
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

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use poem::Request;

use crate::http::jsonapi::ApiError;

/// Keys kept before forgetting the ones whose limit has fully recovered.
const SHRINK_AT: usize = 10_000;
/// How many times more failed log-ins an e-mail address may take (from all client
/// addresses together) than one client address may make attempts.
pub const FAILURES_PER_ADDRESS_LIMIT: u32 = 10;

/// The attempt limits of the auth routes.
pub struct AuthRateLimit {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    failures_by_email: DefaultKeyedRateLimiter<String>,
    /// E-mail addresses whose failure budget ran out, and until when.
    locked: Mutex<HashMap<String, Instant>>,
    clock: DefaultClock,
}

impl AuthRateLimit {
    /// `per_minute` attempts per client address; see the module documentation.
    pub fn new(per_minute: NonZeroU32) -> Self {
        let failures = per_minute.saturating_mul(
            NonZeroU32::new(FAILURES_PER_ADDRESS_LIMIT).expect("a non-zero constant"),
        );
        Self {
            by_address: RateLimiter::keyed(Quota::per_minute(per_minute)),
            failures_by_email: RateLimiter::keyed(Quota::per_hour(failures)),
            locked: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt from the request's client address; `Err(429)` over its
    /// limit.
    pub fn check_attempt(&self, request: &Request) -> Result<(), ApiError> {
        let Some(ip) = request.remote_addr().as_socket_addr().map(|a| a.ip()) else {
            return Ok(());
        };
        if self.by_address.len() > SHRINK_AT {
            self.by_address.retain_recent();
        }
        self.by_address
            .check_key(&ip)
            .map_err(|not_until| too_many(not_until.wait_time_from(self.clock.now())))
    }

    /// `Err(429)` while failed log-ins to `email` are over their limit.
    pub fn check_failures(&self, email: &str) -> Result<(), ApiError> {
        let key = normalise(email);
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
    pub fn count_failure(&self, email: &str) {
        let key = normalise(email);
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

fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

fn too_many(wait: Duration) -> ApiError {
    ApiError::too_many_requests(u32::try_from(wait.as_secs()).unwrap_or(u32::MAX).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_lock_an_address_only_past_a_much_higher_limit() {
        let limit = AuthRateLimit::new(NonZeroU32::new(2).unwrap());
        for _ in 0..(2 * FAILURES_PER_ADDRESS_LIMIT) {
            assert!(limit.check_failures("Ada@Example.com").is_ok());
            limit.count_failure("ada@example.com");
        }
        assert!(limit.check_failures("ada@example.com").is_ok());
        limit.count_failure("ada@example.com");
        let locked = limit.check_failures(" ADA@example.com ").unwrap_err();
        assert_eq!(locked.status().as_u16(), 429);
        assert!(limit.check_failures("bob@example.com").is_ok());
    }
}
