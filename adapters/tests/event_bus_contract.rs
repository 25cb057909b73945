//! The contract of the `EventBus` port, written once (`suite`) and run unchanged on
//! every adapter: the in-process bus of the all-in-one server and the Redis Streams
//! bus of the split deployment (on a real Redis). The Redis bus has tests of its own
//! below for what only several processes can show: consumers of one group sharing
//! its events, a dead consumer's events claimed by another, dead letters and
//! trimming.
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
        pub attempts: Mutex<u32>,
    }

    impl Recorder {
        pub fn failing(failures: u32) -> Arc<Self> {
            let recorder = Self::default();
            *recorder.failures.lock().unwrap() = failures;
            Arc::new(recorder)
        }

        pub fn heal(&self) {
            *self.failures.lock().unwrap() = 0;
        }

        pub fn applied(&self) -> Vec<EventId> {
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

    pub fn event(n: u32) -> DomainEvent {
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
    pub async fn publish_until_taken(bus: &dyn EventBus, event: &DomainEvent) {
        for _ in 0..50 {
            if bus.publish(event).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the bus never took event {}", event.id);
    }

    /// Waits (5 s at most) until `done` holds.
    pub async fn eventually(what: &str, done: impl Fn() -> bool) {
        for _ in 0..500 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("never: {what}");
    }

    /// `applied` without repeats, keeping the first time each event was applied.
    pub fn first_applications(applied: &[EventId]) -> Vec<EventId> {
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

mod redis_streams {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use async_trait::async_trait;
    use emporium_adapters::redis_streams::{GroupStats, RedisStreamsEventBus, RedisStreamsOptions};
    use emporium_adapters::testing;
    use emporium_domain::Unavailable;
    use emporium_domain::orders::{DomainEvent, EventBus, EventHandler, EventId};

    use super::suite::{
        self, Recorder, event, eventually, first_applications, publish_until_taken,
    };

    /// Options for tests: short blocks, claims and trims.
    fn options(prefix: &str) -> RedisStreamsOptions {
        RedisStreamsOptions {
            prefix: prefix.to_owned(),
            consumer: RedisStreamsOptions::process_consumer_name(),
            block: Duration::from_millis(300),
            claim_idle: Duration::from_millis(400),
            trim_interval: Duration::from_millis(200),
            stop_grace: Duration::from_millis(100),
            ..RedisStreamsOptions::default()
        }
    }

    /// A bus on the test Redis: every bus with the same `prefix` is a replica of the
    /// same deployment.
    async fn replica(prefix: &str) -> Option<Arc<RedisStreamsEventBus>> {
        replica_with(options(prefix)).await
    }

    async fn replica_with(options: RedisStreamsOptions) -> Option<Arc<RedisStreamsEventBus>> {
        let url = testing::redis_url()?;
        let bus = RedisStreamsEventBus::connect_with(&url, options)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to Redis at {url}: {error:#}"));
        Some(Arc::new(bus))
    }

    async fn redis() -> redis::aio::MultiplexedConnection {
        let url = testing::redis_url().expect("Redis");
        redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn every_group_applies_every_event_in_order() {
        let Some(bus) = replica(&testing::unique_prefix()).await else {
            return;
        };
        suite::every_group_applies_every_event_in_order(bus.clone()).await;
        bus.stop().await;
    }

    #[tokio::test]
    async fn an_event_a_handler_failed_on_is_delivered_again() {
        let Some(bus) = replica(&testing::unique_prefix()).await else {
            return;
        };
        suite::an_event_a_handler_failed_on_is_delivered_again(bus.clone()).await;
        bus.stop().await;
    }

    #[tokio::test]
    async fn a_group_without_events_gets_none() {
        let Some(bus) = replica(&testing::unique_prefix()).await else {
            return;
        };
        suite::a_group_without_events_gets_none(bus.clone()).await;
        bus.stop().await;
    }

    /// A handler that takes a little time per event, so that events spread over the
    /// consumers of a group.
    struct Slow(Arc<Recorder>);

    #[async_trait]
    impl EventHandler for Slow {
        async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error> {
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.0.handle(event).await
        }
    }

    #[tokio::test]
    async fn the_eviction_policy_is_read_from_redis() {
        let Some(bus) = replica(&testing::unique_prefix()).await else {
            return;
        };
        // The test Redis runs with the default policy.
        assert_eq!(bus.eviction_policy().await.unwrap(), "noeviction");
        bus.stop().await;
    }

    #[tokio::test]
    async fn consumers_of_one_group_share_its_events() {
        let prefix = testing::unique_prefix();
        let (Some(first), Some(second)) = (replica(&prefix).await, replica(&prefix).await) else {
            return;
        };
        let (a, b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
        first.subscribe("orders", Arc::new(Slow(a.clone())));
        second.subscribe("orders", Arc::new(Slow(b.clone())));
        let events: Vec<DomainEvent> = (0..60).map(event).collect();
        for event in &events {
            publish_until_taken(first.as_ref(), event).await;
        }
        let mut all: Vec<EventId> = events.iter().map(|event| event.id).collect();
        all.sort();
        eventually(
            "the two consumers applied all 60 events between them",
            || {
                let mut applied = first_applications(&[a.applied(), b.applied()].concat());
                applied.sort();
                applied == all
            },
        )
        .await;
        assert!(
            !a.applied().is_empty() && !b.applied().is_empty(),
            "both consumers took a share: {} and {}",
            a.applied().len(),
            b.applied().len()
        );
        first.stop().await;
        second.stop().await;
    }

    /// A consumer that dies in the middle of its event: it never returns.
    struct Hangs(Arc<Mutex<bool>>);

    #[async_trait]
    impl EventHandler for Hangs {
        async fn handle(&self, _event: &DomainEvent) -> Result<(), anyhow::Error> {
            *self.0.lock().unwrap() = true;
            std::future::pending::<()>().await;
            Ok(())
        }
    }

    #[tokio::test]
    async fn an_event_a_dead_consumer_held_is_claimed_by_another() {
        let prefix = testing::unique_prefix();
        let (Some(dying), Some(survivor)) = (replica(&prefix).await, replica(&prefix).await) else {
            return;
        };
        let started = Arc::new(Mutex::new(false));
        dying.subscribe("stock", Arc::new(Hangs(started.clone())));
        let held = event(1);
        publish_until_taken(dying.as_ref(), &held).await;
        eventually("the dying consumer read the event", || {
            *started.lock().unwrap()
        })
        .await;
        // The replica dies without acknowledging: its consumer task is abandoned.
        dying.stop().await;
        let recorder = Arc::new(Recorder::default());
        survivor.subscribe("stock", recorder.clone());
        eventually("the survivor claimed and applied the event", || {
            recorder.applied() == [held.id]
        })
        .await;
        survivor.stop().await;
    }

    #[tokio::test]
    async fn an_event_that_keeps_failing_goes_to_the_dead_letters_and_can_be_replayed() {
        let options = RedisStreamsOptions {
            max_failures: 3,
            ..options(&testing::unique_prefix())
        };
        let Some(bus) = replica_with(options).await else {
            return;
        };
        let poisoned = Recorder::failing(u32::MAX);
        let healthy = Arc::new(Recorder::default());
        bus.subscribe("poisoned", poisoned.clone());
        bus.subscribe("healthy", healthy.clone());
        let bad = event(1);
        let next = event(2);
        publish_until_taken(bus.as_ref(), &bad).await;
        publish_until_taken(bus.as_ref(), &next).await;
        let dead = bus.dead_letters();
        let mut letters = Vec::new();
        for _ in 0..500 {
            letters = dead.list(10).await.unwrap();
            if letters.len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(letters.len(), 2, "both events went to the dead letters");
        let dead_letters_of = |stats: &[GroupStats], group: &str| {
            stats
                .iter()
                .find(|stats| stats.group == group)
                .map(|stats| stats.dead_letters)
        };
        let stats = bus.group_stats().await.unwrap();
        assert_eq!(dead_letters_of(&stats, "poisoned"), Some(2));
        assert_eq!(dead_letters_of(&stats, "healthy"), Some(0));
        let letter = &letters[0];
        assert_eq!(letter.group, "poisoned");
        assert_eq!(letter.failures, 3, "after max_failures failures");
        assert!(
            letter.error.contains("the handler is down"),
            "{}",
            letter.error
        );
        let buried: DomainEvent = serde_json::from_str(&letter.event).unwrap();
        assert_eq!(buried.id, bad.id);
        assert_eq!(
            *poisoned.attempts.lock().unwrap(),
            6,
            "three failures per event"
        );
        eventually("the healthy group applied both events", || {
            healthy.applied() == [bad.id, next.id]
        })
        .await;

        // Fixed, the admin replays the first one: the failed group applies it, the
        // healthy group sees it again and (being idempotent) counts it once.
        poisoned.heal();
        assert!(dead.replay(&letter.id).await.unwrap());
        eventually("the poisoned group applied the replayed event", || {
            poisoned.applied() == [bad.id]
        })
        .await;
        eventually("the healthy group received it again", || {
            healthy.applied().len() == 3
        })
        .await;
        assert_eq!(first_applications(&healthy.applied()), [bad.id, next.id]);
        let left = dead.list(10).await.unwrap();
        assert_eq!(left.len(), 1, "the replayed letter left the dead letters");
        let stats = bus.group_stats().await.unwrap();
        assert_eq!(dead_letters_of(&stats, "poisoned"), Some(1), "{stats:?}");
        assert_eq!(left[0].id, letters[1].id);
        assert!(
            !dead.replay(&letter.id).await.unwrap(),
            "replayed once only"
        );
        bus.stop().await;
    }

    #[tokio::test]
    async fn group_stats_tell_what_each_group_has_yet_to_receive() {
        let prefix = testing::unique_prefix();
        let Some(consumer) = replica(&prefix).await else {
            return;
        };
        consumer.subscribe("stalled", Arc::new(Recorder::default()));
        for _ in 0..500 {
            let stats = consumer.group_stats().await.unwrap();
            if stats.iter().any(|stats| stats.group == "stalled") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        consumer.stop().await;
        let publisher = replica(&prefix).await.unwrap();
        for n in 1..=3 {
            publisher.publish(&event(n)).await.unwrap();
        }
        assert_eq!(
            publisher.group_stats().await.unwrap(),
            [GroupStats {
                group: "stalled".to_owned(),
                lag: Some(3),
                pending: 0,
                dead_letters: 0,
            }],
            "three events wait for the stopped group"
        );
        publisher.stop().await;
    }

    /// Fails as a consumer whose database is down: `Unavailable` in the chain.
    struct DatabaseDown {
        outages: Mutex<u32>,
        inner: Arc<Recorder>,
    }

    #[async_trait]
    impl EventHandler for DatabaseDown {
        async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error> {
            {
                let mut outages = self.outages.lock().unwrap();
                if *outages > 0 {
                    *outages -= 1;
                    return Err(anyhow::Error::new(Unavailable::new(
                        "the database",
                        anyhow::anyhow!("connection refused"),
                    ))
                    .context("applying the event"));
                }
            }
            self.inner.handle(event).await
        }
    }

    #[tokio::test]
    async fn a_dependency_that_is_down_does_not_count_as_a_failure() {
        let Some(bus) = replica(&testing::unique_prefix()).await else {
            return;
        };
        let recorder = Arc::new(Recorder::default());
        bus.subscribe(
            "orders",
            Arc::new(DatabaseDown {
                outages: Mutex::new(5),
                inner: recorder.clone(),
            }),
        );
        let waiting = event(1);
        publish_until_taken(bus.as_ref(), &waiting).await;
        eventually("the event was applied once the database was back", || {
            recorder.applied() == [waiting.id]
        })
        .await;
        assert!(bus.dead_letters().list(10).await.unwrap().is_empty());
        bus.stop().await;
    }

    #[tokio::test]
    async fn acknowledged_events_are_trimmed_and_pending_ones_kept() {
        let prefix = testing::unique_prefix();
        let Some(bus) = replica(&prefix).await else {
            return;
        };
        let done = Arc::new(Recorder::default());
        bus.subscribe("done", done.clone());
        let events: Vec<DomainEvent> = (0..10).map(event).collect();
        for event in &events {
            publish_until_taken(bus.as_ref(), event).await;
        }
        let stream = format!("{prefix}events");
        let mut connection = redis().await;
        let mut length: usize = usize::MAX;
        for _ in 0..500 {
            length = redis::cmd("XLEN")
                .arg(&stream)
                .query_async(&mut connection)
                .await
                .unwrap();
            if length == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(done.applied().len(), 10);
        assert_eq!(length, 0, "every event was acknowledged by every group");

        // A group that has not applied an event keeps it in the stream.
        let started = Arc::new(Mutex::new(false));
        bus.subscribe("stuck", Arc::new(Hangs(started.clone())));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let kept = event(11);
        publish_until_taken(bus.as_ref(), &kept).await;
        eventually("the done group applied it", || done.applied().len() == 11).await;
        eventually("the stuck group read it", || *started.lock().unwrap()).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let length: usize = redis::cmd("XLEN")
            .arg(&stream)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(length, 1, "the stuck group still needs it");
        bus.stop().await;
    }
}
