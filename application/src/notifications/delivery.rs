//! Delivering notifications: one attempt at a time per notification (claimed with a
//! lease, so replicas never send the same one at once), retried with the configured
//! delays, `failed` after the last attempt.

use emporium_domain::notifications::{
    DeliveryOutcome, Notification, NotificationId, NotificationStatus,
};

use super::NotificationPorts;

/// The longest error kept on a record.
const MAX_ERROR_LENGTH: usize = 500;

/// Delivers notifications (see the [module docs](self)).
#[derive(Clone)]
pub struct DeliverNotifications {
    ports: NotificationPorts,
}

impl DeliverNotifications {
    /// The use case over its ports.
    pub fn new(ports: NotificationPorts) -> Self {
        Self { ports }
    }

    /// Makes one attempt at `id` if it is pending and due and no other worker holds
    /// it; returns its status afterwards, or `None` when no attempt was made.
    /// Errors: the store failed (a mail that cannot be sent is recorded, not an
    /// error).
    pub async fn attempt(&self, id: NotificationId) -> anyhow::Result<Option<NotificationStatus>> {
        let ports = &self.ports;
        let now = ports.clock.now();
        let lease_until = now + ports.settings.attempt_lease;
        let Some(claimed) = ports
            .notifications
            .claim(id, now, lease_until)
            .await
            .map_err(|error| anyhow::Error::new(error).context("claiming the notification"))?
        else {
            return Ok(None);
        };
        let outcome = self.send(&claimed).await;
        let status = match &outcome {
            DeliveryOutcome::Sent { .. } => NotificationStatus::Sent,
            DeliveryOutcome::Failed { retry_at: None, .. } => NotificationStatus::Failed,
            DeliveryOutcome::Failed { .. } => NotificationStatus::Pending,
        };
        ports
            .notifications
            .finish(id, claimed.attempts, &outcome)
            .await
            .map_err(|error| anyhow::Error::new(error).context("recording the attempt"))?;
        Ok(Some(status))
    }

    async fn send(&self, notification: &Notification) -> DeliveryOutcome {
        let ports = &self.ports;
        let result = ports.mailer.send(&notification.mail).await;
        let at = ports.clock.now();
        match result {
            Ok(()) => {
                tracing::info!(
                    notification_id = %notification.id,
                    event_id = %notification.event_id,
                    event_type = %notification.event_type,
                    "notification sent"
                );
                DeliveryOutcome::Sent { at }
            }
            Err(error) => {
                let attempts = notification.attempts;
                let retry_at = (attempts < ports.settings.max_attempts)
                    .then(|| at + ports.settings.delay_after(attempts));
                let mut error = format!("{:#}", anyhow::Error::new(error));
                if error.len() > MAX_ERROR_LENGTH {
                    let mut end = MAX_ERROR_LENGTH;
                    while !error.is_char_boundary(end) {
                        end -= 1;
                    }
                    error.truncate(end);
                }
                match retry_at {
                    Some(retry_at) => tracing::warn!(
                        notification_id = %notification.id,
                        attempts,
                        %retry_at,
                        error,
                        "notification not sent; it will be retried"
                    ),
                    None => tracing::error!(
                        notification_id = %notification.id,
                        attempts,
                        error,
                        "notification failed after its last attempt; an admin may retry it"
                    ),
                }
                DeliveryOutcome::Failed {
                    error,
                    retry_at,
                    at,
                }
            }
        }
    }

