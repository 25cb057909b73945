//! HTTP clients for lookups between Emporium services: the catalog lookup inventory
//! makes ([`HttpProductCatalog`]), the stock removal the catalog asks for when it
//! deletes a product ([`HttpProductStock`]), and the orders service's stock
//! reservations ([`HttpStockReservations`]).
//!
//! Every call sends `Accept: application/vnd.api+json`, the service API key as
//! `X-API-Key`, and `X-Request-ID`: the id of the request being served
//! ([`current_request_id`](crate::request_context::current_request_id)) or a fresh one.
//! Each attempt is bounded by [`HttpClientConfig::timeout`]; timeouts, connection
//! failures and 5xx answers are retried with exponential backoff and jitter, at most
//! [`HttpClientConfig::max_retries`] times; any other answer is final. Redirects are
//! not followed (they would carry the API key elsewhere).
//!
//! Building a client needs a rustls crypto provider: if the process has not
//! installed one, the ring provider is installed (the only one Emporium uses).

use std::time::Duration;

mod catalog;
mod client;
mod reservations;
mod stock;

pub use catalog::HttpProductCatalog;
pub use reservations::HttpStockReservations;
pub use stock::HttpProductStock;

/// Where a service lives and how patiently to call it.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpClientConfig {
    /// The service's base URL, e.g. `http://catalog:8080` (a trailing `/` is ignored);
    /// request paths such as `/v1/products/{id}` are appended to it.
    pub base_url: String,
    /// Sent as `X-API-Key` (never logged; redacted from `Debug`).
    pub api_key: String,
    /// The most one attempt may take, connecting and reading the whole body included.
    /// Default 2 s.
    pub timeout: Duration,
    /// How many times a failed attempt is retried (so at most `1 + max_retries`
    /// attempts). Default 3.
    pub max_retries: u32,
    /// The wait before the first retry; each later wait doubles, capped at
    /// [`HttpClientConfig::MAX_BACKOFF`], and each gets a random jitter of up to its
    /// own length. Default 100 ms.
    pub initial_backoff: Duration,
}

impl HttpClientConfig {
    /// The default [`timeout`](Self::timeout): 2 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
    /// The default [`max_retries`](Self::max_retries): 3.
    pub const DEFAULT_MAX_RETRIES: u32 = 3;
    /// The default [`initial_backoff`](Self::initial_backoff): 100 ms.
    pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
    /// The longest wait between two attempts before jitter (unless
    /// [`initial_backoff`](Self::initial_backoff) is longer still).
    pub const MAX_BACKOFF: Duration = Duration::from_secs(1);

    /// A configuration for the service at `base_url` with the default timeout,
    /// retries and backoff.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: api_key.into(),
            timeout: Self::DEFAULT_TIMEOUT,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            initial_backoff: Self::DEFAULT_INITIAL_BACKOFF,
        }
    }

    /// The longest wait between two attempts before jitter.
    fn max_backoff(&self) -> Duration {
        Self::MAX_BACKOFF.max(self.initial_backoff)
    }

    /// The longest one lookup can take before it gives up: every attempt timing out,
    /// plus every backoff at its largest (jitter included). With the defaults:
    /// 4 × 2 s + 2 × (0.1 + 0.2 + 0.4) s = 9.4 s.
    pub fn worst_case_duration(&self) -> Duration {
        let attempts = self.max_retries.saturating_add(1);
        let mut total = self.timeout.saturating_mul(attempts);
        let mut backoff = self.initial_backoff;
        for _ in 0..self.max_retries {
            // Jitter adds up to one more delay.
            total = total.saturating_add(backoff.saturating_mul(2));
            backoff = backoff.saturating_mul(2).min(self.max_backoff());
        }
        total
    }
}

impl std::fmt::Debug for HttpClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .finish()
    }
}
