//! Inventory use cases: stock records per product, and [`Inventory`], all of them
//! built over one set of ports.

mod adjust_inventory;
mod create_inventory;
mod delete_inventory;
mod get_inventory;
mod list_inventory;
mod reservations;

use std::sync::Arc;

use emporium_domain::Clock;
use emporium_domain::catalog::ProductCatalog;
use emporium_domain::inventory::{InventoryRepository, StockReservations};

pub use adjust_inventory::{AdjustInventory, AdjustInventoryError};
pub use create_inventory::{CreateInventory, CreateInventoryError};
pub use delete_inventory::{DeleteInventory, DeleteInventoryError};
pub use get_inventory::{GetInventory, GetInventoryError, InventoryView};
pub use list_inventory::{ListInventory, ListInventoryError};
pub use reservations::{OrderReservationError, OrderReservations, Reserved};

#[cfg(test)]
mod test_support;

/// The ports the inventory use cases drive.
#[derive(Clone)]
pub struct InventoryPorts {
    /// Stock record storage.
    pub inventory: Arc<dyn InventoryRepository>,
    /// The catalog, asked whether products exist (and for `include=product`).
    pub catalog: Arc<dyn ProductCatalog>,
    /// Orders' stock reservations.
    pub reservations: Arc<dyn StockReservations>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// Every inventory use case, over one set of ports.
pub struct Inventory {
    /// Creates a product's stock record.
    pub create: CreateInventory,
    /// Reads a stock record, optionally with its product.
    pub get: GetInventory,
    /// Lists stock records.
    pub list: ListInventory,
    /// Adjusts on-hand stock.
    pub adjust: AdjustInventory,
    /// Removes a stock record that has nothing reserved.
    pub delete: DeleteInventory,
    /// Orders' stock reservations, for the orders service.
    pub reservations: OrderReservations,
}

impl Inventory {
    /// The use cases over `ports`.
    pub fn new(ports: InventoryPorts) -> Self {
        let InventoryPorts {
            inventory,
            catalog,
            reservations,
            clock,
        } = ports;
        Self {
            create: CreateInventory::new(inventory.clone(), catalog.clone(), clock.clone()),
            get: GetInventory::new(inventory.clone(), catalog),
            list: ListInventory::new(inventory.clone()),
            adjust: AdjustInventory::new(inventory.clone(), clock.clone()),
            delete: DeleteInventory::new(inventory),
            reservations: OrderReservations::new(reservations, clock),
        }
    }
}
