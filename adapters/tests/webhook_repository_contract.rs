//! The contract of the `WebhookRepository` port, written once (`suite`) and run
//! unchanged against every adapter on its real server: sea-orm on SQLite and on
//! PostgreSQL (SKIP when unset, failure when `EMPORIUM_REQUIRE_SERVICES=1`).

#[macro_use]
mod contract;

use std::sync::Arc;

use emporium_adapters::sql::SqlWebhookRepository;
use emporium_domain::webhooks::WebhookRepository;

/// A webhook store and what keeps its database alive.
pub struct Store {
    /// The repository under test.
    pub webhooks: Arc<dyn WebhookRepository>,
    _guard: contract::Guard,
}

/// Webhooks on SQLite.
pub async fn sqlite_webhooks() -> Option<Store> {
    let (dir, db) = contract::sqlite_db().await;
    Some(Store {
        webhooks: Arc::new(SqlWebhookRepository::new(db)),
        _guard: Some(dir),
    })
}

/// Webhooks on PostgreSQL.
pub async fn postgres_webhooks() -> Option<Store> {
    Some(Store {
        webhooks: Arc::new(SqlWebhookRepository::new(contract::postgres_db().await?)),
        _guard: None,
    })
}

/// The contract, as async functions over a [`Store`].
mod suite {
    use emporium_domain::PageRequest;
    use emporium_domain::orders::{EventId, EventType};
    use emporium_domain::webhooks::{
        AttemptOutcome, AttemptRecord, DeliveryStatus, Webhook, WebhookChange, WebhookDelivery,
        WebhookDeliveryId, WebhookDescription, WebhookEvents, WebhookId, WebhookSecret, WebhookUrl,
    };
    use uuid::Uuid;

    use super::Store;
    use super::contract::{at, micros};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NEW_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn webhook(events: &[EventType]) -> Webhook {
        Webhook {
            id: WebhookId(Uuid::now_v7()),
            url: WebhookUrl::new("https://hooks.example.com/emporium").unwrap(),
            events: WebhookEvents::new(events.to_vec()).unwrap(),
            description: WebhookDescription::new("ERP").unwrap(),
            secret: WebhookSecret::new(SECRET).unwrap(),
            previous_secret: None,
            enabled: true,
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: micros(at(0)),
            updated_at: micros(at(0)),
        }
    }

    fn delivery(webhook: &Webhook, event: EventId) -> WebhookDelivery {
        WebhookDelivery::new(
            WebhookDeliveryId(Uuid::now_v7()),
            webhook.id,
            event,
            EventType::OrderCreated,
            r#"{"type":"order.created"}"#.to_owned(),
            micros(at(0)),
        )
    }

    fn record(attempt: u32, status: Option<u16>) -> AttemptRecord {
        AttemptRecord {
            attempt,
            at: micros(at(500)),
            status_code: status,
            duration_ms: 12,
            error: status.is_none().then(|| "timed out".to_owned()),
        }
    }

    async fn stored(store: &Store, events: &[EventType]) -> Webhook {
        let webhook = webhook(events);
        store.webhooks.create(&webhook).await.unwrap();
        webhook
    }

