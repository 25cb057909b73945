//! The inventory storage port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::item::{InventoryItem, Quantity, QuantityDelta};
use super::reservation::{Reservation, ReservationAction, ReservationError, ReservationLines};
use crate::catalog::ProductId;
use crate::orders::{OrderId, ProcessedEvent};
use crate::pagination::{Page, PageRequest};

/// Failures of [`InventoryRepository`].
#[derive(Debug, thiserror::Error)]
pub enum InventoryRepositoryError {
    /// The product already has a stock record.
    #[error("product {0} already has a stock record")]
    AlreadyExists(ProductId),
    /// The product has no stock record.
    #[error("product {0} has no stock record")]
    NotFound(ProductId),
    /// The change would take on-hand stock below the reserved quantity.
    #[error("insufficient stock: {available} available")]
    InsufficientStock {
        /// Units available when the change was refused.
        available: Quantity,
    },
    /// Units of the record to delete are reserved for orders.
    #[error("{reserved} units are reserved")]
    Reserved {
        /// Units reserved.
        reserved: Quantity,
    },
    /// The change would take on-hand stock above [`Quantity::MAX`].
    #[error("on-hand stock would exceed {max}", max = Quantity::MAX)]
    Overflow,
    /// The store cannot be reached now (connection refused, no free connection,
    /// server gone); the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores stock records. Every change is one atomic, conditional update in the
/// store (never read-modify-write), so concurrent changes from any number of
/// processes can never take stock below zero or below the reserved quantity.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait InventoryRepository: Send + Sync {
    /// Creates the record. Errors: `AlreadyExists`, `Unavailable`, `Unexpected`.
    async fn create(&self, item: &InventoryItem) -> Result<(), InventoryRepositoryError>;
    /// The record of this product, if any. Errors: `Unavailable`, `Unexpected`.
    async fn get(
        &self,
        product_id: ProductId,
    ) -> Result<Option<InventoryItem>, InventoryRepositoryError>;
    /// A page of records ordered by product id. Errors: `Unavailable`, `Unexpected`.
    async fn list(
        &self,
        page: PageRequest,
    ) -> Result<Page<InventoryItem>, InventoryRepositoryError>;
    /// Adds `delta` to on-hand stock atomically, following
    /// [`InventoryItem::adjusted`], and returns the record after the change.
    /// Errors: `NotFound`, `InsufficientStock`, `Overflow`, `Unavailable`, `Unexpected`.
    async fn adjust(
        &self,
        product_id: ProductId,
        delta: QuantityDelta,
        at: DateTime<Utc>,
    ) -> Result<InventoryItem, InventoryRepositoryError>;
    /// Deletes the record of this product, in one conditional statement, unless
    /// units of it are reserved. Errors: `NotFound`, `Reserved`, `Unavailable`,
    /// `Unexpected`.
    async fn delete(&self, product_id: ProductId) -> Result<(), InventoryRepositoryError>;
    /// Checks that the store answers (readiness probes). Errors: `Unavailable`, `Unexpected`.
    async fn ping(&self) -> Result<(), InventoryRepositoryError>;
}

/// Holds stock for orders: reserve every line of an order or none, then commit,
/// release or restock it (see [the state machine](super::reservation)).
///
/// Each line is one conditional atomic update in the store, so however many orders
/// race for the last units, exactly as many succeed as there are units. Every method
/// is idempotent by order id and safe to call from several processes at once: a
/// repeated call that already took effect changes nothing and returns the
/// reservation as it is.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait StockReservations: Send + Sync {
    /// Reserves all `lines` for `order_id`, or nothing. A repeated call with the same
    /// lines returns the existing reservation, whatever its status (a released one is
    /// not reserved again). Errors: `InsufficientStock`, `UnknownProduct`,
    /// `LinesDiffer`, `Unavailable`, `Unexpected`.
    async fn reserve(
        &self,
        order_id: OrderId,
        lines: &ReservationLines,
        at: DateTime<Utc>,
    ) -> Result<Reservation, ReservationError>;

    /// Applies `action` to the order's reservation (once, whoever calls). A consumer
    /// passes the event it is handling as `processed`: its record is written in the
    /// same atomic change as the reservation's status move, and only when the move
    /// takes effect, so [`processed`](Self::processed) names exactly the events that
    /// moved a reservation. (A store without multi-document transactions may apply
    /// the stock lines after the move; a repeated call finishes them.)
    /// Errors: `NotFound`, `InvalidTransition`, `Unavailable`, `Unexpected`.
    async fn apply(
        &self,
        order_id: OrderId,
        action: ReservationAction,
        processed: Option<ProcessedEvent>,
        at: DateTime<Utc>,
    ) -> Result<Reservation, ReservationError>;

    /// Whether `event` moved a reservation here (its processed-event record exists).
    /// Errors: `Unavailable`, `Unexpected`.
    async fn processed(&self, event: &ProcessedEvent) -> Result<bool, ReservationError>;

    /// The order's reservation, if any. Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, order_id: OrderId) -> Result<Option<Reservation>, ReservationError>;
}
