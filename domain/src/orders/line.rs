//! Order and cart lines: how many units of a product, at which price.

use serde::{Deserialize, Serialize};

use crate::catalog::{Price, Product, ProductId, ProductName, Sku, ValueError};
use crate::inventory::Quantity;

use super::money::Money;

/// The most lines an order or a cart may hold.
pub const MAX_LINES: usize = 50;

/// Units of one product on one line: 1 to [`LineQuantity::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct LineQuantity(u8);

impl LineQuantity {
    /// The most units of one product on one line.
    pub const MAX: i64 = 99;

    /// A quantity, refused outside `1..=99`.
    pub fn new(value: i64) -> Result<Self, ValueError> {
        if (1..=Self::MAX).contains(&value) {
            Ok(Self(value as u8))
        } else {
            Err(ValueError(format!(
                "quantity must be between 1 and {}, got {value}",
                Self::MAX
            )))
        }
    }

    /// The count.
    pub fn value(&self) -> i64 {
        i64::from(self.0)
    }

    /// The same count as a stock quantity.
    pub fn as_stock(&self) -> Quantity {
        Quantity::new(self.value()).unwrap_or(Quantity::ZERO)
    }
}

impl TryFrom<i64> for LineQuantity {
    type Error = ValueError;
    fn try_from(value: i64) -> Result<Self, ValueError> {
        Self::new(value)
    }
}

impl From<LineQuantity> for i64 {
    fn from(quantity: LineQuantity) -> i64 {
        quantity.value()
    }
}

/// A line as bought: the product and what it was called, its SKU and its unit price
/// when the line was written (a snapshot: later catalog changes do not touch it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedLine {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU at the time.
    pub sku: Sku,
    /// Its name at the time.
    pub name: ProductName,
    /// Its price at the time.
    pub unit_price: Price,
    /// How many units.
    pub quantity: LineQuantity,
}

impl PricedLine {
    /// `quantity` units of `product` as it is now: its name, SKU and price
    /// snapshotted.
    pub fn snapshot(product: Product, quantity: LineQuantity) -> Self {
        Self {
            product_id: product.id,
            sku: product.sku,
            name: product.name,
            unit_price: product.price,
            quantity,
        }
    }

    /// `quantity × unit_price`.
    pub fn line_total(&self) -> Money {
        Money::line_total(self.unit_price, self.quantity)
    }
}

/// What a customer asks for before prices are known: a product and a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedLine {
    /// The product.
    pub product_id: ProductId,
    /// How many units.
    pub quantity: LineQuantity,
}
