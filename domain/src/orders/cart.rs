//! A customer's cart: lines with the product's name, SKU and price snapshotted when
//! each line was added.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::UserId;
use crate::catalog::ProductId;

use super::line::{LineQuantity, MAX_LINES, PricedLine};
use super::money::Money;

/// Why a cart change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// A new line would exceed [`MAX_LINES`].
    #[error("a cart holds at most {MAX_LINES} lines")]
    TooManyLines,
    /// The line would hold more than [`LineQuantity::MAX`] units.
    #[error(
        "a line holds at most {} units; {requested} requested",
        LineQuantity::MAX
    )]
    TooManyUnits {
        /// The units the line would hold.
        requested: i64,
    },
    /// The product is not in the cart.
    #[error("product {0} is not in the cart")]
    NoSuchLine(ProductId),
    /// Two stored lines of one product.
    #[error("product {0} is on two lines")]
    DuplicateLine(ProductId),
}

/// What adding to the cart did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A new line.
    NewLine,
    /// More units on an existing line (its price snapshot is refreshed).
    ToExistingLine,
}

/// A customer's cart. Invariants: at most [`MAX_LINES`] lines, one per product, each
/// of 1 to 99 units.
///
/// `version` counts stored changes: a store saves a cart only if the stored one still
/// has the version it was read with, so two requests changing one cart at once
/// cannot lose either change (the loser reads again and retries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    owner: UserId,
    lines: Vec<PricedLine>,
    updated_at: DateTime<Utc>,
    version: u64,
}

impl Cart {
    /// An empty cart.
    pub fn empty(owner: UserId, at: DateTime<Utc>) -> Self {
        Self {
            owner,
            lines: Vec::new(),
            updated_at: at,
            version: 0,
        }
    }

