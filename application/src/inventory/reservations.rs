//! The inventory side of the order saga, for the orders service of a split
//! deployment (service API key only): reserve an order's stock, commit, release or
//! restock it, read it, and ask whether an event moved it. Each is a thin use case
//! over [`StockReservations`], whose adapters make every call idempotent by order id.

use std::sync::Arc;

use emporium_domain::inventory::{
    Reservation, ReservationAction, ReservationError, ReservationLines, StockReservations,
};
use emporium_domain::orders::{OrderId, ProcessedEvent};
use emporium_domain::{AccessDenied, Actor, Clock};

use crate::failure::{Failure, FailureKind, UseCaseError};

/// Failures of the reservation use cases.
#[derive(Debug, thiserror::Error)]
pub enum OrderReservationError {
    /// Only another service may call these.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The order holds no reservation.
    #[error("Order {0} holds no stock reservation.")]
    NotFound(OrderId),
    /// A line asks for more than is available; nothing was reserved.
    #[error("Only {available} units of product {product_id} are available.")]
    InsufficientStock {
        /// The first product that fell short.
        product_id: emporium_domain::catalog::ProductId,
        /// Units available then.
        available: emporium_domain::inventory::Quantity,
    },
    /// A line's product has no stock record; nothing was reserved.
    #[error("Product {0} has no stock record.")]
    UnknownProduct(emporium_domain::catalog::ProductId),
    /// The order already holds a reservation with other lines.
    #[error("Order {0} already holds a reservation with other lines.")]
    LinesDiffer(OrderId),
    /// The reservation's status forbids the action.
    #[error("Cannot {action} a {status} reservation.")]
    InvalidTransition {
        /// The refused action.
        action: ReservationAction,
        /// The reservation's status.
        status: emporium_domain::inventory::ReservationStatus,
    },
    /// Storage failed or cannot be reached.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for OrderReservationError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::InsufficientStock { product_id, .. } => {
                Failure::new(FailureKind::Invalid, "insufficient_stock")
                    .about("productId", product_id.0)
            }
            Self::UnknownProduct(product_id) => {
                Failure::new(FailureKind::Invalid, "unknown_product")
                    .about("productId", product_id.0)
            }
            Self::LinesDiffer(_) => Failure::conflict("reservation_differs"),
            Self::InvalidTransition { .. } => Failure::conflict("invalid_transition"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl From<ReservationError> for OrderReservationError {
    fn from(error: ReservationError) -> Self {
        match error {
            ReservationError::InsufficientStock {
                product_id,
                available,
            } => Self::InsufficientStock {
                product_id,
                available,
            },
            ReservationError::UnknownProduct(product_id) => Self::UnknownProduct(product_id),
            ReservationError::LinesDiffer(order_id) => Self::LinesDiffer(order_id),
            ReservationError::NotFound(order_id) => Self::NotFound(order_id),
            ReservationError::InvalidTransition { action, status } => {
                Self::InvalidTransition { action, status }
            }
            unavailable @ ReservationError::Unavailable(_) => {
                Self::Unexpected(anyhow::Error::new(unavailable))
            }
            ReservationError::Unexpected(cause) => Self::Unexpected(cause),
        }
    }
}

/// What a reservation call answered, and whether it made the reservation (a retried
/// call finds it made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserved {
    /// The reservation as it stands.
    pub reservation: Reservation,
    /// Whether this call made it.
    pub created: bool,
}

/// Reserving, moving and reading orders' stock reservations on behalf of the orders
/// service.
pub struct OrderReservations {
    reservations: Arc<dyn StockReservations>,
    clock: Arc<dyn Clock>,
}

impl OrderReservations {
    /// The use cases over the reservations port.
    pub fn new(reservations: Arc<dyn StockReservations>, clock: Arc<dyn Clock>) -> Self {
        Self {
            reservations,
            clock,
        }
    }

    /// Reserves all `lines` for `order_id`, or nothing; a repeated call with the same
    /// lines answers the existing reservation.
    #[tracing::instrument(name = "reserve_stock", skip_all, fields(order_id = %order_id))]
    pub async fn reserve(
        &self,
        actor: &Actor,
        order_id: OrderId,
        lines: &ReservationLines,
    ) -> Result<Reserved, OrderReservationError> {
        actor.ensure_service()?;
        let existed = self.reservations.get(order_id).await?.is_some();
        let reservation = self
            .reservations
            .reserve(order_id, lines, self.clock.now())
            .await?;
        Ok(Reserved {
            reservation,
            created: !existed,
        })
    }

    /// Commits, releases or restocks the order's reservation (once, whoever calls);
    /// `processed` is the event a consumer applies, recorded with the move.
    #[tracing::instrument(name = "apply_reservation", skip_all, fields(order_id = %order_id, action = %action))]
    pub async fn apply(
        &self,
        actor: &Actor,
        order_id: OrderId,
        action: ReservationAction,
        processed: Option<ProcessedEvent>,
    ) -> Result<Reservation, OrderReservationError> {
        actor.ensure_service()?;
        Ok(self
            .reservations
            .apply(order_id, action, processed, self.clock.now())
            .await?)
    }

    /// The order's reservation.
    pub async fn get(
        &self,
        actor: &Actor,
        order_id: OrderId,
    ) -> Result<Reservation, OrderReservationError> {
        actor.ensure_service()?;
        self.reservations
            .get(order_id)
            .await?
            .ok_or(OrderReservationError::NotFound(order_id))
    }

    /// Whether `event` moved a reservation here.
    pub async fn processed(
        &self,
        actor: &Actor,
        event: &ProcessedEvent,
    ) -> Result<bool, OrderReservationError> {
        actor.ensure_service()?;
        Ok(self.reservations.processed(event).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emporium_domain::inventory::MockStockReservations;
    use emporium_domain::{Role, UserId};
    use uuid::Uuid;

    use crate::inventory::test_support::clock;

    #[tokio::test]
    async fn only_services_reserve() {
        let uc = OrderReservations::new(Arc::new(MockStockReservations::new()), clock());
        let lines = ReservationLines::new([emporium_domain::inventory::ReservationLine {
            product_id: emporium_domain::catalog::ProductId(Uuid::from_u128(1)),
            quantity: emporium_domain::inventory::Quantity::new(1).unwrap(),
        }])
        .unwrap();
        let admin = Actor::User {
            id: UserId(Uuid::from_u128(2)),
            role: Role::Admin,
        };
        for (actor, denied) in [
            (admin, AccessDenied::Forbidden),
            (Actor::Anonymous, AccessDenied::Unauthenticated),
            (Actor::Callback, AccessDenied::Forbidden),
        ] {
            let error = uc
                .reserve(&actor, OrderId(Uuid::from_u128(3)), &lines)
                .await
                .unwrap_err();
            assert!(
                matches!(error, OrderReservationError::Denied(d) if d == denied),
                "{error:?}"
            );
        }
    }
}
