//! Live push: a notification's recipient (and admins watching all) hear of it at
//! once in their open browser tabs, over a WebSocket opened with a one-time ticket.
//!
//! Live push is best effort by nature — a tab that is closed misses it — and the
//! record stays listable. What travels is only which notification, for whom: each
//! socket loads it as its viewer may see it.

use async_trait::async_trait;

use crate::UserId;

use super::NotificationId;

/// Notification `notification_id`, for `user_id`, is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LiveEvent {
    /// The notification.
    pub notification_id: NotificationId,
    /// Its recipient.
    pub user_id: UserId,
}

/// Failures of live push and of the ticket store.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The store or channel cannot be reached.
    #[error("live push cannot reach its store")]
    Unavailable(#[from] crate::Unavailable),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Tells every process holding sockets (every replica) of a new notification.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LivePush: Send + Sync {
    /// Publishes `event`. Errors: `Unavailable`, `Unexpected`.
    async fn publish(&self, event: LiveEvent) -> Result<(), LiveError>;
}

/// One-time tickets that open a live stream: a browser cannot send its bearer
/// token on a WebSocket, so it trades it for a ticket first. A ticket is redeemed
/// once, within its time to live, on any replica.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait StreamTickets: Send + Sync {
    /// A new random ticket that stands for `access_token` for `ttl_seconds`.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn issue(&self, access_token: &str, ttl_seconds: u64) -> Result<String, LiveError>;
    /// The access token `ticket` stands for, if it is valid and unused; it is
    /// used up. Errors: `Unavailable`, `Unexpected`.
    async fn redeem(&self, ticket: &str) -> Result<Option<String>, LiveError>;
}
