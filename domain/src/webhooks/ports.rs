//! The webhook ports.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::orders::EventType;
use crate::{Page, PageRequest};

use super::{
    AttemptRecord, MessageId, Webhook, WebhookDelivery, WebhookDeliveryId, WebhookDescription,
    WebhookEvents, WebhookId, WebhookSecret, WebhookUrl,
};

/// Failures of the webhook store.
#[derive(Debug, thiserror::Error)]
pub enum WebhookRepositoryError {
    /// The store cannot be reached.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// An admin's change to a subscription: each `Some` replaces that field. Enabling a
/// subscription forgets its failures and why it was disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookChange {
    /// A new URL.
    pub url: Option<WebhookUrl>,
    /// New event types.
    pub events: Option<WebhookEvents>,
    /// A new description.
    pub description: Option<WebhookDescription>,
    /// Enabled or not.
    pub enabled: Option<bool>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What an attempt decided for its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Delivered: the subscription's failures reset.
    Succeeded,
    /// Not delivered; try again at `at`.
    Retry {
        /// When.
        at: DateTime<Utc>,
    },
    /// Given up: the subscription counts one more failed delivery, and is disabled
    /// when `disable` says why (410 Gone) or when its failures in a row reach the
    /// limit given to [`WebhookRepository::finish_delivery`].
    Failed {
        /// Why the subscription must be disabled now, if it must.
        disable: Option<String>,
    },
}

/// Stores subscriptions and deliveries. Deliveries are attempted only after a
/// [`claim_delivery`](Self::claim_delivery), a conditional update one worker wins.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookRepository: Send + Sync {
    /// Stores a new subscription. Errors: `Unavailable`, `Unexpected`.
    async fn create(&self, webhook: &Webhook) -> Result<(), WebhookRepositoryError>;
    /// The subscription, if any. Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, id: WebhookId) -> Result<Option<Webhook>, WebhookRepositoryError>;
    /// A page of subscriptions, newest first. Errors: `Unavailable`, `Unexpected`.
    async fn list(&self, page: PageRequest) -> Result<Page<Webhook>, WebhookRepositoryError>;
    /// Applies `change`; `None` when there is no such subscription.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn update(
        &self,
        id: WebhookId,
        change: &WebhookChange,
    ) -> Result<Option<Webhook>, WebhookRepositoryError>;
    /// Deletes the subscription and its deliveries; whether it existed.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn delete(&self, id: WebhookId) -> Result<bool, WebhookRepositoryError>;
    /// Makes `secret` the current secret; the current one keeps signing until
    /// `previous_until`. `None` when there is no such subscription.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn rotate_secret(
        &self,
        id: WebhookId,
        secret: &WebhookSecret,
        previous_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Webhook>, WebhookRepositoryError>;
    /// The enabled subscriptions to `event_type`. Errors: `Unavailable`, `Unexpected`.
    async fn subscribed(
        &self,
        event_type: EventType,
    ) -> Result<Vec<Webhook>, WebhookRepositoryError>;

    /// Stores `delivery` unless one exists for its subscription and event, and
    /// returns the stored one. Errors: `Unavailable`, `Unexpected`.
    async fn record_delivery(
        &self,
        delivery: &WebhookDelivery,
    ) -> Result<WebhookDelivery, WebhookRepositoryError>;
    /// The delivery, if any. Errors: `Unavailable`, `Unexpected`.
    async fn delivery(
        &self,
        id: WebhookDeliveryId,
    ) -> Result<Option<WebhookDelivery>, WebhookRepositoryError>;
    /// A page of a subscription's deliveries, newest first.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn deliveries(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> Result<Page<WebhookDelivery>, WebhookRepositoryError>;
    /// Up to `limit` pending deliveries due at `now` to enabled subscriptions,
    /// oldest due first. Errors: `Unavailable`, `Unexpected`.
    async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WebhookDeliveryId>, WebhookRepositoryError>;
    /// Starts an attempt: if the delivery is pending and due and its subscription
    /// enabled, counts the attempt, moves its next attempt to `lease_until`, and
    /// returns it with its subscription; else `None`.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn claim_delivery(
        &self,
        id: WebhookDeliveryId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<(WebhookDelivery, Webhook)>, WebhookRepositoryError>;
    /// Records attempt number `attempts` (appended to the log) and what it decided
    /// (see [`AttemptOutcome`]); nothing changes if another attempt was claimed
    /// since. Returns why the subscription was disabled, when this disabled it.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn finish_delivery(
        &self,
        id: WebhookDeliveryId,
        attempts: u32,
        record: &AttemptRecord,
        outcome: &AttemptOutcome,
        max_consecutive_failures: u32,
    ) -> Result<Option<String>, WebhookRepositoryError>;
    /// Makes a succeeded or failed delivery pending again, due at `now`, attempts
    /// reset (a manual redelivery: same `webhook-id`); `None` when it is pending or
    /// missing. Errors: `Unavailable`, `Unexpected`.
    async fn redeliver(
        &self,
        id: WebhookDeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookDelivery>, WebhookRepositoryError>;
    /// How many deliveries there are in each status (absent statuses: none).
    /// Errors: `Unavailable`, `Unexpected`.
    async fn delivery_counts(
        &self,
    ) -> Result<Vec<(super::DeliveryStatus, u64)>, WebhookRepositoryError>;
    /// Forgets succeeded and failed deliveries last changed before `before`.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn prune_deliveries(&self, before: DateTime<Utc>) -> Result<u64, WebhookRepositoryError>;
}

/// A target the sender will not call (a private, loopback or link-local address,
/// or a name that resolves to one or to nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TargetRefused(pub String);

/// One signed POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Where.
    pub url: WebhookUrl,
    /// The `webhook-id`.
    pub message_id: MessageId,
    /// The `webhook-timestamp` (this attempt's time).
    pub timestamp: DateTime<Utc>,
    /// The body.
    pub body: String,
    /// The secrets to sign with (one signature each in `webhook-signature`).
    pub secrets: Vec<WebhookSecret>,
}

/// How a POST went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutcome {
    /// The receiver's status code, when it answered.
    pub status_code: Option<u16>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// What went wrong before or instead of an answer (a refused target, a
    /// timeout, a connection error).
    pub error: Option<String>,
    /// The receiver's `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
}

/// Signs and posts webhook deliveries (Standard Webhooks), refusing targets that
/// are not public unless configured otherwise; follows no redirect.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Whether `url` may be called now (its host resolved and checked).
    async fn check_target(&self, url: &WebhookUrl) -> Result<(), TargetRefused>;
    /// Posts `request`.
    async fn send(&self, request: &WebhookRequest) -> SendOutcome;
}
