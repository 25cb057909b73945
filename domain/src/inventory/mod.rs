//! Inventory: one stock record per product, with on-hand and reserved quantities.

mod item;
mod ports;
pub mod reservation;

pub use item::{InventoryItem, Quantity, QuantityDelta, StockError};
pub use ports::{InventoryRepository, InventoryRepositoryError, StockReservations};
#[cfg(feature = "mocks")]
pub use ports::{MockInventoryRepository, MockStockReservations};
pub use reservation::{
    ActionOutcome, MAX_RESERVATION_LINES, Reservation, ReservationAction, ReservationError,
    ReservationLine, ReservationLines, ReservationLinesError, ReservationStatus,
};
