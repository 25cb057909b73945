//! Inventory: one stock record per product, with on-hand and reserved quantities.

mod item;
mod ports;

pub use item::{InventoryItem, Quantity, QuantityDelta, StockError};
pub use ports::{InventoryRepository, InventoryRepositoryError};
#[cfg(feature = "mocks")]
pub use ports::MockInventoryRepository;
