//! Inventory: one stock record per product, with on-hand and reserved quantities.

mod item;
mod ports;

pub use item::{InventoryItem, Quantity, QuantityDelta, StockError};
#[cfg(feature = "mocks")]
pub use ports::MockInventoryRepository;
pub use ports::{InventoryRepository, InventoryRepositoryError};
