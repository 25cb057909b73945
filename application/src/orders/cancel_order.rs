//! Cancelling an order: the owner while it is pending, an admin while it is pending
//! or paid; the expiry task for unpaid orders past their time. The stock follows
//! through the events ([`StockFollowsOrders`](super::StockFollowsOrders) releases or
//! restocks it), so a crash after the cancellation still frees the stock.

use emporium_domain::orders::{
    CancelReason, ChangedBy, EventType, Order, OrderChange, OrderId, OrderRepositoryError,
    OrderStatus, OrderTransition, ShipmentStatus, ShipmentTransition,
};
use emporium_domain::{AccessDenied, Actor, Role};

use super::OrderPorts;
use super::events::{audit, moved, order_event};
use super::queries::{viewer, visible_order};
use crate::failure::{Failure, UseCaseError};

/// Cancels an order (see the [module docs](self)).
pub struct CancelOrder {
    ports: OrderPorts,
}

/// Failures of [`CancelOrder`].
#[derive(Debug, thiserror::Error)]
pub enum CancelOrderError {
    /// Not signed in, or a service.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such order, or another customer's.
    #[error("There is no order {0}.")]
    NotFound(OrderId),
    /// The order's status forbids cancelling it (by this caller).
    #[error("A {status} order cannot be cancelled{by}.", by = if *.by_owner { " by its buyer" } else { "" })]
    InvalidTransition {
        /// The order's status.
        status: OrderStatus,
        /// Whether the caller is the buyer (who may cancel only unpaid orders).
        by_owner: bool,
    },
    /// The paid order's shipment was dispatched first (its order is about to become
    /// shipped): too late to cancel.
    #[error("The order's shipment is {0}; the order can no longer be cancelled.")]
    ShipmentMoved(ShipmentStatus),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for CancelOrderError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::InvalidTransition { .. } | Self::ShipmentMoved(_) => {
                Failure::conflict("invalid_transition")
            }
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl CancelOrder {
    /// The use case over its ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// Cancels order `id`, giving `reason` (the buyer's default reason when none).
    /// Cancelling a cancelled order changes nothing and answers it as it is.
    #[tracing::instrument(name = "cancel_order", skip_all, fields(order_id = %id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        id: OrderId,
        reason: Option<CancelReason>,
    ) -> Result<Order, CancelOrderError> {
        let order = visible_order(&self.ports, viewer(actor, false)?, id)
            .await?
            .ok_or(CancelOrderError::NotFound(id))?;
        let (admin, by) = match actor {
            Actor::User { id, role } => (*role == Role::Admin, ChangedBy::User(*id)),
            _ => return Err(CancelOrderError::Denied(AccessDenied::Forbidden)),
        };
        if order.status == OrderStatus::Cancelled {
            return Ok(order);
        }
        let allowed = match order.status {
            OrderStatus::Pending => true,
            OrderStatus::Paid => admin,
            _ => false,
        };
        if !allowed {
            return Err(CancelOrderError::InvalidTransition {
                status: order.status,
                by_owner: !admin,
            });
        }
        let reason = reason.unwrap_or_else(CancelReason::cancelled_by_customer);
        cancel(&self.ports, &order, reason, by).await
    }
}

/// Moves `order` to cancelled (with its shipment), recording `reason` and `by`, and
/// emits `order.status_changed` and `order.cancelled`. Losing a race to another
/// cancellation answers the cancelled order; losing it to any other move is
/// `InvalidTransition`, and to the shipment's dispatch `ShipmentMoved`.
pub(crate) async fn cancel(
    ports: &OrderPorts,
    order: &Order,
    reason: CancelReason,
    by: ChangedBy,
) -> Result<Order, CancelOrderError> {
    let (transition, shipment) = match order.status {
        OrderStatus::Pending => (
            OrderTransition::CancelUnpaid,
            ShipmentTransition::CancelUnpaid,
        ),
        OrderStatus::Paid => (OrderTransition::CancelPaid, ShipmentTransition::CancelReady),
        status => {
            return Err(CancelOrderError::InvalidTransition {
                status,
                by_owner: false,
            });
        }
    };
    let now = ports.clock.now();
    let after = Order {
        cancel_reason: Some(reason.clone()),
        ..moved(order, transition, now)
    };
    let ids = ports.ids.as_ref();
    let change = OrderChange {
        order_id: order.id,
        transition,
        cancel_reason: Some(reason.clone()),
        shipment: Some(shipment),
        audit: audit(
            ids,
            order,
            transition,
            by,
            Some(reason.as_str().to_owned()),
            now,
        ),
        events: vec![
            order_event(ids, EventType::OrderStatusChanged, &after, Some(order), now),
            order_event(ids, EventType::OrderCancelled, &after, Some(order), now),
        ],
        processed: None,
        at: now,
    };
    match ports.orders.change(&change).await {
        Ok(cancelled) => {
            tracing::info!(order_id = %order.id, reason = reason.as_str(), "order cancelled");
            Ok(cancelled)
        }
        Err(OrderRepositoryError::Stale {
            current: OrderStatus::Cancelled,
            ..
        }) => ports
            .orders
            .get(order.id)
            .await
            .map_err(|error| CancelOrderError::Unexpected(error.into()))?
            .ok_or(CancelOrderError::NotFound(order.id)),
        Err(OrderRepositoryError::Stale { current, .. }) => {
            Err(CancelOrderError::InvalidTransition {
                status: current,
                by_owner: false,
            })
        }
        Err(OrderRepositoryError::ShipmentMoved { current, .. }) => {
            Err(CancelOrderError::ShipmentMoved(current))
        }
        Err(OrderRepositoryError::NotFound(id)) => Err(CancelOrderError::NotFound(id)),
        Err(other) => Err(CancelOrderError::Unexpected(
            anyhow::Error::new(other).context("cancelling the order"),
        )),
    }
}
