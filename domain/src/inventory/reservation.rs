//! Stock reservations: the units an order holds between checkout and payment.
//!
//! A reservation moves through a small state machine, keyed by the order id:
//!
//! | action    | from        | to          | stock effect per line                 |
//! |-----------|-------------|-------------|---------------------------------------|
//! | reserve   | (none)      | `reserved`  | `reserved += n` if `on_hand - reserved >= n` |
//! | commit    | `reserved`  | `committed` | `on_hand -= n`, `reserved -= n`       |
//! | release   | `reserved`  | `released`  | `reserved -= n`                       |
//! | restock   | `committed` | `restocked` | `on_hand += n`                        |
//!
//! Every action is idempotent by order id: repeating one that took effect changes
//! nothing and answers the reservation as it is, so a double release can never take
//! `reserved` below what other orders hold. An action the current state forbids
//! (release after commit, commit after release) is refused.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::item::Quantity;
use crate::catalog::ProductId;
use crate::orders::OrderId;

/// The most distinct products one reservation may hold (an order's line limit).
pub const MAX_RESERVATION_LINES: usize = 50;

/// One product and the units reserved of it (at least one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationLine {
    /// The product.
    pub product_id: ProductId,
    /// Units, at least one.
    pub quantity: Quantity,
}

/// Why reservation lines were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReservationLinesError {
    /// No lines at all.
    #[error("a reservation needs at least one line")]
    Empty,
    /// A line of zero units.
    #[error("line {index} reserves no units")]
    ZeroQuantity {
        /// The position of the line as given.
        index: usize,
    },
    /// More distinct products than [`MAX_RESERVATION_LINES`].
    #[error("a reservation holds at most {MAX_RESERVATION_LINES} products, got {count}")]
    TooMany {
        /// Distinct products given.
        count: usize,
    },
    /// The sum for one product is above [`Quantity::MAX`].
    #[error("too many units of product {0}")]
    TooLarge(ProductId),
}

/// The lines of a reservation: one per product, ordered by product id, each of at
/// least one unit. Lines of the same product are summed on construction, so two
/// lines of one product cannot each pass the stock check on their own; the order by
/// id makes every store lock records in the same order (no deadlocks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<ReservationLine>", into = "Vec<ReservationLine>")]
pub struct ReservationLines(Vec<ReservationLine>);

impl ReservationLines {
    /// Sums `lines` by product; refused when empty, when a line has no units, when
    /// more than [`MAX_RESERVATION_LINES`] products remain, or when a sum exceeds
    /// [`Quantity::MAX`].
    pub fn new(
        lines: impl IntoIterator<Item = ReservationLine>,
    ) -> Result<Self, ReservationLinesError> {
        let mut sums: BTreeMap<ProductId, i64> = BTreeMap::new();
        for (index, line) in lines.into_iter().enumerate() {
            if line.quantity == Quantity::ZERO {
                return Err(ReservationLinesError::ZeroQuantity { index });
            }
            *sums.entry(line.product_id).or_default() += line.quantity.value();
        }
        if sums.is_empty() {
            return Err(ReservationLinesError::Empty);
        }
        if sums.len() > MAX_RESERVATION_LINES {
            return Err(ReservationLinesError::TooMany { count: sums.len() });
        }
        sums.into_iter()
            .map(|(product_id, units)| {
                Quantity::new(units)
                    .map(|quantity| ReservationLine {
                        product_id,
                        quantity,
                    })
                    .map_err(|_| ReservationLinesError::TooLarge(product_id))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The lines, one per product, by product id.
    pub fn lines(&self) -> &[ReservationLine] {
        &self.0
    }

    /// The units of `product_id`, if it is reserved here.
    pub fn quantity_of(&self, product_id: ProductId) -> Option<Quantity> {
        self.0
            .iter()
            .find(|line| line.product_id == product_id)
            .map(|line| line.quantity)
    }
}

impl TryFrom<Vec<ReservationLine>> for ReservationLines {
    type Error = ReservationLinesError;
    fn try_from(lines: Vec<ReservationLine>) -> Result<Self, Self::Error> {
        Self::new(lines)
    }
}

impl From<ReservationLines> for Vec<ReservationLine> {
    fn from(lines: ReservationLines) -> Self {
        lines.0
    }
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReservationStatus {
    /// Units are held for the order (`reserved` counts them).
    Reserved,
    /// The order was paid: the units left stock for good.
    Committed,
    /// The order ended unpaid: the units are available again.
    Released,
    /// A paid order was cancelled: the units came back on hand.
    Restocked,
}

impl ReservationStatus {
    /// The status as stored and shown: `reserved`, `committed`, `released`, `restocked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Committed => "committed",
            Self::Released => "released",
            Self::Restocked => "restocked",
        }
    }

    /// The status spelled by [`as_str`](Self::as_str), if `text` is one.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Reserved,
            Self::Committed,
            Self::Released,
            Self::Restocked,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

impl std::fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can be done to an existing reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationAction {
    /// `reserved → committed`: the order was paid.
    Commit,
    /// `reserved → released`: the order ended unpaid.
    Release,
    /// `committed → restocked`: a paid order was cancelled.
    Restock,
}

/// What an action means for a reservation in a given status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionOutcome {
    /// The action applies: move to this status and change stock.
    Apply(ReservationStatus),
    /// The action already took effect: change nothing.
    AlreadyDone,
    /// The current status forbids the action.
    Refused,
}

impl ReservationAction {
    /// The action's name: `commit`, `release`, `restock`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commit => "commit",
            Self::Release => "release",
            Self::Restock => "restock",
        }
    }