    /// A cart as stored, at `version` (≥ 1); refused when the lines break an
    /// invariant.
    pub fn from_parts(
        owner: UserId,
        lines: Vec<PricedLine>,
        updated_at: DateTime<Utc>,
        version: u64,
    ) -> Result<Self, CartError> {
        if lines.len() > MAX_LINES {
            return Err(CartError::TooManyLines);
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = lines.iter().find(|line| !seen.insert(line.product_id)) {
            return Err(CartError::DuplicateLine(twice.product_id));
        }
        Ok(Self {
            owner,
            lines,
            updated_at,
            version,
        })
    }

    /// The stored version this cart was read at (0: never stored).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whose cart it is.
    pub fn owner(&self) -> UserId {
        self.owner
    }

    /// The lines, in the order they were first added.
    pub fn lines(&self) -> &[PricedLine] {
        &self.lines
    }

    /// The line of `product_id`, if any.
    pub fn line(&self, product_id: ProductId) -> Option<&PricedLine> {
        self.lines.iter().find(|line| line.product_id == product_id)
    }

    /// When the cart last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// The sum of the line totals.
    pub fn total(&self) -> Money {
        // 50 lines of at most 99 units at most the largest price fit by construction.
        Money::sum(self.lines.iter().map(PricedLine::line_total)).unwrap_or(Money::ZERO)
    }

    /// Whether the cart has no lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds `line.quantity` units of `line`'s product. An existing line keeps its
    /// place, gains the units and takes the new snapshot (name, SKU, price now).
    pub fn add(&mut self, line: PricedLine, at: DateTime<Utc>) -> Result<Added, CartError> {
        if let Some(existing) = self
            .lines
            .iter_mut()
            .find(|existing| existing.product_id == line.product_id)
        {
            let requested = existing.quantity.value() + line.quantity.value();
            let quantity =
                LineQuantity::new(requested).map_err(|_| CartError::TooManyUnits { requested })?;
            *existing = PricedLine { quantity, ..line };
            self.updated_at = at;
            return Ok(Added::ToExistingLine);
        }
        if self.lines.len() >= MAX_LINES {
            return Err(CartError::TooManyLines);
        }
        self.lines.push(line);
        self.updated_at = at;
        Ok(Added::NewLine)
    }

    /// Sets the units of the line of `product_id`.
    pub fn set_quantity(
        &mut self,
        product_id: ProductId,
        quantity: LineQuantity,
        at: DateTime<Utc>,
    ) -> Result<(), CartError> {
        let line = self
            .lines
            .iter_mut()
            .find(|line| line.product_id == product_id)
            .ok_or(CartError::NoSuchLine(product_id))?;
        line.quantity = quantity;
        self.updated_at = at;
        Ok(())
    }

    /// Replaces the line of `product_id` with `line` (a fresh snapshot), keeping its
    /// place: how a cart follows a price change.
    pub fn refresh(&mut self, line: PricedLine, at: DateTime<Utc>) -> Result<(), CartError> {
        let existing = self
            .lines
            .iter_mut()
            .find(|existing| existing.product_id == line.product_id)
            .ok_or(CartError::NoSuchLine(line.product_id))?;
        *existing = line;
        self.updated_at = at;
        Ok(())
    }

    /// Removes the line of `product_id`.
    pub fn remove(&mut self, product_id: ProductId, at: DateTime<Utc>) -> Result<(), CartError> {
        let before = self.lines.len();
        self.lines.retain(|line| line.product_id != product_id);
        if self.lines.len() == before {
            return Err(CartError::NoSuchLine(product_id));
        }
        self.updated_at = at;
        Ok(())
    }

    /// Removes every line.
    pub fn clear(&mut self, at: DateTime<Utc>) {
        self.lines.clear();
        self.updated_at = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Price, ProductName, Sku};
    use uuid::Uuid;

    fn line(product: u128, price: &str, quantity: i64) -> PricedLine {
        PricedLine {
            product_id: ProductId(Uuid::from_u128(product)),
            sku: Sku::new(format!("SKU-{product}")).unwrap(),
            name: ProductName::new(format!("Product {product}")).unwrap(),
            unit_price: Price::parse(price).unwrap(),
            quantity: LineQuantity::new(quantity).unwrap(),
        }
    }

    fn cart() -> Cart {
        Cart::empty(UserId(Uuid::nil()), Utc::now())
    }

    #[test]
    fn adding_twice_sums_the_line_and_takes_the_new_price() {
        let mut cart = cart();
        assert_eq!(
            cart.add(line(1, "12.50", 2), Utc::now()),
            Ok(Added::NewLine)
        );
        assert_eq!(cart.add(line(2, "1.00", 1), Utc::now()), Ok(Added::NewLine));
        assert_eq!(
            cart.add(line(1, "13.00", 3), Utc::now()),
            Ok(Added::ToExistingLine)
        );
        assert_eq!(cart.lines().len(), 2);
        assert_eq!(cart.lines()[0].quantity.value(), 5);
        assert_eq!(cart.lines()[0].unit_price.to_string(), "13.00");
        assert_eq!(cart.total().to_string(), "66.00");
    }

    #[test]
    fn limits_hold() {
        let mut cart = cart();
        cart.add(line(1, "1.00", 99), Utc::now()).unwrap();
        assert_eq!(
            cart.add(line(1, "1.00", 1), Utc::now()),
            Err(CartError::TooManyUnits { requested: 100 })
        );
        for product in 2..=50 {
            cart.add(line(product, "1.00", 1), Utc::now()).unwrap();
        }
        assert_eq!(
            cart.add(line(51, "1.00", 1), Utc::now()),
            Err(CartError::TooManyLines)
        );
        // Adding to an existing line still works at the line limit.
        assert!(cart.add(line(50, "1.00", 1), Utc::now()).is_ok());
    }

    #[test]
    fn set_remove_and_clear() {
        let mut cart = cart();
        cart.add(line(1, "2.00", 1), Utc::now()).unwrap();
        let id = ProductId(Uuid::from_u128(1));
        cart.set_quantity(id, LineQuantity::new(4).unwrap(), Utc::now())
            .unwrap();
        assert_eq!(cart.total().to_string(), "8.00");
        let other = ProductId(Uuid::from_u128(9));
        assert_eq!(
            cart.remove(other, Utc::now()),
            Err(CartError::NoSuchLine(other))
        );
        cart.remove(id, Utc::now()).unwrap();
        assert!(cart.is_empty());
        cart.add(line(1, "2.00", 1), Utc::now()).unwrap();
        cart.clear(Utc::now());
        assert_eq!(cart.total(), Money::ZERO);
    }
}
