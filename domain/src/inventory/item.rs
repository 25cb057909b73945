//! The stock record of a product and its quantities.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::ProductId;

/// A count of units: 0 to [`Quantity::MAX`] (one billion), so sums never overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Quantity(i64);

impl Quantity {
    /// The largest quantity a stock record may hold.
    pub const MAX: i64 = 1_000_000_000;
    /// No units.
    pub const ZERO: Quantity = Quantity(0);

    /// A quantity, refused when negative or above [`Quantity::MAX`].
    pub fn new(value: i64) -> Result<Self, StockError> {
        if (0..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(StockError::OutOfRange { value })
        }
    }

    /// The count.
    pub fn value(&self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = StockError;
    fn try_from(value: i64) -> Result<Self, StockError> {
        Self::new(value)
    }
}

impl From<Quantity> for i64 {
    fn from(value: Quantity) -> i64 {
        value.0
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A signed change of on-hand stock: non-zero, at most [`Quantity::MAX`] either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct QuantityDelta(i64);

impl QuantityDelta {
    /// A delta, refused when zero or larger in size than [`Quantity::MAX`].
    pub fn new(value: i64) -> Result<Self, StockError> {
        if value == 0 {
            Err(StockError::ZeroDelta)
        } else if value.unsigned_abs() > Quantity::MAX as u64 {
            Err(StockError::OutOfRange { value })
        } else {
            Ok(Self(value))
        }
    }

    /// The signed amount.
    pub fn value(&self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for QuantityDelta {
    type Error = StockError;
    fn try_from(value: i64) -> Result<Self, StockError> {
        Self::new(value)
    }
}

impl From<QuantityDelta> for i64 {
    fn from(value: QuantityDelta) -> i64 {
        value.0
    }
}

/// Why a stock value or change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// A quantity outside `0..=Quantity::MAX`.
    #[error("quantity must be between 0 and {max}, got {value}", max = Quantity::MAX)]
    OutOfRange {
        /// The refused value.
        value: i64,
    },
    /// A delta of zero changes nothing and is refused.
    #[error("quantity delta must not be zero")]
    ZeroDelta,
    /// More reserved than on hand.
    #[error("reserved ({reserved}) must not exceed on-hand ({on_hand})")]
    ReservedExceedsOnHand {
        /// On hand.
        on_hand: i64,
        /// Reserved.
        reserved: i64,
    },
    /// The change would take on-hand stock below the reserved quantity (or below 0).
    #[error("insufficient stock: {available} available, change of {requested} refused")]
    Insufficient {
        /// Units available before the change.
        available: i64,
        /// The refused delta.
        requested: i64,
    },
    /// The change would take on-hand stock above [`Quantity::MAX`].
    #[error("on-hand stock would exceed {max}", max = Quantity::MAX)]
    Overflow,
}

/// The stock record of one product. Invariant: `0 <= reserved <= on_hand`, so
/// `available = on_hand - reserved` is never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    product_id: ProductId,
    on_hand: Quantity,
    reserved: Quantity,
    updated_at: DateTime<Utc>,
}

impl InventoryItem {
    /// A stock record; refused when more is reserved than on hand.
    pub fn new(
        product_id: ProductId,
        on_hand: Quantity,
        reserved: Quantity,
        updated_at: DateTime<Utc>,
    ) -> Result<Self, StockError> {
        if reserved > on_hand {
            return Err(StockError::ReservedExceedsOnHand {
                on_hand: on_hand.value(),
                reserved: reserved.value(),
            });
        }
        Ok(Self {
            product_id,
            on_hand,
            reserved,
            updated_at,
        })
    }

    /// The product this record counts.
    pub fn product_id(&self) -> ProductId {
        self.product_id
    }

    /// Units physically in stock.
    pub fn on_hand(&self) -> Quantity {
        self.on_hand
    }

    /// Units promised to orders not yet shipped.
    pub fn reserved(&self) -> Quantity {
        self.reserved
    }

    /// Units that can still be sold: on hand minus reserved.
    pub fn available(&self) -> Quantity {
        Quantity(self.on_hand.0 - self.reserved.0)
    }

    /// When the record last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// The record after adding `delta` to on-hand stock. Refused with
    /// [`StockError::Insufficient`] when on-hand would fall below the reserved
    /// quantity (and so below zero), and with [`StockError::Overflow`] above
    /// [`Quantity::MAX`]. Adapters apply the same rule atomically in storage.
    pub fn adjusted(&self, delta: QuantityDelta, now: DateTime<Utc>) -> Result<Self, StockError> {
        let on_hand = self.on_hand.0 + delta.0;
        if on_hand < self.reserved.0 {
            return Err(StockError::Insufficient {
                available: self.available().0,
                requested: delta.0,
            });
        }
        if on_hand > Quantity::MAX {
            return Err(StockError::Overflow);
        }
        Ok(Self {
            on_hand: Quantity(on_hand),
            updated_at: now,
            ..*self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn item(on_hand: i64, reserved: i64) -> InventoryItem {
        InventoryItem::new(
            ProductId(Uuid::nil()),
            Quantity::new(on_hand).unwrap(),
            Quantity::new(reserved).unwrap(),
            Utc::now(),
        )
        .unwrap()
    }

    #[test]
    fn quantities_are_bounded() {
        assert!(Quantity::new(-1).is_err());
        assert!(Quantity::new(Quantity::MAX + 1).is_err());
        assert_eq!(QuantityDelta::new(0), Err(StockError::ZeroDelta));
        assert!(QuantityDelta::new(-Quantity::MAX).is_ok());
        assert!(QuantityDelta::new(i64::MIN).is_err());
    }

    #[test]
    fn reserved_cannot_exceed_on_hand() {
        let r = InventoryItem::new(
            ProductId(Uuid::nil()),
            Quantity::new(1).unwrap(),
            Quantity::new(2).unwrap(),
            Utc::now(),
        );
        assert!(matches!(r, Err(StockError::ReservedExceedsOnHand { .. })));
    }

    #[test]
    fn adjust_respects_reserved_stock() {
        let stock = item(10, 4);
        assert_eq!(stock.available().value(), 6);
        let after = stock
            .adjusted(QuantityDelta::new(-6).unwrap(), Utc::now())
            .unwrap();
        assert_eq!(after.on_hand().value(), 4);
        assert_eq!(after.available().value(), 0);
        assert_eq!(
            stock.adjusted(QuantityDelta::new(-7).unwrap(), Utc::now()),
            Err(StockError::Insufficient {
                available: 6,
                requested: -7
            })
        );
        let full = item(Quantity::MAX, 0);
        assert_eq!(
            full.adjusted(QuantityDelta::new(1).unwrap(), Utc::now()),
            Err(StockError::Overflow)
        );
    }
}
