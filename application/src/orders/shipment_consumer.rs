//! The order follows its shipment: the consumer group `order-shipments` moves the
//! order to shipped on `shipment.dispatched` and to delivered on
//! `shipment.delivered`, writing the audit row (naming who moved the shipment),
//! `order.status_changed` and its processed-event record in one transaction.
//!
//! Applied by state, since a bus promises no order: a delivery that arrives before
//! the order is shipped is left for redelivery; an event the order already reflects
//! changes nothing.

use async_trait::async_trait;
use emporium_domain::orders::{
    ChangedBy, DomainEvent, EventHandler, EventType, OrderChange, OrderRepositoryError,
    OrderStatus, OrderTransition, ProcessedEvent,
};

use super::OrderPorts;
use super::events::{audit, moved, order_event};
use super::shipping::with_shipment;

/// The consumer (see the [module docs](self)).
pub struct OrdersFollowShipments {
    ports: OrderPorts,
}

/// What an order in some status makes of a shipment's event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Make the move.
    Apply,
    /// The order already reflects the event.
    Done,
    /// The event came before the one it follows: leave it for redelivery.
    NotYet,
    /// The order can never take the move (it was cancelled): drop the event.
    Never,
}

fn step(transition: OrderTransition, order: OrderStatus) -> Step {
    match (transition, order) {
        (transition, status) if status == transition.from() => Step::Apply,
        (transition, status) if status == transition.to() => Step::Done,
        (OrderTransition::Ship, OrderStatus::Delivered) => Step::Done,
        (_, OrderStatus::Cancelled) => Step::Never,
        _ => Step::NotYet,
    }
}

impl OrdersFollowShipments {
    /// The consumer group's name.
    pub const GROUP: &'static str = "order-shipments";

    /// The consumer over the order ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    async fn follow(&self, event: &DomainEvent, transition: OrderTransition) -> anyhow::Result<()> {
        let ports = &self.ports;
        let order_id = event.data.order_id;
        let Some(order) = ports.orders.get(order_id).await? else {
            anyhow::bail!("{} for unknown order {order_id}", event.event_type);
        };
        match step(transition, order.status) {
            Step::Apply => {}
            Step::Done => return Ok(()),
            Step::NotYet => anyhow::bail!(
                "order {order_id} is {}: {} waits for the move before it",
                order.status,
                event.event_type
            ),
            Step::Never => {
                tracing::warn!(
                    order_id = %order_id,
                    event_id = %event.id,
                    event_type = %event.event_type,
                    "the order was cancelled; its shipment's event is dropped"
                );
                return Ok(());
            }
        }
        let shipment = match event.data.shipment_id {
            Some(id) => ports.shipments.get(id).await?,
            None => None,
        };
        let by = shipment
            .as_ref()
            .and_then(|shipment| match transition {
                OrderTransition::Ship => shipment.dispatched_by,
                _ => shipment.delivered_by,
            })
            .unwrap_or(ChangedBy::System);
        let dispatch = shipment
            .as_ref()
            .and_then(|shipment| shipment.dispatch.as_ref());
        let detail = match (transition, dispatch) {
            (OrderTransition::Ship, Some(dispatch)) => format!(
                "{} {}",
                dispatch.carrier.as_str(),
                dispatch.tracking_number.as_str()
            ),
            (OrderTransition::Ship, None) => "dispatched".to_owned(),
            _ => "delivered".to_owned(),
        };
        let now = ports.clock.now();
        let after = moved(&order, transition, now);
        let ids = ports.ids.as_ref();
        let mut status_event = order_event(
            ids,
            EventType::OrderStatusChanged,
            &after,
            Some(&order),
            now,
        );
        if let Some(shipment) = &shipment {
            with_shipment(&mut status_event, shipment.id, dispatch);
        }
        let change = OrderChange {
            order_id,
            transition,
            cancel_reason: None,
            shipment: None,
            audit: audit(ids, &order, transition, by, Some(detail), now),
            events: vec![status_event],
            processed: Some(ProcessedEvent {
                consumer: Self::GROUP.to_owned(),
                event_id: event.id,
            }),
            at: now,
        };
        match ports.orders.change(&change).await {
            Ok(_) => {
                tracing::info!(order_id = %order_id, status = %transition.to(), "order follows its shipment");
                Ok(())
            }
            Err(OrderRepositoryError::AlreadyProcessed) => Ok(()),
            // Another delivery of this event won the race; the next one re-reads the
            // order and finds it done.
            Err(error) => Err(anyhow::Error::new(error).context("moving the order")),
        }
    }
}

