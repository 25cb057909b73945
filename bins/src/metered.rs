//! Counters for `/metrics` that the composition root threads through the ports it
//! builds: a decorator around the cache (hits, misses, errors), the event bus (events
//! published by type, each consumer group's applied and failed events; orders placed
//! and payments by outcome are read off the published events) and the stock
//! reservations the order use cases make (refusals). The domain and application
//! crates know nothing of them.
//!
//! Every counter an outcome can reach is created up front (at zero), so a dashboard
//! shows a series before its first event, and the hot paths (a cache hit) touch one
//! atomic, not a label lookup.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::inventory::{
    Reservation, ReservationAction, ReservationError, ReservationLines, StockReservations,
};
use emporium_domain::orders::{
    DomainEvent, EventBus, EventDeliveryError, EventHandler, EventType, OrderId, ProcessedEvent,
};
use emporium_domain::{Cache, CacheError};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// The labels of a cache operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    /// `get`, `set` or `delete`.
    operation: &'static str,
    /// `hit`, `miss` (gets), `ok` (sets and deletes) or `error`.
    result: &'static str,
}

/// The label of an event type.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventTypeLabels {
    /// `order.created`, … (a fixed set).
    event_type: &'static str,
}

/// The label of a consumer group.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GroupLabels {
    /// The group (`orders`, `notifications`, …: named in code, a fixed set).
    pub group: String,
}

/// The label of a payment's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// `succeeded`, `failed` or `refunded`.
    outcome: &'static str,
}

/// The payment events and the outcome each one counts as.
const PAYMENT_OUTCOMES: [(EventType, &str); 3] = [
    (EventType::PaymentSucceeded, "succeeded"),
    (EventType::PaymentFailed, "failed"),
    (EventType::PaymentRefunded, "refunded"),
];

/// The counters (see the [module docs](self)); clones share them.
#[derive(Clone, Debug)]
pub struct Instruments {
    cache_operations: Family<CacheLabels, Counter>,
    events_published: Family<EventTypeLabels, Counter>,
    events_consumed: Family<GroupLabels, Counter>,
    events_failed: Family<GroupLabels, Counter>,
    orders_placed: Counter,
    payments: Family<OutcomeLabels, Counter>,
    reservations_refused: Counter,
}

impl Default for Instruments {
    fn default() -> Self {
        Self::new()
    }
}

impl Instruments {
    /// Every counter at zero.
    pub fn new() -> Self {
        let instruments = Self {
            cache_operations: Family::default(),
            events_published: Family::default(),
            events_consumed: Family::default(),
            events_failed: Family::default(),
            orders_placed: Counter::default(),
            payments: Family::default(),
            reservations_refused: Counter::default(),
        };
        for kind in EventType::ALL {
            let _ = instruments
                .events_published
                .get_or_create(&EventTypeLabels {
                    event_type: kind.as_str(),
                });
        }
        for (_, outcome) in PAYMENT_OUTCOMES {
            let _ = instruments
                .payments
                .get_or_create(&OutcomeLabels { outcome });
        }
        instruments
    }

