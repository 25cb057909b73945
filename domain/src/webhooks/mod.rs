//! Webhooks: subscriptions of other systems to the order events, and the
//! deliveries made to them, signed as the Standard Webhooks specification says.
//!
//! - [`Webhook`]: a subscription (URL, event types, a `whsec_` secret, the previous
//!   secret while a rotation is in its grace period, enabled or not).
//! - [`WebhookDelivery`]: one event to one subscription, with its attempts. Its
//!   [`MessageId`] (`webhook-id`) derives from the event id, so every attempt, and a
//!   resend after a crash, carries the same id: the receiver's idempotency key.
//! - Ports: [`WebhookRepository`] (subscriptions and deliveries),
//!   [`WebhookSender`] (signs and posts; refuses private targets); new secrets
//!   come from [`SecretGenerator`](crate::secrets::SecretGenerator).

mod delivery;
mod ports;
mod webhook;

pub use delivery::{AttemptRecord, DeliveryStatus, MessageId, WebhookDelivery, WebhookDeliveryId};
pub use ports::{
    AttemptOutcome, SendOutcome, TargetRefused, WebhookChange, WebhookRepository,
    WebhookRepositoryError, WebhookRequest, WebhookSender,
};
#[cfg(feature = "mocks")]
pub use ports::{MockWebhookRepository, MockWebhookSender};
pub use webhook::{
    Webhook, WebhookDescription, WebhookEvents, WebhookId, WebhookSecret, WebhookUrl,
};
