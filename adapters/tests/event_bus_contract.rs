//! The contract of the `EventBus` port, written once (`suite`) and run unchanged on
//! every adapter: for now the in-process bus of the all-in-one server (the Redis
//! Streams bus of the split deployment joins it here).
//!
//! The contract is stated from the publisher's side, as the outbox relay uses the
//! bus: it publishes committed events in order and publishes again an event whose
//! publication failed. Then every consumer group applies every event at least once,
//! in the order published, and an event a handler failed on is delivered to it again.

/// The contract, as async functions over a bus.
mod suite {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use async_trait::async_trait;
    use chrono::{TimeZone, Utc};
    use emporium_domain::UserId;
    use emporium_domain::accounts::Email;
    use emporium_domain::orders::{
        Currency, DomainEvent, EventBus, EventData, EventHandler, EventId, EventType, Money,
        OrderId, OrderStatus,
    };
    use uuid::Uuid;

    /// A consumer group's handler that records what it applied and can be told to
    /// fail the next `failures` deliveries.
    #[derive(Default)]
    pub struct Recorder {
        applied: Mutex<Vec<EventId>>,
        failures: Mutex<u32>,
        attempts: Mutex<u32>,
    }

    impl Recorder {
        fn failing(failures: u32) -> Arc<Self> {
            let recorder = Self::default();
            *recorder.failures.lock().unwrap() = failures;
            Arc::new(recorder)
        }

        fn applied(&self) -> Vec<EventId> {
            self.applied.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl EventHandler for Recorder {
        async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error> {
            *self.attempts.lock().unwrap() += 1;
            {
                let mut failures = self.failures.lock().unwrap();
                if *failures > 0 {
                    *failures -= 1;
                    anyhow::bail!("the handler is down");
                }
            }
            self.applied.lock().unwrap().push(event.id);
            Ok(())
        }
    }

    fn event(n: u32) -> DomainEvent {
        DomainEvent {
            id: EventId(Uuid::now_v7()),
            event_type: EventType::OrderCreated,
            timestamp: Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, n).unwrap(),
            data: EventData {
                order_id: OrderId(Uuid::now_v7()),
                user_id: UserId(Uuid::now_v7()),
                email: Email::parse("ada@example.com").unwrap(),
                status: OrderStatus::Pending,
                lines: Vec::new(),
                total: Money::ZERO,
                currency: Currency::EUR,
                previous_status: None,
                cancel_reason: None,
                payment_id: None,
                shipment_id: None,
                carrier: None,
                tracking_number: None,
            },
        }
    }

    /// Publishes as the relay does: again, a little later, until the bus takes it.
    async fn publish_until_taken(bus: &dyn EventBus, event: &DomainEvent) {
        for _ in 0..50 {
            if bus.publish(event).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the bus never took event {}", event.id);
    }

    /// Waits (5 s at most) until `done` holds.
    async fn eventually(what: &str, done: impl Fn() -> bool) {
        for _ in 0..500 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("never: {what}");
    }

    /// `applied` without repeats, keeping the first time each event was applied.
    fn first_applications(applied: &[EventId]) -> Vec<EventId> {
        let mut seen = Vec::new();
        for id in applied {
            if !seen.contains(id) {
                seen.push(*id);
            }
        }
        seen
    }

    pub async fn every_group_applies_every_event_in_order(bus: Arc<dyn EventBus>) {
        let (stock, orders) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
        bus.subscribe("stock", stock.clone());
        bus.subscribe("orders", orders.clone());
        let events: Vec<DomainEvent> = (0..20).map(event).collect();
        for event in &events {
            publish_until_taken(bus.as_ref(), event).await;
        }
        let ids: Vec<EventId> = events.iter().map(|event| event.id).collect();
        for (name, group) in [("stock", &stock), ("orders", &orders)] {
            eventually(&format!("group {name} applied all 20 events"), || {
                first_applications(&group.applied()) == ids
            })
            .await;
        }
    }

    pub async fn an_event_a_handler_failed_on_is_delivered_again(bus: Arc<dyn EventBus>) {
        let healthy = Arc::new(Recorder::default());
        let flaky = Recorder::failing(3);
        bus.subscribe("healthy", healthy.clone());
        bus.subscribe("flaky", flaky.clone());
        let first = event(1);
        let second = event(2);
        publish_until_taken(bus.as_ref(), &first).await;
        publish_until_taken(bus.as_ref(), &second).await;
        eventually("the flaky group applied both events, in order", || {
            first_applications(&flaky.applied()) == [first.id, second.id]
        })
        .await;
        assert!(
            *flaky.attempts.lock().unwrap() >= 5,
            "three failed deliveries, then two"
        );
        eventually("the healthy group applied both events, in order", || {
            first_applications(&healthy.applied()) == [first.id, second.id]
        })
        .await;
    }

    pub async fn a_group_without_events_gets_none(bus: Arc<dyn EventBus>) {
        let idle = Arc::new(Recorder::default());
        bus.subscribe("idle", idle.clone());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(idle.applied().is_empty());
        let late = event(3);
        publish_until_taken(bus.as_ref(), &late).await;
        eventually("the group applied the one event", || {
            idle.applied() == [late.id]
        })
        .await;
    }
}

mod in_process {
    use std::sync::Arc;

    use emporium_adapters::in_process::InProcessEventBus;

    use super::suite;

    fn bus() -> Arc<InProcessEventBus> {
        Arc::new(InProcessEventBus::new())
    }

    #[tokio::test]
    async fn every_group_applies_every_event_in_order() {
        suite::every_group_applies_every_event_in_order(bus()).await;
    }

    #[tokio::test]
    async fn an_event_a_handler_failed_on_is_delivered_again() {
        suite::an_event_a_handler_failed_on_is_delivered_again(bus()).await;
    }

    #[tokio::test]
    async fn a_group_without_events_gets_none() {
        suite::a_group_without_events_gets_none(bus()).await;
    }
}