    /// Adds the counters to `registry` (prefixed there).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "cache_operations",
            "Product cache operations by operation (get, set, delete) and result (hit, \
             miss, ok, error)",
            self.cache_operations.clone(),
        );
        registry.register(
            "bus_events_published",
            "Events the outbox relay handed to the bus, by type",
            self.events_published.clone(),
        );
        registry.register(
            "bus_events_consumed",
            "Events a consumer group in this process applied",
            self.events_consumed.clone(),
        );
        registry.register(
            "bus_events_failed",
            "Attempts of a consumer group in this process that failed (the event is \
             retried, or at the limit dead-lettered)",
            self.events_failed.clone(),
        );
        registry.register(
            "orders_placed",
            "Orders placed (their order.created events published)",
            self.orders_placed.clone(),
        );
        registry.register(
            "payments",
            "Payments settled, by outcome (succeeded, failed, refunded)",
            self.payments.clone(),
        );
        registry.register(
            "stock_reservations_refused",
            "Orders refused for want of stock",
            self.reservations_refused.clone(),
        );
    }

    /// `cache`, counting its operations.
    pub fn cache(&self, cache: Arc<dyn Cache>) -> Arc<dyn Cache> {
        let counter = |operation, result| {
            self.cache_operations
                .get_or_create(&CacheLabels { operation, result })
                .clone()
        };
        Arc::new(MeteredCache {
            inner: cache,
            hit: counter("get", "hit"),
            miss: counter("get", "miss"),
            get_error: counter("get", "error"),
            set_ok: counter("set", "ok"),
            set_error: counter("set", "error"),
            delete_ok: counter("delete", "ok"),
            delete_error: counter("delete", "error"),
        })
    }

    /// `bus`, counting what is published on it and what its groups here apply.
    pub fn bus(&self, bus: Arc<dyn EventBus>) -> Arc<dyn EventBus> {
        Arc::new(MeteredEventBus {
            inner: bus,
            instruments: self.clone(),
        })
    }

    /// `reservations`, counting refusals for want of stock. Give it to the order use
    /// cases only, so that a refusal is counted once in a split deployment.
    pub fn reservations(
        &self,
        reservations: Arc<dyn StockReservations>,
    ) -> Arc<dyn StockReservations> {
        Arc::new(MeteredReservations {
            inner: reservations,
            refused: self.reservations_refused.clone(),
        })
    }
}

struct MeteredCache {
    inner: Arc<dyn Cache>,
    hit: Counter,
    miss: Counter,
    get_error: Counter,
    set_ok: Counter,
    set_error: Counter,
    delete_ok: Counter,
    delete_error: Counter,
}

/// Counts `result` in `ok` or `error`.
fn count<T, E>(result: Result<T, E>, ok: &Counter, error: &Counter) -> Result<T, E> {
    match &result {
        Ok(_) => ok.inc(),
        Err(_) => error.inc(),
    };
    result
}

#[async_trait]
impl Cache for MeteredCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let result = self.inner.get(key).await;
        match &result {
            Ok(Some(_)) => self.hit.inc(),
            Ok(None) => self.miss.inc(),
            Err(_) => self.get_error.inc(),
        };
        result
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        count(
            self.inner.set(key, value, ttl).await,
            &self.set_ok,
            &self.set_error,
        )
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        count(
            self.inner.delete(key).await,
            &self.delete_ok,
            &self.delete_error,
        )
    }

    async fn ping(&self) -> Result<(), CacheError> {
        self.inner.ping().await
    }
}

struct MeteredEventBus {
    inner: Arc<dyn EventBus>,
    instruments: Instruments,
}

#[async_trait]
impl EventBus for MeteredEventBus {
    async fn publish(&self, event: &DomainEvent) -> Result<(), EventDeliveryError> {
        self.inner.publish(event).await?;
        let instruments = &self.instruments;
        instruments
            .events_published
            .get_or_create(&EventTypeLabels {
                event_type: event.event_type.as_str(),
            })
            .inc();
        if event.event_type == EventType::OrderCreated {
            instruments.orders_placed.inc();
        }
        if let Some((_, outcome)) = PAYMENT_OUTCOMES
            .iter()
            .find(|(kind, _)| *kind == event.event_type)
        {
            instruments
                .payments
                .get_or_create(&OutcomeLabels { outcome })
                .inc();
        }
        Ok(())
    }

    fn subscribe(&self, group: &str, handler: Arc<dyn EventHandler>) {
        let labels = GroupLabels {
            group: group.to_owned(),
        };
        let handler = MeteredHandler {
            inner: handler,
            consumed: self
                .instruments
                .events_consumed
                .get_or_create(&labels)
                .clone(),
            failed: self
                .instruments
                .events_failed
                .get_or_create(&labels)
                .clone(),
        };
        self.inner.subscribe(group, Arc::new(handler));
    }
}

