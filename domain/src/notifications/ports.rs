//! The notification store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::UserId;
use crate::{Page, PageRequest};

use super::{DeliveryOutcome, Notification, NotificationId, NotificationStatus};

/// Which notifications a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotificationFilter {
    /// Only this recipient's.
    pub user_id: Option<UserId>,
    /// Only those in this status.
    pub status: Option<NotificationStatus>,
}

/// Failures of the notification store.
#[derive(Debug, thiserror::Error)]
pub enum NotificationRepositoryError {
    /// The store cannot be reached.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores notifications and their delivery state. Several workers (replicas) may
/// deliver at once: an attempt starts only by [`claim`](Self::claim), a conditional
/// update only one of them wins.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait NotificationRepository: Send + Sync {
    /// Stores `notification` unless one with its message key exists, and returns the
    /// stored one (the new record, or the one a previous delivery of the same event
    /// made). Errors: `Unavailable`, `Unexpected`.
    async fn record(
        &self,
        notification: &Notification,
    ) -> Result<Notification, NotificationRepositoryError>;

    /// The notification, if any. Errors: `Unavailable`, `Unexpected`.
    async fn get(
        &self,
        id: NotificationId,
    ) -> Result<Option<Notification>, NotificationRepositoryError>;

    /// A page of notifications, newest first. Errors: `Unavailable`, `Unexpected`.
    async fn list(
        &self,
        filter: NotificationFilter,
        page: PageRequest,
    ) -> Result<Page<Notification>, NotificationRepositoryError>;

    /// Up to `limit` pending notifications due at `now`, oldest due first.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<NotificationId>, NotificationRepositoryError>;

    /// Starts an attempt: if `id` is pending and due at `now`, counts the attempt and
    /// moves its next attempt to `lease_until` (so no other worker starts one
    /// meanwhile, and a worker that dies is replaced then), and returns it; else
    /// `None`. Errors: `Unavailable`, `Unexpected`.
    async fn claim(
        &self,
        id: NotificationId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Notification>, NotificationRepositoryError>;

    /// Records how the attempt claimed as `attempts` ended: sent, pending again
    /// (`retry_at`), or failed. Does nothing if another attempt was claimed since.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn finish(
        &self,
        id: NotificationId,
        attempts: u32,
        outcome: &DeliveryOutcome,
    ) -> Result<(), NotificationRepositoryError>;

    /// Makes a failed notification pending again, due at `now`, with no attempt
    /// counted, and returns it; `None` when it is not failed.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn reopen(
        &self,
        id: NotificationId,
        now: DateTime<Utc>,
    ) -> Result<Option<Notification>, NotificationRepositoryError>;

    /// Forgets sent and failed notifications last changed before `before`; returns
    /// how many. Errors: `Unavailable`, `Unexpected`.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, NotificationRepositoryError>;
}
