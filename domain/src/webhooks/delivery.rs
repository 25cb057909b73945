//! One event delivered to one subscription, and its attempts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::orders::{EventId, EventType};

use super::WebhookId;

/// Identifies a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookDeliveryId(pub Uuid);

impl std::fmt::Display for WebhookDeliveryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A delivery's `webhook-id`: `msg_` and the event id. Every attempt, a manual
/// redelivery and a resend after a crash carry it, so receivers can drop repeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageId(String);

impl MessageId {
    /// The id of the messages telling of `event`.
    pub fn for_event(event: EventId) -> Self {
        Self(format!("msg_{}", event.0.simple()))
    }

    /// An id read back from storage.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not delivered yet; an attempt is due at `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every attempt failed, or the receiver answered 410 Gone.
    Failed,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: &'static [Self] = &[Self::Pending, Self::Succeeded, Self::Failed];

    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// The status spelled `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|status| status.as_str() == text)
    }
}

/// One attempt, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    /// Its number (1 for the first).
    pub attempt: u32,
    /// When it ended.
    pub at: DateTime<Utc>,
    /// The receiver's status code, when it answered.
    pub status_code: Option<u16>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// What went wrong, when something did.
    pub error: Option<String>,
}

/// One event to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Identity.
    pub id: WebhookDeliveryId,
    /// The subscription.
    pub webhook_id: WebhookId,
    /// The event.
    pub event_id: EventId,
    /// Its type.
    pub event_type: EventType,
    /// The `webhook-id` header.
    pub message_id: MessageId,
    /// The body posted: `{"type":…,"timestamp":…,"data":…}`.
    pub payload: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made (since the last manual redelivery).
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The latest attempts, oldest first (the log keeps the last 25).
    pub log: Vec<AttemptRecord>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When a receiver first answered 2xx.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl WebhookDelivery {
    /// Attempts the log keeps.
    pub const LOG_LENGTH: usize = 25;

    /// A new pending delivery, due now.
    pub fn new(
        id: WebhookDeliveryId,
        webhook_id: WebhookId,
        event_id: EventId,
        event_type: EventType,
        payload: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            webhook_id,
            event_id,
            event_type,
            message_id: MessageId::for_event(event_id),
            payload,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            log: Vec::new(),
            created_at: now,
            updated_at: now,
            delivered_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_id_derives_from_the_event() {
        let event = EventId(Uuid::from_u128(0xabc));
        assert_eq!(
            MessageId::for_event(event).as_str(),
            "msg_00000000000000000000000000000abc"
        );
        for &status in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
    }
}