    /// The status the action starts from.
    pub fn from_status(self) -> ReservationStatus {
        match self {
            Self::Commit | Self::Release => ReservationStatus::Reserved,
            Self::Restock => ReservationStatus::Committed,
        }
    }

    /// The status the action ends in.
    pub fn to_status(self) -> ReservationStatus {
        match self {
            Self::Commit => ReservationStatus::Committed,
            Self::Release => ReservationStatus::Released,
            Self::Restock => ReservationStatus::Restocked,
        }
    }

    /// What the action means for a reservation in `status`. Every store decides
    /// with this, after its conditional status update found nothing to change.
    pub fn outcome(self, status: ReservationStatus) -> ActionOutcome {
        if status == self.from_status() {
            ActionOutcome::Apply(self.to_status())
        } else if status == self.to_status() {
            ActionOutcome::AlreadyDone
        } else {
            ActionOutcome::Refused
        }
    }
}

impl std::fmt::Display for ReservationAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stock an order holds, and where that stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The order holding the units.
    pub order_id: OrderId,
    /// What is held, one line per product.
    pub lines: ReservationLines,
    /// Where it stands.
    pub status: ReservationStatus,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Failures of [`StockReservations`](super::StockReservations).
#[derive(Debug, thiserror::Error)]
pub enum ReservationError {
    /// A line asks for more than is available; nothing was reserved.
    #[error("insufficient stock of product {product_id}: {available} available")]
    InsufficientStock {
        /// The first product that fell short.
        product_id: ProductId,
        /// Units available when it was refused.
        available: Quantity,
    },
    /// A line's product has no stock record; nothing was reserved.
    #[error("product {0} has no stock record")]
    UnknownProduct(ProductId),
    /// The order already holds a reservation with other lines.
    #[error("order {0} already holds a reservation with other lines")]
    LinesDiffer(OrderId),
    /// The order holds no reservation.
    #[error("order {0} holds no reservation")]
    NotFound(OrderId),
    /// The reservation's status forbids the action (release after commit, …).
    #[error("cannot {action} a {status} reservation")]
    InvalidTransition {
        /// The refused action.
        action: ReservationAction,
        /// The reservation's status.
        status: ReservationStatus,
    },
    /// The store cannot be reached now; the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn line(product: u128, quantity: i64) -> ReservationLine {
        ReservationLine {
            product_id: ProductId(Uuid::from_u128(product)),
            quantity: Quantity::new(quantity).unwrap(),
        }
    }

    #[test]
    fn lines_of_one_product_are_summed_and_ordered() {
        let lines = ReservationLines::new([line(2, 1), line(1, 3), line(2, 4)]).unwrap();
        assert_eq!(lines.lines(), &[line(1, 3), line(2, 5)]);
        assert_eq!(
            lines.quantity_of(ProductId(Uuid::from_u128(2))),
            Some(Quantity::new(5).unwrap())
        );
    }

    #[test]
    fn bad_lines_are_refused() {
        assert_eq!(ReservationLines::new([]), Err(ReservationLinesError::Empty));
        assert_eq!(
            ReservationLines::new([line(1, 1), line(2, 0)]),
            Err(ReservationLinesError::ZeroQuantity { index: 1 })
        );
        let many = (0..=MAX_RESERVATION_LINES as u128).map(|p| line(p, 1));
        assert_eq!(
            ReservationLines::new(many),
            Err(ReservationLinesError::TooMany { count: 51 })
        );
        assert_eq!(
            ReservationLines::new([line(1, Quantity::MAX), line(1, 1)]),
            Err(ReservationLinesError::TooLarge(ProductId(Uuid::from_u128(
                1
            ))))
        );
    }

    #[test]
    fn actions_apply_once_and_refuse_the_wrong_state() {
        use ActionOutcome::*;
        use ReservationAction::*;
        use ReservationStatus::*;
        let table = [
            (Commit, Reserved, Apply(Committed)),
            (Commit, Committed, AlreadyDone),
            (Commit, Released, Refused),
            (Commit, Restocked, Refused),
            (Release, Reserved, Apply(Released)),
            (Release, Released, AlreadyDone),
            (Release, Committed, Refused),
            (Release, Restocked, Refused),
            (Restock, Committed, Apply(Restocked)),
            (Restock, Restocked, AlreadyDone),
            (Restock, Reserved, Refused),
            (Restock, Released, Refused),
        ];
        for (action, status, expected) in table {
            assert_eq!(action.outcome(status), expected, "{action} on {status}");
        }
    }

    #[test]
    fn statuses_round_trip_through_text() {
        use ReservationStatus::*;
        for status in [Reserved, Committed, Released, Restocked] {
            assert_eq!(ReservationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ReservationStatus::parse("RESERVED"), None);
    }
}
