//! The order: what was bought, at which prices, by whom, and where it stands; and
//! its audit trail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::UserId;
use crate::accounts::Email;
use crate::catalog::{ProductId, ValueError, string_value, trimmed_with_length};
use crate::inventory::{ReservationLine, ReservationLines, ReservationLinesError};

use super::address::ShippingAddress;
use super::id::OrderId;
use super::line::{MAX_LINES, PricedLine};
use super::money::{Currency, Money};
use super::status::{OrderStatus, OrderTransition};

/// The lines of an order: 1 to [`MAX_LINES`], each priced when the order was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<PricedLine>", into = "Vec<PricedLine>")]
pub struct OrderLines(Vec<PricedLine>);

impl OrderLines {
    /// Lines in the order given; refused when empty or more than [`MAX_LINES`].
    /// Two lines of one product are allowed (they are summed for the reservation).
    pub fn new(lines: Vec<PricedLine>) -> Result<Self, ValueError> {
        if lines.is_empty() {
            return Err(ValueError("an order needs at least one line".into()));
        }
        if lines.len() > MAX_LINES {
            return Err(ValueError(format!(
                "an order holds at most {MAX_LINES} lines, got {}",
                lines.len()
            )));
        }
        Ok(Self(lines))
    }

    /// The lines.
    pub fn lines(&self) -> &[PricedLine] {
        &self.0
    }

    /// The sum of the line totals (always within [`Money::max`]).
    pub fn total(&self) -> Money {
        Money::sum(self.0.iter().map(PricedLine::line_total)).unwrap_or(Money::ZERO)
    }

    /// The stock to reserve: one line per product, summed.
    pub fn reservation(&self) -> Result<ReservationLines, ReservationLinesError> {
        ReservationLines::new(self.0.iter().map(|line| ReservationLine {
            product_id: line.product_id,
            quantity: line.quantity.as_stock(),
        }))
    }

    /// The products on the order.
    pub fn product_ids(&self) -> impl Iterator<Item = ProductId> + '_ {
        self.0.iter().map(|line| line.product_id)
    }
}

impl TryFrom<Vec<PricedLine>> for OrderLines {
    type Error = ValueError;
    fn try_from(lines: Vec<PricedLine>) -> Result<Self, ValueError> {
        Self::new(lines)
    }
}

impl From<OrderLines> for Vec<PricedLine> {
    fn from(lines: OrderLines) -> Self {
        lines.0
    }
}

string_value!(
    /// Why an order was cancelled: trimmed, 1 to 200 characters. The system's own
    /// reasons are [`CancelReason::payment_timeout`] and
    /// [`CancelReason::cancelled_by_customer`].
    CancelReason,
    |value| trimmed_with_length(value, "reason", 200)
);

impl CancelReason {
    /// An unpaid order expired.
    pub fn payment_timeout() -> Self {
        Self("payment_timeout".to_owned())
    }

    /// The customer cancelled without giving a reason.
    pub fn cancelled_by_customer() -> Self {
        Self("cancelled_by_customer".to_owned())
    }
}

/// An order. Its status changes only through [`OrderTransition`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Identity (also the key of its stock reservation).
    pub id: OrderId,
    /// The buyer.
    pub user_id: UserId,
    /// The buyer's email when the order was placed (every event names the buyer
    /// without asking the users service).
    pub email: Email,
    /// What was bought.
    pub lines: OrderLines,
    /// The sum of the lines.
    pub total: Money,
    /// The shop currency when it was placed.
    pub currency: Currency,
    /// Where it goes.
    pub shipping_address: ShippingAddress,
    /// Where it stands.
    pub status: OrderStatus,
    /// An unpaid order is cancelled after this instant.
    pub pay_by: DateTime<Utc>,
    /// Why it was cancelled, once it is.
    pub cancel_reason: Option<CancelReason>,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Who made a change in an order's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ChangedBy {
    /// A signed-in user (the owner or an admin).
    User(UserId),
    /// Emporium itself: expiry, recovery, an event consumer.
    System,
    /// Another service with the service API key.
    Service,
    /// The payment provider's or the carrier's callback.
    Provider,
}

impl std::fmt::Display for ChangedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::System => f.write_str("system"),
            Self::Service => f.write_str("service"),
            Self::Provider => f.write_str("provider"),
        }
    }
}

/// What an audit row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEventKind {
    /// The order was placed.
    Created,
    /// Its status moved.
    StatusChanged,
    /// A payment for it was created, succeeded, failed or refunded.
    Payment,
}

impl OrderEventKind {
    /// The kind as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::StatusChanged => "status_changed",
            Self::Payment => "payment",
        }
    }
}

/// One row of an order's audit trail: every change, who made it, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// Identity (a UUID v7, so rows sort by time).
    pub id: uuid::Uuid,
    /// The order.
    pub order_id: OrderId,
    /// What happened.
    pub kind: OrderEventKind,
    /// The status before (none for `created`).
    pub from_status: Option<OrderStatus>,
    /// The status after.
    pub to_status: OrderStatus,
    /// Who did it.
    pub actor: ChangedBy,
    /// Free text: a cancel reason, a carrier and tracking number, a payment id.
    pub detail: Option<String>,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

impl OrderEvent {
    /// The audit row of `transition`.
    pub fn transition(
        id: uuid::Uuid,
        order_id: OrderId,
        transition: OrderTransition,
        actor: ChangedBy,
        detail: Option<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            order_id,
            kind: OrderEventKind::StatusChanged,
            from_status: Some(transition.from()),
            to_status: transition.to(),
            actor,
            detail,
            occurred_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Price, ProductName, Sku};
    use crate::orders::LineQuantity;
    use uuid::Uuid;

    fn line(product: u128, price: &str, quantity: i64) -> PricedLine {
        PricedLine {
            product_id: ProductId(Uuid::from_u128(product)),
            sku: Sku::new("CUP").unwrap(),
            name: ProductName::new("Cup").unwrap(),
            unit_price: Price::parse(price).unwrap(),
            quantity: LineQuantity::new(quantity).unwrap(),
        }
    }

    #[test]
    fn lines_total_and_reserve_summed() {
        let lines = OrderLines::new(vec![
            line(1, "12.50", 2),
            line(2, "3.00", 1),
            line(1, "12.50", 1),
        ])
        .unwrap();
        assert_eq!(lines.total().to_string(), "40.50");
        let reservation = lines.reservation().unwrap();
        assert_eq!(reservation.lines().len(), 2);
        assert_eq!(
            reservation
                .quantity_of(ProductId(Uuid::from_u128(1)))
                .unwrap()
                .value(),
            3
        );
    }

    #[test]
    fn line_counts_are_bounded() {
        assert!(OrderLines::new(vec![]).is_err());
        assert!(OrderLines::new((0..51).map(|p| line(p, "1.00", 1)).collect()).is_err());
        assert!(OrderLines::new((0..50).map(|p| line(p, "1.00", 1)).collect()).is_ok());
    }
}
