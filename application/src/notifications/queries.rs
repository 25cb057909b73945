//! Reading notifications (owners their own, admins all; another user's answers "not
//! found"), an admin's retry of a failed one, and pruning old records.

use emporium_domain::notifications::{
    Notification, NotificationFilter, NotificationId, NotificationStatus,
};
use emporium_domain::{AccessDenied, Actor, Page, PageRequest};

use super::{DeliverNotifications, NotificationPorts};
use crate::failure::{Failure, UseCaseError};
use crate::orders::queries::{list_scope, sees, viewer};

/// Failures of reading or retrying a notification.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// Not signed in, or not allowed.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such notification, or another user's.
    #[error("There is no notification {0}.")]
    NotFound(NotificationId),
    /// It was sent: there is nothing to retry.
    #[error("The notification was sent; only a failed one can be retried.")]
    AlreadySent,
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for NotificationError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::AlreadySent => Failure::conflict("invalid_transition"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

/// What `actor` is shown of `notification`: a delivery error is for admins only (it
/// may name mail servers).
fn shown(actor: &Actor, mut notification: Notification) -> Notification {
    if actor.ensure_admin().is_err() {
        notification.last_error = None;
    }
    notification
}

/// Lists notifications: a user's own; an admin's all, filtered by status and
/// recipient.
pub struct ListNotifications {
    ports: NotificationPorts,
}

impl ListNotifications {
    /// The use case over its ports.
    pub fn new(ports: NotificationPorts) -> Self {
        Self { ports }
    }

    /// A page of the notifications `actor` may see that match `filter`, newest
    /// first. A user's filter on another recipient matches nothing.
    pub async fn execute(
        &self,
        actor: &Actor,
        filter: NotificationFilter,
        page: PageRequest,
    ) -> Result<Page<Notification>, NotificationError> {
        let Some(user_id) = list_scope(actor, filter.user_id)? else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
                request: page,
            });
        };
        let filter = NotificationFilter { user_id, ..filter };
        let page = self
            .ports
            .notifications
            .list(filter, page)
            .await
            .map_err(|error| anyhow::Error::new(error).context("listing notifications"))?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|notification| shown(actor, notification))
                .collect(),
            ..page
        })
    }
}

/// Reads one notification (its recipient or an admin).
pub struct GetNotification {
    ports: NotificationPorts,
}

impl GetNotification {
    /// The use case over its ports.
    pub fn new(ports: NotificationPorts) -> Self {
        Self { ports }
    }

    /// Notification `id`.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: NotificationId,
    ) -> Result<Notification, NotificationError> {
        let viewer = viewer(actor, false)?;
        let notification = load(&self.ports, id)
            .await?
            .filter(|notification| sees(viewer, notification.user_id))
            .ok_or(NotificationError::NotFound(id))?;
        Ok(shown(actor, notification))
    }
}

async fn load(
    ports: &NotificationPorts,
    id: NotificationId,
) -> Result<Option<Notification>, NotificationError> {
    Ok(ports
        .notifications
        .get(id)
        .await
        .map_err(|error| anyhow::Error::new(error).context("loading the notification"))?)
}

/// Resends a failed notification now (admins): it becomes pending with its attempts
/// reset, and one attempt is made at once. Retrying a pending one answers it as it
/// is (it is on its way); a sent one cannot be retried.
pub struct RetryNotification {
    ports: NotificationPorts,
    deliver: DeliverNotifications,
}

impl RetryNotification {
    /// The use case over its ports.
    pub fn new(ports: NotificationPorts, deliver: DeliverNotifications) -> Self {
        Self { ports, deliver }
    }

    /// Retries notification `id`; returns it after the attempt.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: NotificationId,
    ) -> Result<Notification, NotificationError> {
        actor.ensure_admin()?;
        let current = load(&self.ports, id)
            .await?
            .ok_or(NotificationError::NotFound(id))?;
        match current.status {
            NotificationStatus::Sent => return Err(NotificationError::AlreadySent),
            NotificationStatus::Pending => return Ok(current),
            NotificationStatus::Failed => {}
        }
        let now = self.ports.clock.now();
        let reopened = self
            .ports
            .notifications
            .reopen(id, now)
            .await
            .map_err(|error| anyhow::Error::new(error).context("reopening the notification"))?;
        if reopened.is_some() {
            tracing::info!(notification_id = %id, "notification retried by an admin");
            self.deliver.attempt(id).await?;
        }
        load(&self.ports, id)
            .await?
            .ok_or(NotificationError::NotFound(id))
    }
}

/// Forgets sent and failed notifications older than the retention period.
pub struct PruneNotifications {
    ports: NotificationPorts,
}

impl PruneNotifications {
    /// The use case over its ports.
    pub fn new(ports: NotificationPorts) -> Self {
        Self { ports }
    }

    /// Prunes; returns how many records went.
    pub async fn execute(&self) -> anyhow::Result<u64> {
        let before = self.ports.clock.now() - self.ports.settings.retention;
        self.ports
            .notifications
            .prune(before)
            .await
            .map_err(|error| anyhow::Error::new(error).context("pruning notifications"))
    }
}

/// How many notifications there are in each status (for metrics; no actor: the
/// caller is the server itself).
pub struct CountNotifications {
    ports: NotificationPorts,
}

impl CountNotifications {
    /// The use case over its ports.
    pub fn new(ports: NotificationPorts) -> Self {
        Self { ports }
    }

    /// (status, how many) for every status.
    pub async fn execute(&self) -> anyhow::Result<Vec<(NotificationStatus, u64)>> {
        let mut counts = Vec::with_capacity(NotificationStatus::ALL.len());
        for &status in NotificationStatus::ALL {
            let page = self
                .ports
                .notifications
                .list(
                    NotificationFilter {
                        user_id: None,
                        status: Some(status),
                    },
                    PageRequest::new(1, 1).expect("a valid page"),
                )
                .await
                .map_err(|error| anyhow::Error::new(error).context("counting notifications"))?;
            counts.push((status, page.total));
        }
        Ok(counts)
    }
}
