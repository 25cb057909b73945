//! Fixtures shared by the inventory use-case tests.

pub use crate::catalog::test_support::{admin, clock, customer, now};
use emporium_domain::catalog::{Product, ProductId};
use emporium_domain::inventory::{InventoryItem, Quantity};
use uuid::Uuid;

pub fn product_id() -> ProductId {
    ProductId(Uuid::from_u128(1))
}

pub fn product() -> Product {
    crate::catalog::test_support::product(1)
}

pub fn item(on_hand: i64, reserved: i64) -> InventoryItem {
    InventoryItem::new(
        product_id(),
        Quantity::new(on_hand).unwrap(),
        Quantity::new(reserved).unwrap(),
        now(),
    )
    .unwrap()
}
