//! Payments and shipments: what pays for an order and what carries it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::UserId;
use crate::catalog::{ValueError, string_value, trimmed_with_length};

use super::id::OrderId;
use super::money::{Currency, Money};
use super::order::ChangedBy;
use super::status::{PaymentStatus, ShipmentStatus};

/// Identifies a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentId(pub Uuid);

impl std::fmt::Display for PaymentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A payment for an order. At most one pending or succeeded payment exists per order
/// at a time; a failed one may be followed by another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Identity.
    pub id: PaymentId,
    /// The order it pays.
    pub order_id: OrderId,
    /// The order's owner.
    pub user_id: UserId,
    /// The order's total when the payment was created.
    pub amount: Money,
    /// The shop currency.
    pub currency: Currency,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The provider's reference for it.
    pub provider_reference: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Identifies a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShipmentId(pub Uuid);

impl std::fmt::Display for ShipmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

string_value!(
    /// A carrier's name: trimmed, 1 to 100 characters.
    Carrier,
    |value| trimmed_with_length(value, "carrier", 100)
);

string_value!(
    /// A carrier's tracking number: trimmed, 1 to 64 letters, digits and `-`.
    TrackingNumber,
    |value| {
        let value = trimmed_with_length(value, "tracking number", 64)?;
        if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            Ok(value)
        } else {
            Err(ValueError(
                "tracking number may contain only letters, digits and '-'".into(),
            ))
        }
    }
);

/// Who carries a dispatched parcel, and how to follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    /// The carrier.
    pub carrier: Carrier,
    /// Its tracking number.
    pub tracking_number: TrackingNumber,
}

/// The shipment of an order: created with it in `pending_payment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// Identity.
    pub id: ShipmentId,
    /// The order it carries.
    pub order_id: OrderId,
    /// The order's owner.
    pub user_id: UserId,
    /// Where it stands.
    pub status: ShipmentStatus,
    /// Carrier and tracking number, once dispatched.
    pub dispatch: Option<Dispatch>,
    /// Who handed it to the carrier, once dispatched.
    pub dispatched_by: Option<ChangedBy>,
    /// Who recorded its delivery (an admin, or the carrier's callback), once delivered.
    pub delivered_by: Option<ChangedBy>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_numbers_are_plain() {
        assert!(TrackingNumber::new("JD014600006281").is_ok());
        assert!(TrackingNumber::new("JD 0146").is_err());
        assert!(Carrier::new(" DHL ").unwrap().as_str() == "DHL");
    }
}