#[async_trait]
impl EventHandler for OrdersFollowShipments {
    async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error> {
        match event.event_type {
            EventType::ShipmentDispatched => self.follow(event, OrderTransition::Ship).await,
            EventType::ShipmentDelivered => self.follow(event, OrderTransition::Deliver).await,
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use emporium_domain::UserId;
    use emporium_domain::orders::{
        Carrier, Dispatch, EventData, EventId, MockOrderRepository, MockShipmentRepository,
        Shipment, ShipmentId, ShipmentStatus, TrackingNumber,
    };
    use uuid::Uuid;

    use super::*;
    use crate::catalog::test_support::now;
    use crate::orders::test_support::{mock_ports, order};

    const ADMIN: UserId = UserId(Uuid::from_u128(1));

    fn dispatched() -> Shipment {
        let order = order(OrderStatus::Paid);
        Shipment {
            id: ShipmentId(Uuid::from_u128(8)),
            order_id: order.id,
            user_id: order.user_id,
            status: ShipmentStatus::Dispatched,
            dispatch: Some(Dispatch {
                carrier: Carrier::new("DHL").unwrap(),
                tracking_number: TrackingNumber::new("JD0146").unwrap(),
            }),
            dispatched_by: Some(ChangedBy::User(ADMIN)),
            delivered_by: None,
            created_at: now(),
            updated_at: now(),
        }
    }

    fn event(kind: EventType) -> DomainEvent {
        DomainEvent {
            id: EventId(Uuid::from_u128(42)),
            event_type: kind,
            timestamp: now(),
            data: EventData {
                shipment_id: Some(ShipmentId(Uuid::from_u128(8))),
                ..EventData::about(&order(OrderStatus::Paid))
            },
        }
    }

    fn consumer(status: OrderStatus, orders: MockOrderRepository) -> OrdersFollowShipments {
        let mut orders = orders;
        orders
            .expect_get()
            .returning(move |_| Ok(Some(order(status))));
        let mut shipments = MockShipmentRepository::new();
        shipments.expect_get().returning(|_| Ok(Some(dispatched())));
        OrdersFollowShipments::new(OrderPorts {
            orders: Arc::new(orders),
            shipments: Arc::new(shipments),
            ..mock_ports()
        })
    }

    /// A dispatch ships the paid order: the audit row names the admin who dispatched
    /// and the parcel, `order.status_changed` carries carrier and tracking number,
    /// and the event is recorded as processed in the same change.
    #[tokio::test]
    async fn a_dispatch_ships_the_paid_order_naming_who_dispatched() {
        let mut orders = MockOrderRepository::new();
        orders
            .expect_change()
            .withf(|change| {
                let status = &change.events[0];
                change.transition == OrderTransition::Ship
                    && change.shipment.is_none()
                    && change.audit.actor == ChangedBy::User(ADMIN)
                    && change.audit.detail.as_deref() == Some("DHL JD0146")
                    && status.event_type == EventType::OrderStatusChanged
                    && status.data.status == OrderStatus::Shipped
                    && status.data.previous_status == Some(OrderStatus::Paid)
                    && status.data.tracking_number.as_deref() == Some("JD0146")
                    && change.processed
                        == Some(ProcessedEvent {
                            consumer: "order-shipments".to_owned(),
                            event_id: EventId(Uuid::from_u128(42)),
                        })
            })
            .times(1)
            .returning(|_| Ok(order(OrderStatus::Shipped)));
        consumer(OrderStatus::Paid, orders)
            .handle(&event(EventType::ShipmentDispatched))
            .await
            .unwrap();
    }

    /// An event the order already reflects changes nothing; one for a cancelled
    /// order is dropped; a delivery before the order is shipped is left for
    /// redelivery (an error), since the bus promises no order.
    #[tokio::test]
    async fn events_apply_by_the_orders_state() {
        for (status, kind, redeliver) in [
            (OrderStatus::Shipped, EventType::ShipmentDispatched, false),
            (OrderStatus::Delivered, EventType::ShipmentDispatched, false),
            (OrderStatus::Delivered, EventType::ShipmentDelivered, false),
            (OrderStatus::Cancelled, EventType::ShipmentDispatched, false),
            (OrderStatus::Paid, EventType::ShipmentDelivered, true),
        ] {
            let mut orders = MockOrderRepository::new();
            orders.expect_change().never();
            let handled = consumer(status, orders).handle(&event(kind)).await;
            assert_eq!(handled.is_err(), redeliver, "{status} {kind}: {handled:?}");
        }
    }

    /// A redelivered event that a first delivery already applied is fine.
    #[tokio::test]
    async fn a_redelivery_is_recognised() {
        let mut orders = MockOrderRepository::new();
        orders
            .expect_change()
            .times(1)
            .returning(|_| Err(OrderRepositoryError::AlreadyProcessed));
        consumer(OrderStatus::Shipped, orders)
            .handle(&event(EventType::ShipmentDelivered))
            .await
            .unwrap();
    }
}
