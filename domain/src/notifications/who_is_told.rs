//! Who is told what (design §6): one message per transition, never two for one
//! change. The order's status mail covers its shipment's moves, and a payment that
//! succeeds is told as the order becoming paid.

use super::OrderMail;
use crate::orders::EventType;

/// Which email, if any, the buyer gets for an event of `kind`.
pub fn email_for(kind: EventType) -> Option<OrderMail> {
    match kind {
        EventType::OrderCreated => Some(OrderMail::Confirmation),
        EventType::OrderStatusChanged => Some(OrderMail::StatusChanged),
        EventType::PaymentFailed => Some(OrderMail::PaymentFailed),
        EventType::PaymentRefunded => Some(OrderMail::PaymentRefunded),
        EventType::OrderCancelled
        | EventType::PaymentSucceeded
        | EventType::ShipmentReady
        | EventType::ShipmentDispatched
        | EventType::ShipmentDelivered => None,
    }
}

/// The push-only message for an event of `kind` that is pushed live but mailed by
/// no email of its own.
pub fn push_only(kind: EventType) -> Option<OrderMail> {
    match kind {
        EventType::PaymentSucceeded => Some(OrderMail::PaymentSucceeded),
        _ => None,
    }
}

/// Whether the buyer's open browser tabs hear of an event of `kind` (live push).
pub fn pushed(kind: EventType) -> bool {
    matches!(
        kind,
        EventType::OrderCreated
            | EventType::OrderStatusChanged
            | EventType::PaymentSucceeded
            | EventType::PaymentFailed
            | EventType::PaymentRefunded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_email_per_transition_and_none_for_what_another_covers() {
        let mailed: Vec<EventType> = EventType::ALL
            .iter()
            .copied()
            .filter(|kind| email_for(*kind).is_some())
            .collect();
        assert_eq!(
            mailed,
            [
                EventType::OrderCreated,
                EventType::OrderStatusChanged,
                EventType::PaymentFailed,
                EventType::PaymentRefunded,
            ]
        );
        assert!(!pushed(EventType::ShipmentDispatched));
        assert!(pushed(EventType::PaymentSucceeded));
        // Every pushed event has exactly one message: its email or a push-only one.
        for &kind in EventType::ALL {
            let messages =
                usize::from(email_for(kind).is_some()) + usize::from(push_only(kind).is_some());
            assert_eq!(messages, usize::from(pushed(kind)), "{kind}");
        }
    }
}
