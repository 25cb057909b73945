//! Domain events: what the purchase flow tells other contexts (notifications,
//! webhooks, the order consumer) through the outbox and the bus.
//!
//! The envelope is design §6's: `{"id":"<uuid v7>","type":"order.created",
//! "timestamp":"…","data":{"orderId":…,"userId":…,"email":…,"status":…,"lines":[…],
//! "total":"…","currency":"…"}}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::UserId;
use crate::accounts::Email;

use super::id::OrderId;
use super::line::PricedLine;
use super::money::{Currency, Money};
use super::order::Order;
use super::payment::{PaymentId, ShipmentId};
use super::status::OrderStatus;

/// Identifies an event (a UUID v7: ids sort by creation). Consumers record the ids
/// they applied, so a redelivered event is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub Uuid);

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The kinds of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// An order was placed.
    #[serde(rename = "order.created")]
    OrderCreated,
    /// An order became paid, shipped, delivered or cancelled.
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged,
    /// An order was cancelled (beside its `order.status_changed`, for subscribers
    /// that only care about cancellations).
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    /// The provider took the money.
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded,
    /// The provider refused.
    #[serde(rename = "payment.failed")]
    PaymentFailed,
    /// The money went back.
    #[serde(rename = "payment.refunded")]
    PaymentRefunded,
    /// A paid order's shipment is ready to ship.
    #[serde(rename = "shipment.ready")]
    ShipmentReady,
    /// Handed to a carrier.
    #[serde(rename = "shipment.dispatched")]
    ShipmentDispatched,
    /// Delivered.
    #[serde(rename = "shipment.delivered")]
    ShipmentDelivered,
}

impl EventType {
    /// Every type.
    pub const ALL: &'static [EventType] = &[
        Self::OrderCreated,
        Self::OrderStatusChanged,
        Self::OrderCancelled,
        Self::PaymentSucceeded,
        Self::PaymentFailed,
        Self::PaymentRefunded,
        Self::ShipmentReady,
        Self::ShipmentDispatched,
        Self::ShipmentDelivered,
    ];

    /// The type as the envelope spells it (`order.created`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderCreated => "order.created",
            Self::OrderStatusChanged => "order.status_changed",
            Self::OrderCancelled => "order.cancelled",
            Self::PaymentSucceeded => "payment.succeeded",
            Self::PaymentFailed => "payment.failed",
            Self::PaymentRefunded => "payment.refunded",
            Self::ShipmentReady => "shipment.ready",
            Self::ShipmentDispatched => "shipment.dispatched",
            Self::ShipmentDelivered => "shipment.delivered",
        }
    }

    /// The type spelled `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.as_str() == text)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every event says about its order (so a consumer never has to ask), plus what
/// this event adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventData {
    /// The order.
    pub order_id: OrderId,
    /// Its buyer.
    pub user_id: UserId,
    /// The buyer's email, as snapshotted on the order.
    pub email: Email,
    /// The order's status after the change.
    pub status: OrderStatus,
    /// Its lines.
    pub lines: Vec<PricedLine>,
    /// Its total.
    pub total: Money,
    /// The shop currency.
    pub currency: Currency,
    /// The order's status before, for `order.status_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<OrderStatus>,
    /// Why it was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// The payment concerned, for `payment.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    /// The shipment concerned, for `shipment.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<ShipmentId>,
    /// The carrier, once dispatched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// The tracking number, once dispatched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
}

impl EventData {
    /// What every event says about `order` (as it is after the change): its ids,
    /// buyer, status, lines, total and cancel reason. The caller adds what the event
    /// itself adds (`previous_status`, the payment, the shipment).
    pub fn about(order: &Order) -> Self {
        Self {
            order_id: order.id,
            user_id: order.user_id,
            email: order.email.clone(),
            status: order.status,
            lines: order.lines.lines().to_vec(),
            total: order.total,
            currency: order.currency,
            previous_status: None,
            cancel_reason: order
                .cancel_reason
                .as_ref()
                .map(|reason| reason.as_str().to_owned()),
            payment_id: None,
            shipment_id: None,
            carrier: None,
            tracking_number: None,
        }
    }
}

/// One event in its envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Identity.
    pub id: EventId,
    /// Kind.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// What happened.
    pub data: EventData,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_through_text() {
        for &kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("order.paid"), None);
    }

    #[test]
    fn the_envelope_has_the_designed_shape() {
        let event = DomainEvent {
            id: EventId(Uuid::nil()),
            event_type: EventType::OrderCreated,
            timestamp: DateTime::UNIX_EPOCH,
            data: EventData {
                order_id: OrderId(Uuid::nil()),
                user_id: UserId(Uuid::nil()),
                email: Email::parse("ada@example.com").unwrap(),
                status: OrderStatus::Pending,
                lines: vec![],
                total: Money::ZERO,
                currency: Currency::EUR,
                previous_status: None,
                cancel_reason: None,
                payment_id: None,
                shipment_id: None,
                carrier: None,
                tracking_number: None,
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "order.created");
        assert_eq!(json["data"]["status"], "pending");
        assert_eq!(json["data"]["currency"], "EUR");
        assert_eq!(json["data"]["total"], "0.00");
        assert!(json["data"].get("carrier").is_none());
        let back: DomainEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
