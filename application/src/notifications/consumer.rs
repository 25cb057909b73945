//! The consumer group `notifications`: tells the buyer of their order's events as
//! design §6's table says (see [`who_is_told`]).
//!
//! Idempotent by event id: the notification is recorded under a message key derived
//! from the event and the recipient before anything is sent, so a redelivered event
//! finds its record (and sends nothing new once it was sent). A crash between the
//! send and the record of it sends the same message again — same `Message-ID`.

use async_trait::async_trait;
use emporium_domain::notifications::{
    MailContent, MessageKey, Notification, NotificationId, NotificationStatus, OutgoingMail,
    who_is_told,
};
use emporium_domain::orders::{DomainEvent, EventHandler};

use super::{DeliverNotifications, NotificationPorts};

/// The consumer (see the [module docs](self)).
pub struct NotifyBuyers {
    ports: NotificationPorts,
    deliver: DeliverNotifications,
}

impl NotifyBuyers {
    /// The consumer group's name.
    pub const GROUP: &'static str = "notifications";

    /// The consumer over its ports; it makes the first attempt with `deliver`.
    pub fn new(ports: NotificationPorts, deliver: DeliverNotifications) -> Self {
        Self { ports, deliver }
    }
}

#[async_trait]
impl EventHandler for NotifyBuyers {
    async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error> {
        let Some(mail) = who_is_told::email_for(event.event_type) else {
            return Ok(());
        };
        let ports = &self.ports;
        let data = &event.data;
        let content = ports
            .templates
            .render(&MailContent::Order {
                mail,
                data: data.clone(),
            })
            .map_err(|error| {
                error.context(format!("rendering the mail for {}", event.event_type))
            })?;
        let notification = Notification::email(
            NotificationId(ports.ids.new_id()),
            data.user_id,
            data.order_id,
            event.id,
            event.event_type,
            OutgoingMail {
                key: MessageKey::for_event(event.id, data.user_id),
                to: data.email.clone(),
                content,
            },
            ports.clock.now(),
        );
        let stored = ports
            .notifications
            .record(&notification)
            .await
            .map_err(|error| anyhow::Error::new(error).context("recording the notification"))?;
        if stored.status == NotificationStatus::Pending {
            // The first attempt now; retries are the delivery task's.
            self.deliver.attempt(stored.id).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use chrono::TimeDelta;
    use emporium_domain::notifications::{
        DeliveryOutcome, MockMailTemplates, MockMailer, MockNotificationRepository, RenderedMail,
    };
    use emporium_domain::orders::{EventData, EventId, EventType, OrderStatus};
    use emporium_domain::{MockIdGenerator, Unavailable};
    use uuid::Uuid;

    use super::*;
    use crate::catalog::test_support::{clock, now};
    use crate::notifications::NotificationSettings;
    use crate::orders::test_support::order;

    fn event(kind: EventType) -> DomainEvent {
        DomainEvent {
            id: EventId(Uuid::from_u128(42)),
            event_type: kind,
            timestamp: now(),
            data: EventData::about(&order(OrderStatus::Pending)),
        }
    }

    fn templates() -> MockMailTemplates {
        let mut templates = MockMailTemplates::new();
        templates.expect_render().returning(|_| {
            Ok(RenderedMail {
                subject: "Your order".to_owned(),
                html: "<p>Thanks</p>".to_owned(),
                text: "Thanks".to_owned(),
            })
        });
        templates
    }

    /// A store that keeps one record, as the SQL adapter does by message key.
    fn store(outcomes: Arc<Mutex<Vec<DeliveryOutcome>>>) -> MockNotificationRepository {
        let kept: Arc<Mutex<Option<Notification>>> = Arc::default();
        let mut store = MockNotificationRepository::new();
        let record = kept.clone();
        store.expect_record().returning(move |notification| {
            let mut kept = record.lock().unwrap();
            Ok(kept.get_or_insert_with(|| notification.clone()).clone())
        });
        let claim = kept.clone();
        store.expect_claim().returning(move |_, now, lease| {
            let mut kept = claim.lock().unwrap();
            let notification = kept.as_mut().unwrap();
            if notification.status != NotificationStatus::Pending
                || notification.next_attempt_at.is_some_and(|due| due > now)
            {
                return Ok(None);
            }
            notification.attempts += 1;
            notification.next_attempt_at = Some(lease);
            Ok(Some(notification.clone()))
        });
        let finish = kept;
        store.expect_finish().returning(move |_, _, outcome| {
            let mut kept = finish.lock().unwrap();
            let notification = kept.as_mut().unwrap();
            match outcome {
                DeliveryOutcome::Sent { at } => {
                    notification.status = NotificationStatus::Sent;
                    notification.sent_at = Some(*at);
                }
                DeliveryOutcome::Failed { retry_at, .. } => {
                    notification.status = match retry_at {
                        Some(_) => NotificationStatus::Pending,
                        None => NotificationStatus::Failed,
                    };
                    notification.next_attempt_at = *retry_at;
                }
            }
            outcomes.lock().unwrap().push(outcome.clone());
            Ok(())
        });
        store
    }

    fn consumer(store: MockNotificationRepository, mailer: MockMailer) -> NotifyBuyers {
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(Uuid::now_v7);
        let ports = NotificationPorts {
            notifications: Arc::new(store),
            mailer: Arc::new(mailer),
            templates: Arc::new(templates()),
            clock: clock(),
            ids: Arc::new(ids),
            settings: NotificationSettings::default(),
        };
        NotifyBuyers::new(ports.clone(), DeliverNotifications::new(ports))
    }

    /// A placed order mails its buyer once, under a Message-ID key made of the event
    /// and the recipient; the same event delivered again sends nothing new.
    #[tokio::test]
    async fn an_event_mails_its_buyer_once_however_often_it_arrives() {
        let outcomes = Arc::default();
        let sent: Arc<Mutex<Vec<OutgoingMail>>> = Arc::default();
        let mut mailer = MockMailer::new();
        let log = sent.clone();
        mailer.expect_send().returning(move |mail| {
            log.lock().unwrap().push(mail.clone());
            Ok(())
        });
        let consumer = consumer(store(Arc::clone(&outcomes)), mailer);
        let placed = event(EventType::OrderCreated);
        consumer.handle(&placed).await.unwrap();
        consumer.handle(&placed).await.unwrap();
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to.as_str(), "ada@example.com");
        assert_eq!(
            sent[0].key.as_str(),
            format!("{}.{}", Uuid::from_u128(42), Uuid::from_u128(2))
        );
        assert_eq!(
            *outcomes.lock().unwrap(),
            [DeliveryOutcome::Sent { at: now() }]
        );
    }

    /// Events another mail covers (a shipment's, a payment's success) record and send
    /// nothing.
    #[tokio::test]
    async fn events_another_mail_covers_send_nothing() {
        let mut store = MockNotificationRepository::new();
        store.expect_record().never();
        let mut mailer = MockMailer::new();
        mailer.expect_send().never();
        let consumer = consumer(store, mailer);
        for kind in [
            EventType::PaymentSucceeded,
            EventType::ShipmentReady,
            EventType::ShipmentDispatched,
            EventType::ShipmentDelivered,
            EventType::OrderCancelled,
        ] {
            consumer.handle(&event(kind)).await.unwrap();
        }
    }

    /// A mail server that is down: the attempt is recorded with a retry after the
    /// first delay, and the event counts as handled (the delivery task retries).
    #[tokio::test]
    async fn a_mail_server_down_schedules_a_retry() {
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let mut mailer = MockMailer::new();
        mailer.expect_send().times(1).returning(|_| {
            Err(Unavailable::new("the mail server", anyhow::anyhow!("connection refused")).into())
        });
        consumer(store(Arc::clone(&outcomes)), mailer)
            .handle(&event(EventType::OrderStatusChanged))
            .await
            .unwrap();
        let outcomes = outcomes.lock().unwrap();
        let [
            DeliveryOutcome::Failed {
                error, retry_at, ..
            },
        ] = outcomes.as_slice()
        else {
            panic!("{outcomes:?}");
        };
        assert_eq!(*retry_at, Some(now() + TimeDelta::seconds(30)));
        assert!(error.contains("connection refused"), "{error}");
    }
}
