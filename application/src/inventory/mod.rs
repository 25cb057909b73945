//! Inventory use cases: stock records per product.

mod adjust_inventory;
mod create_inventory;
mod get_inventory;
mod list_inventory;

pub use adjust_inventory::{AdjustInventory, AdjustInventoryError};
pub use create_inventory::{CreateInventory, CreateInventoryError};
pub use get_inventory::{GetInventory, GetInventoryError, InventoryView};
pub use list_inventory::{ListInventory, ListInventoryError};

#[cfg(test)]
mod test_support;
