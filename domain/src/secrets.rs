//! Random secrets the application hands out: webhook signing secrets and the
//! single-use tokens mailed to accounts.

use crate::webhooks::WebhookSecret;

/// Makes new random secrets.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait SecretGenerator: Send + Sync {
    /// A new `whsec_` webhook signing secret.
    fn webhook_secret(&self) -> WebhookSecret;
    /// A new URL-safe single-use token (at least 256 random bits).
    fn one_time_token(&self) -> String;
}
