//! The notification record: one message to one user through one channel, and its
//! delivery state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::UserId;
use crate::orders::{EventId, EventType, OrderId};

use super::OutgoingMail;

/// Identifies a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotificationId(pub Uuid);

impl std::fmt::Display for NotificationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How a notification reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// An email to the address the order snapshotted.
    Email,
    /// Live push only (an event no email covers): recorded as sent when published.
    Push,
    /// For the shop's administrators (a webhook subscription was disabled): recorded
    /// for every admin at once (recipient [`Notification::ADMINS`]), shown to admins
    /// only, and pushed to their open streams.
    Admin,
}

impl Channel {
    /// The channel as stored and shown (`email`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Push => "push",
            Self::Admin => "admin",
        }
    }

    /// The channel spelled `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(Self::Email),
            "push" => Some(Self::Push),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// Where a notification's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationStatus {
    /// Not delivered yet; an attempt is due at `next_attempt_at`.
    Pending,
    /// Delivered (handed to the mail server).
    Sent,
    /// Every attempt failed; an admin may retry it.
    Failed,
}

impl NotificationStatus {
    /// Every status.
    pub const ALL: &'static [Self] = &[Self::Pending, Self::Sent, Self::Failed];

    /// The status as stored and shown (`pending`, `sent`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
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

impl std::fmt::Display for NotificationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message to one user about one event, with its delivery state. The message
/// itself is kept as rendered, so a retry sends exactly what the first attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Identity.
    pub id: NotificationId,
    /// The recipient.
    pub user_id: UserId,
    /// The order it is about.
    pub order_id: OrderId,
    /// How it travels.
    pub channel: Channel,
    /// The event it tells of.
    pub event_id: EventId,
    /// That event's type.
    pub event_type: EventType,
    /// The message (its key is unique: one record per event, recipient and channel).
    /// For live push only its subject and text are shown.
    pub mail: OutgoingMail,
    /// Delivery state.
    pub status: NotificationStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// A new pending email, due now.
    #[allow(clippy::too_many_arguments)]
    pub fn email(
        id: NotificationId,
        user_id: UserId,
        order_id: OrderId,
        event_id: EventId,
        event_type: EventType,
        mail: OutgoingMail,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            user_id,
            order_id,
            channel: Channel::Email,
            event_id,
            event_type,
            mail,
            status: NotificationStatus::Pending,
            attempts: 0,
            last_error: None,
            next_attempt_at: Some(now),
            created_at: now,
            updated_at: now,
            sent_at: None,
        }
    }
}

impl Notification {
    /// The recipient of admin notifications: every administrator.
    pub const ADMINS: UserId = UserId(Uuid::nil());

    /// A notification for the administrators, recorded (as sent) `now`.
    pub fn for_admins(
        id: NotificationId,
        order_id: OrderId,
        event_id: EventId,
        event_type: EventType,
        mail: OutgoingMail,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            channel: Channel::Admin,
            ..Self::push(id, Self::ADMINS, order_id, event_id, event_type, mail, now)
        }
    }

    /// A push-only notification, sent (published) `now`.
    pub fn push(
        id: NotificationId,
        user_id: UserId,
        order_id: OrderId,
        event_id: EventId,
        event_type: EventType,
        mail: OutgoingMail,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            channel: Channel::Push,
            status: NotificationStatus::Sent,
            next_attempt_at: None,
            sent_at: Some(now),
            ..Self::email(id, user_id, order_id, event_id, event_type, mail, now)
        }
    }
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Delivered.
    Sent {
        /// When.
        at: DateTime<Utc>,
    },
    /// Not delivered.
    Failed {
        /// Why (for the record).
        error: String,
        /// When to try again; `None` when no attempt is left (the notification
        /// becomes `failed`).
        retry_at: Option<DateTime<Utc>>,
        /// When the attempt ended.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_channels_round_trip_through_text() {
        for &status in NotificationStatus::ALL {
            assert_eq!(NotificationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(NotificationStatus::parse("queued"), None);
        assert_eq!(
            Channel::parse(Channel::Email.as_str()),
            Some(Channel::Email)
        );
        assert_eq!(Channel::parse("sms"), None);
    }
}