struct MeteredHandler {
    inner: Arc<dyn EventHandler>,
    consumed: Counter,
    failed: Counter,
}

#[async_trait]
impl EventHandler for MeteredHandler {
    async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error> {
        count(self.inner.handle(event).await, &self.consumed, &self.failed)
    }
}

struct MeteredReservations {
    inner: Arc<dyn StockReservations>,
    refused: Counter,
}

#[async_trait]
impl StockReservations for MeteredReservations {
    async fn reserve(
        &self,
        order_id: OrderId,
        lines: &ReservationLines,
        at: DateTime<Utc>,
    ) -> Result<Reservation, ReservationError> {
        let result = self.inner.reserve(order_id, lines, at).await;
        if let Err(ReservationError::InsufficientStock { .. }) = &result {
            self.refused.inc();
        }
        result
    }

    async fn apply(
        &self,
        order_id: OrderId,
        action: ReservationAction,
        processed: Option<ProcessedEvent>,
        at: DateTime<Utc>,
    ) -> Result<Reservation, ReservationError> {
        self.inner.apply(order_id, action, processed, at).await
    }

    async fn processed(&self, event: &ProcessedEvent) -> Result<bool, ReservationError> {
        self.inner.processed(event).await
    }

    async fn get(&self, order_id: OrderId) -> Result<Option<Reservation>, ReservationError> {
        self.inner.get(order_id).await
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::text::encode;

    use super::*;

    fn rendered(instruments: &Instruments) -> String {
        let mut registry = Registry::with_prefix("emporium");
        instruments.register(&mut registry);
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        text
    }

    /// Holds `hit`, lacks `miss`, fails on anything else.
    struct Scripted;

    #[async_trait]
    impl Cache for Scripted {
        async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
            match key {
                "hit" => Ok(Some(b"x".to_vec())),
                "miss" => Ok(None),
                _ => Err(CacheError(anyhow::anyhow!("down"))),
            }
        }
        async fn set(&self, _: &str, _: &[u8], _: Duration) -> Result<(), CacheError> {
            Ok(())
        }
        async fn delete(&self, _: &str) -> Result<(), CacheError> {
            Err(CacheError(anyhow::anyhow!("down")))
        }
        async fn ping(&self) -> Result<(), CacheError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn cache_results_are_counted_by_operation() {
        let instruments = Instruments::new();
        let cache = instruments.cache(Arc::new(Scripted));
        assert!(cache.get("hit").await.unwrap().is_some());
        assert!(cache.get("miss").await.unwrap().is_none());
        assert!(cache.get("other").await.is_err());
        cache.set("a", b"x", Duration::from_secs(1)).await.unwrap();
        assert!(cache.delete("a").await.is_err());
        let text = rendered(&instruments);
        for line in [
            r#"emporium_cache_operations_total{operation="get",result="hit"} 1"#,
            r#"emporium_cache_operations_total{operation="get",result="miss"} 1"#,
            r#"emporium_cache_operations_total{operation="get",result="error"} 1"#,
            r#"emporium_cache_operations_total{operation="set",result="ok"} 1"#,
            r#"emporium_cache_operations_total{operation="set",result="error"} 0"#,
            r#"emporium_cache_operations_total{operation="delete",result="error"} 1"#,
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }

    #[test]
    fn every_event_type_and_payment_outcome_starts_at_zero() {
        let text = rendered(&Instruments::new());
        for kind in EventType::ALL {
            let line = format!(
                "emporium_bus_events_published_total{{event_type=\"{}\"}} 0",
                kind.as_str()
            );
            assert!(text.contains(&line), "{line} not in\n{text}");
        }
        for outcome in ["succeeded", "failed", "refunded"] {
            let line = format!("emporium_payments_total{{outcome=\"{outcome}\"}} 0");
            assert!(text.contains(&line), "{line} not in\n{text}");
        }
        assert!(text.contains("emporium_orders_placed_total 0"), "{text}");
    }
}
