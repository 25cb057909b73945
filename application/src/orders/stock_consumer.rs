//! Stock follows orders: the consumer group that commits, releases or restocks an
//! order's reservation when the order's status changes. Reservation actions are
//! idempotent by order id, so a redelivered event changes nothing; the event that
//! moved a reservation is recorded as processed in the same atomic change.

use std::sync::Arc;

use async_trait::async_trait;
use emporium_domain::Clock;
use emporium_domain::inventory::{ReservationAction, ReservationError, StockReservations};
use emporium_domain::orders::{DomainEvent, EventHandler, EventType, OrderStatus, ProcessedEvent};

/// Applies `order.status_changed` to the order's stock: paid → commit; cancelled
/// while pending → release; cancelled after payment → restock.
pub struct StockFollowsOrders {
    reservations: Arc<dyn StockReservations>,
    clock: Arc<dyn Clock>,
}

impl StockFollowsOrders {
    /// The consumer group's name.
    pub const GROUP: &'static str = "stock";

    /// The consumer over the reservations port.
    pub fn new(reservations: Arc<dyn StockReservations>, clock: Arc<dyn Clock>) -> Self {
        Self {
            reservations,
            clock,
        }
    }

    /// The reservation action an event calls for, if any.
    pub fn action_for(event: &DomainEvent) -> Option<ReservationAction> {
        if event.event_type != EventType::OrderStatusChanged {
            return None;
        }
        match (event.data.previous_status, event.data.status) {
            (_, OrderStatus::Paid) => Some(ReservationAction::Commit),
            (Some(OrderStatus::Pending), OrderStatus::Cancelled) => {
                Some(ReservationAction::Release)
            }
            (Some(OrderStatus::Paid), OrderStatus::Cancelled) => Some(ReservationAction::Restock),
            _ => None,
        }
    }
}

#[async_trait]
impl EventHandler for StockFollowsOrders {
    async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error> {
        let Some(action) = Self::action_for(event) else {
            return Ok(());
        };
        let order_id = event.data.order_id;
        let processed = ProcessedEvent {
            consumer: Self::GROUP.to_owned(),
            event_id: event.id,
        };
        match self
            .reservations
            .apply(order_id, action, Some(processed), self.clock.now())
            .await
        {
            Ok(reservation) => {
                tracing::info!(order_id = %order_id, action = %action, status = %reservation.status, "stock follows the order");
                Ok(())
            }
            // Statuses move one way, so a reservation past this action (or never
            // made) will never need it: nothing to retry.
            Err(
                error
                @ (ReservationError::InvalidTransition { .. } | ReservationError::NotFound(_)),
            ) => {
                tracing::error!(order_id = %order_id, action = %action, error = %error, "the order's stock cannot follow it");
                Ok(())
            }
            Err(error) => {
                Err(anyhow::Error::new(error).context(format!("{action} of order {order_id}")))
            }
        }
    }
}