    /// Subscriptions read back as stored, change field by field, rotate their
    /// secret (the old one kept until a time), and go with their deliveries.
    pub async fn subscriptions_are_kept_changed_rotated_and_deleted(store: &Store) {
        let created = stored(store, &[EventType::OrderCreated, EventType::ShipmentReady]).await;
        assert_eq!(
            store.webhooks.get(created.id).await.unwrap(),
            Some(created.clone())
        );
        let page = store.webhooks.list(PageRequest::default()).await.unwrap();
        assert_eq!(page.total, 1);
        let changed = store
            .webhooks
            .update(
                created.id,
                &WebhookChange {
                    url: Some(WebhookUrl::new("https://other.example.com/h").unwrap()),
                    events: None,
                    description: None,
                    enabled: Some(false),
                    at: micros(at(1_000)),
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(changed.url.as_str(), "https://other.example.com/h");
        assert_eq!(changed.events, created.events);
        assert!(!changed.enabled);
        assert_eq!(changed.updated_at, micros(at(1_000)));
        let until = micros(at(86_400_000));
        let rotated = store
            .webhooks
            .rotate_secret(
                created.id,
                &WebhookSecret::new(NEW_SECRET).unwrap(),
                until,
                at(2_000),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rotated.secret.expose(), NEW_SECRET);
        assert_eq!(
            rotated.previous_secret,
            Some((WebhookSecret::new(SECRET).unwrap(), until))
        );
        store
            .webhooks
            .record_delivery(&delivery(&rotated, EventId(Uuid::now_v7())))
            .await
            .unwrap();
        assert!(store.webhooks.delete(created.id).await.unwrap());
        assert!(!store.webhooks.delete(created.id).await.unwrap());
        assert_eq!(store.webhooks.get(created.id).await.unwrap(), None);
        let missing = WebhookId(Uuid::now_v7());
        assert_eq!(
            store
                .webhooks
                .rotate_secret(
                    missing,
                    &WebhookSecret::new(NEW_SECRET).unwrap(),
                    until,
                    at(0)
                )
                .await
                .unwrap(),
            None
        );
    }

    /// Only enabled subscriptions to a type are subscribed to it.
    pub async fn subscribed_means_enabled_and_listening(store: &Store) {
        let orders = stored(store, &[EventType::OrderCreated]).await;
        let shipments = stored(store, &[EventType::ShipmentReady]).await;
        let off = stored(store, &[EventType::OrderCreated]).await;
        store
            .webhooks
            .update(
                off.id,
                &WebhookChange {
                    url: None,
                    events: None,
                    description: None,
                    enabled: Some(false),
                    at: at(1),
                },
            )
            .await
            .unwrap();
        let ids: Vec<_> = store
            .webhooks
            .subscribed(EventType::OrderCreated)
            .await
            .unwrap()
            .into_iter()
            .map(|webhook| webhook.id)
            .collect();
        assert_eq!(ids, [orders.id]);
        assert_eq!(
            store
                .webhooks
                .subscribed(EventType::ShipmentReady)
                .await
                .unwrap()[0]
                .id,
            shipments.id
        );
    }

    /// One delivery per subscription and event, however often it is recorded; one
    /// claim of many wins, and the attempt's outcome is logged.
    pub async fn deliveries_are_recorded_once_and_claimed_once(store: &Store) {
        let webhook = stored(store, &[EventType::OrderCreated]).await;
        let event = EventId(Uuid::now_v7());
        let first = store
            .webhooks
            .record_delivery(&delivery(&webhook, event))
            .await
            .unwrap();
        let again = store
            .webhooks
            .record_delivery(&delivery(&webhook, event))
            .await
            .unwrap();
        assert_eq!(again, first);
        assert_eq!(
            first.message_id.as_str(),
            format!("msg_{}", event.0.simple())
        );
        assert_eq!(
            store
                .webhooks
                .deliveries(webhook.id, PageRequest::default())
                .await
                .unwrap()
                .total,
            1
        );
        let claims = (0..6).map(|_| {
            let webhooks = store.webhooks.clone();
            tokio::spawn(async move {
                webhooks
                    .claim_delivery(first.id, at(1_000), at(121_000))
                    .await
                    .unwrap()
            })
        });
        let mut won = Vec::new();
        for claim in claims.collect::<Vec<_>>() {
            won.extend(claim.await.unwrap());
        }
        assert_eq!(won.len(), 1);
        let (claimed, owner) = &won[0];
        assert_eq!(claimed.attempts, 1);
        assert_eq!(owner.id, webhook.id);
        assert!(
            store
                .webhooks
                .due_deliveries(at(2_000), 10)
                .await
                .unwrap()
                .is_empty()
        );
        let retry_at = micros(at(10_000));
        store
            .webhooks
            .finish_delivery(
                first.id,
                1,
                &record(1, Some(500)),
                &AttemptOutcome::Retry { at: retry_at },
                20,
            )
            .await
            .unwrap();
        let read = store.webhooks.delivery(first.id).await.unwrap().unwrap();
        assert_eq!(read.status, DeliveryStatus::Pending);
        assert_eq!(read.next_attempt_at, Some(retry_at));
        assert_eq!(read.log, [record(1, Some(500))]);
        assert_eq!(
            store.webhooks.due_deliveries(at(10_000), 10).await.unwrap(),
            [first.id]
        );
        store
            .webhooks
            .claim_delivery(first.id, at(10_000), at(130_000))
            .await
            .unwrap()
            .unwrap();
        // A stale outcome (attempt 1 again) changes nothing.
        store
            .webhooks
            .finish_delivery(
                first.id,
                1,
                &record(1, Some(200)),
                &AttemptOutcome::Succeeded,
                20,
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .webhooks
                .delivery(first.id)
                .await
                .unwrap()
                .unwrap()
                .status,
            DeliveryStatus::Pending
        );
        store
            .webhooks
            .finish_delivery(
                first.id,
                2,
                &record(2, Some(200)),
                &AttemptOutcome::Succeeded,
                20,
            )
            .await
            .unwrap();
        let done = store.webhooks.delivery(first.id).await.unwrap().unwrap();
        assert_eq!(done.status, DeliveryStatus::Succeeded);
        assert_eq!(done.delivered_at, Some(micros(at(500))));
        assert_eq!(done.log.len(), 2);
        // A manual redelivery reopens it with attempts reset, once.
        let reopened = store
            .webhooks
            .redeliver(first.id, at(20_000))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (reopened.status, reopened.attempts),
            (DeliveryStatus::Pending, 0)
        );
        assert_eq!(
            store
                .webhooks
                .redeliver(first.id, at(20_000))
                .await
                .unwrap(),
            None
        );
    }

    /// Failed deliveries in a row disable the subscription at the limit (and a 410
    /// at once); a success resets the count; a disabled subscription's deliveries
    /// are neither due nor claimable; enabling it again forgets its failures.
    pub async fn failures_in_a_row_disable_the_subscription(store: &Store) {
        let webhook = stored(store, &[EventType::OrderCreated]).await;
        let fail = async |outcome: AttemptOutcome| {
            let pending = store
                .webhooks
                .record_delivery(&delivery(&webhook, EventId(Uuid::now_v7())))
                .await
                .unwrap();
            store
                .webhooks
                .claim_delivery(pending.id, at(0), at(60_000))
                .await
                .unwrap()
                .unwrap();
            store
                .webhooks
                .finish_delivery(pending.id, 1, &record(1, Some(500)), &outcome, 3)
                .await
                .unwrap()
        };
        assert_eq!(fail(AttemptOutcome::Failed { disable: None }).await, None);
        assert_eq!(fail(AttemptOutcome::Succeeded).await, None);
        assert_eq!(fail(AttemptOutcome::Failed { disable: None }).await, None);
        assert_eq!(fail(AttemptOutcome::Failed { disable: None }).await, None);
        let disabled = fail(AttemptOutcome::Failed { disable: None }).await;
        assert_eq!(disabled.as_deref(), Some("3 deliveries in a row failed"));
        let read = store.webhooks.get(webhook.id).await.unwrap().unwrap();
        assert!(!read.enabled);
        assert_eq!(
            read.disabled_reason.as_deref(),
            Some("3 deliveries in a row failed")
        );
        let waiting = store
            .webhooks
            .record_delivery(&delivery(&webhook, EventId(Uuid::now_v7())))
            .await
            .unwrap();
        assert!(
            store
                .webhooks
                .due_deliveries(at(1_000), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .webhooks
                .claim_delivery(waiting.id, at(1_000), at(2_000))
                .await
                .unwrap(),
            None
        );
        let enabled = store
            .webhooks
            .update(
                webhook.id,
                &WebhookChange {
                    url: None,
                    events: None,
                    description: None,
                    enabled: Some(true),
                    at: at(3_000),
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert!(enabled.enabled);
        assert_eq!(
            (enabled.consecutive_failures, enabled.disabled_reason),
            (0, None)
        );
        assert_eq!(
            store.webhooks.due_deliveries(at(3_000), 10).await.unwrap(),
            [waiting.id]
        );
        let gone = fail(AttemptOutcome::Failed {
            disable: Some("the receiver answered 410 Gone".to_owned()),
        })
        .await;
        assert_eq!(gone.as_deref(), Some("the receiver answered 410 Gone"));
    }

    /// Pruning forgets finished deliveries changed before the cut-off only.
    pub async fn pruning_keeps_pending_deliveries(store: &Store) {
        let webhook = stored(store, &[EventType::OrderCreated]).await;
        let done = store
            .webhooks
            .record_delivery(&delivery(&webhook, EventId(Uuid::now_v7())))
            .await
            .unwrap();
        let pending = store
            .webhooks
            .record_delivery(&delivery(&webhook, EventId(Uuid::now_v7())))
            .await
            .unwrap();
        store
            .webhooks
            .claim_delivery(done.id, at(0), at(60_000))
            .await
            .unwrap()
            .unwrap();
        store
            .webhooks
            .finish_delivery(
                done.id,
                1,
                &record(1, Some(204)),
                &AttemptOutcome::Succeeded,
                20,
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .webhooks
                .prune_deliveries(at(1_000_000))
                .await
                .unwrap(),
            1
        );
        assert_eq!(store.webhooks.delivery(done.id).await.unwrap(), None);
        assert!(store.webhooks.delivery(pending.id).await.unwrap().is_some());
    }
}

mod sqlite {
    contract_tests!(crate::sqlite_webhooks =>
        subscriptions_are_kept_changed_rotated_and_deleted,
        subscribed_means_enabled_and_listening,
        deliveries_are_recorded_once_and_claimed_once,
        failures_in_a_row_disable_the_subscription,
        pruning_keeps_pending_deliveries,
    );
}

mod postgres {
    contract_tests!(crate::postgres_webhooks =>
        subscriptions_are_kept_changed_rotated_and_deleted,
        subscribed_means_enabled_and_listening,
        deliveries_are_recorded_once_and_claimed_once,
        failures_in_a_row_disable_the_subscription,
        pruning_keeps_pending_deliveries,
    );
}
