//! The consumer group `notifications`: tells the buyer of their order's events as
//! design §6's table says (see [`who_is_told`]): an email where the table says so,
//! and a live push to their open tabs of that email's record, or of a push-only
//! record for an event no email covers (a payment's success).
//!
//! Idempotent by event id: the notification is recorded under a message key derived
//! from the event and the recipient before anything is sent, so a redelivered event
//! finds its record (and sends nothing new once it was sent). A crash between the
//! send and the record of it sends the same message again — same `Message-ID`.

use async_trait::async_trait;
use emporium_domain::notifications::{
    LiveEvent, MailContent, MessageKey, Notification, NotificationId, NotificationStatus,
    OutgoingMail, who_is_told,
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
        let kind = event.event_type;
        let (message, mailed) = match (who_is_told::email_for(kind), who_is_told::push_only(kind)) {
            (Some(mail), _) => (mail, true),
            (None, Some(push)) => (push, false),
            (None, None) => return Ok(()),
        };
        let ports = &self.ports;
        let data = &event.data;
        let content = ports
            .templates
            .render(&MailContent::Order {
                mail: message,
                data: data.clone(),
            })
            .map_err(|error| error.context(format!("rendering the message for {kind}")))?;
        let id = NotificationId(ports.ids.new_id());
        let now = ports.clock.now();
        let notification = match mailed {
            true => Notification::email(
                id,
                data.user_id,
                data.order_id,
                event.id,
                kind,
                OutgoingMail {
                    key: MessageKey::for_event(event.id, data.user_id),
                    to: data.email.clone(),
                    content,
                },
                now,
            ),
            false => Notification::push(
                id,
                data.user_id,
                data.order_id,
                event.id,
                kind,
                OutgoingMail {
                    key: MessageKey::for_push(event.id, data.user_id),
                    to: data.email.clone(),
                    content,
                },
                now,
            ),
        };
        let stored = ports
            .notifications
            .record(&notification)
            .await
            .map_err(|error| anyhow::Error::new(error).context("recording the notification"))?;
        // A redelivered event found its record: it was pushed then.
        if stored.id == id && who_is_told::pushed(kind) {
            let live = LiveEvent {
                notification_id: stored.id,
                user_id: stored.user_id,
            };
            if let Err(error) = ports.live.publish(live).await {
                // Live push is best effort: the record stays listable.
                tracing::warn!(
                    notification_id = %stored.id,
                    error = format!("{:#}", anyhow::Error::new(error)),
                    "live push failed"
                );
            }
        }
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
        DeliveryOutcome, MockLivePush, MockMailTemplates, MockMailer, MockNotificationRepository,
        MockStreamTickets, RenderedMail,
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
        let mut live = MockLivePush::new();
        live.expect_publish().returning(|_| Ok(()));
        consumer_with(store, mailer, live)
    }

    fn consumer_with(
        store: MockNotificationRepository,
        mailer: MockMailer,
        live: MockLivePush,
    ) -> NotifyBuyers {
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(Uuid::now_v7);
        let ports = NotificationPorts {
            notifications: Arc::new(store),
            mailer: Arc::new(mailer),
            templates: Arc::new(templates()),
            live: Arc::new(live),
            tickets: Arc::new(MockStreamTickets::new()),
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

    /// Events another mail covers (a shipment's) record, push and send nothing.
    #[tokio::test]
    async fn events_another_mail_covers_send_nothing() {
        let mut store = MockNotificationRepository::new();
        store.expect_record().never();
        let mut mailer = MockMailer::new();
        mailer.expect_send().never();
        let mut live = MockLivePush::new();
        live.expect_publish().never();
        let consumer = consumer_with(store, mailer, live);
        for kind in [
            EventType::ShipmentReady,
            EventType::ShipmentDispatched,
            EventType::ShipmentDelivered,
            EventType::OrderCancelled,
        ] {
            consumer.handle(&event(kind)).await.unwrap();
        }
    }

    /// A payment's success is pushed live once (a push-only record, sent), never
    /// mailed; a placed order's email record is pushed once too, however often its
    /// event arrives.
    #[tokio::test]
    async fn pushes_go_out_once_per_event() {
        let pushed: Arc<Mutex<Vec<emporium_domain::notifications::LiveEvent>>> = Arc::default();
        let mut live = MockLivePush::new();
        let log = pushed.clone();
        live.expect_publish().returning(move |event| {
            log.lock().unwrap().push(event);
            Ok(())
        });
        let mut mailer = MockMailer::new();
        mailer.expect_send().never();
        let consumer = consumer_with(store(Arc::default()), mailer, live);
        let paid = event(EventType::PaymentSucceeded);
        consumer.handle(&paid).await.unwrap();
        consumer.handle(&paid).await.unwrap();
        let pushed = pushed.lock().unwrap();
        assert_eq!(pushed.len(), 1);
        assert_eq!(
            pushed[0].user_id,
            emporium_domain::UserId(Uuid::from_u128(2))
        );
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