    /// Makes an attempt at up to `limit` due notifications; returns how many were
    /// attempted. Errors: the store failed.
    pub async fn run_due(&self, limit: u32) -> anyhow::Result<usize> {
        let now = self.ports.clock.now();
        let due = self
            .ports
            .notifications
            .due(now, limit)
            .await
            .map_err(|error| anyhow::Error::new(error).context("listing due notifications"))?;
        let mut attempted = 0;
        for id in due {
            if self.attempt(id).await?.is_some() {
                attempted += 1;
            }
        }
        Ok(attempted)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use emporium_domain::accounts::Email;
    use emporium_domain::notifications::{
        MailerError, MessageKey, MockMailTemplates, MockMailer, MockNotificationRepository,
        OutgoingMail, RenderedMail,
    };
    use emporium_domain::orders::{EventId, EventType, OrderId};
    use emporium_domain::{MockIdGenerator, UserId};
    use uuid::Uuid;

    use super::*;
    use crate::catalog::test_support::{clock, now};
    use crate::notifications::NotificationSettings;

    fn claimed(attempts: u32) -> Notification {
        let mut notification = Notification::email(
            NotificationId(Uuid::from_u128(5)),
            UserId(Uuid::from_u128(2)),
            OrderId(Uuid::from_u128(7)),
            EventId(Uuid::from_u128(42)),
            EventType::OrderCreated,
            OutgoingMail {
                key: MessageKey::parse("k").unwrap(),
                to: Email::parse("ada@example.com").unwrap(),
                content: RenderedMail {
                    subject: "s".to_owned(),
                    html: "h".to_owned(),
                    text: "t".to_owned(),
                },
            },
            now(),
        );
        notification.attempts = attempts;
        notification
    }

    fn deliver(attempts: u32, expected: Option<NotificationStatus>) -> DeliverNotifications {
        let mut store = MockNotificationRepository::new();
        store
            .expect_claim()
            .returning(move |_, _, _| Ok(Some(claimed(attempts))));
        store
            .expect_finish()
            .withf(move |_, counted, outcome| {
                let status = match outcome {
                    DeliveryOutcome::Sent { .. } => NotificationStatus::Sent,
                    DeliveryOutcome::Failed { retry_at: None, .. } => NotificationStatus::Failed,
                    DeliveryOutcome::Failed { .. } => NotificationStatus::Pending,
                };
                *counted == attempts && Some(status) == expected
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut mailer = MockMailer::new();
        mailer
            .expect_send()
            .returning(|_| Err(MailerError::Rejected("550 no such user".to_owned())));
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(Uuid::now_v7);
        DeliverNotifications::new(NotificationPorts {
            notifications: Arc::new(store),
            mailer: Arc::new(mailer),
            templates: Arc::new(MockMailTemplates::new()),
            live: Arc::new(emporium_domain::notifications::MockLivePush::new()),
            tickets: Arc::new(emporium_domain::notifications::MockStreamTickets::new()),
            clock: clock(),
            ids: Arc::new(ids),
            settings: NotificationSettings::default(),
        })
    }

    /// Three attempts: after the first and second a retry is scheduled, after the
    /// third the notification is failed.
    #[tokio::test]
    async fn the_third_failed_attempt_fails_the_notification() {
        let id = NotificationId(Uuid::from_u128(5));
        for (attempts, status) in [
            (1, NotificationStatus::Pending),
            (2, NotificationStatus::Pending),
            (3, NotificationStatus::Failed),
        ] {
            let outcome = deliver(attempts, Some(status)).attempt(id).await.unwrap();
            assert_eq!(outcome, Some(status), "attempt {attempts}");
        }
    }

    /// A notification another worker holds (or that is not due) is left alone.
    #[tokio::test]
    async fn a_notification_held_elsewhere_is_left_alone() {
        let mut store = MockNotificationRepository::new();
        store.expect_claim().returning(|_, _, _| Ok(None));
        store.expect_finish().never();
        let mut mailer = MockMailer::new();
        mailer.expect_send().never();
        let deliver = DeliverNotifications::new(NotificationPorts {
            notifications: Arc::new(store),
            mailer: Arc::new(mailer),
            templates: Arc::new(MockMailTemplates::new()),
            live: Arc::new(emporium_domain::notifications::MockLivePush::new()),
            tickets: Arc::new(emporium_domain::notifications::MockStreamTickets::new()),
            clock: clock(),
            ids: Arc::new(MockIdGenerator::new()),
            settings: NotificationSettings::default(),
        });
        assert_eq!(
            deliver
                .attempt(NotificationId(Uuid::from_u128(5)))
                .await
                .unwrap(),
            None
        );
    }
}
