//! The state machines of an order, its payments and its shipment.
//!
//! Each machine is two types: the statuses, and the *transitions* — one variant per
//! legal edge. An illegal move (delivered → pending, say) has no variant, so it
//! cannot be written; [`OrderStatus::transition_to`] and its siblings find the edge
//! between two statuses, or `None`. Stores apply a transition as one conditional
//! update (`… WHERE status = <from>`), so racing moves have exactly one winner.

use serde::{Deserialize, Serialize};

/// Declares a status enum with its text form (`as_str`, `parse`, serde).
macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every status, in lifecycle order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The status as the API and the stores spell it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The status spelled `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|status| status.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Declares a transition enum: one variant per legal edge `from → to`.
macro_rules! transitions {
    ($(#[$doc:meta])* $name:ident over $status:ident, via $finder:ident {
        $($(#[$vdoc:meta])* $variant:ident: $from:ident => $to:ident),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every legal transition.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The status the transition leaves.
            pub fn from(self) -> $status {
                match self {
                    $($name::$variant => $status::$from),+
                }
            }

            /// The status the transition reaches.
            pub fn to(self) -> $status {
                match self {
                    $($name::$variant => $status::$to),+
                }
            }
        }

        impl $status {
            /// The legal transition from this status to `to`, if there is one.
            pub fn $finder(self, to: $status) -> Option<$name> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|edge| edge.from() == self && edge.to() == to)
            }
        }
    };
}

status_enum!(
    /// Where an order stands: `pending → paid → shipped → delivered`, and
    /// `cancelled` from pending or paid.
    OrderStatus {
        /// Placed, stock reserved, waiting for payment until `payBy`.
        Pending => "pending",
        /// Paid: stock committed, the shipment is ready to ship.
        Paid => "paid",
        /// Handed to the carrier.
        Shipped => "shipped",
        /// Arrived.
        Delivered => "delivered",
        /// Ended before shipping; stock released or restocked, payment refunded.
        Cancelled => "cancelled",
    }
);

transitions!(
    /// A legal move of an order.
    OrderTransition over OrderStatus, via transition_to {
        /// Its payment succeeded.
        Pay: Pending => Paid,
        /// Its shipment was dispatched.
        Ship: Paid => Shipped,
        /// Its shipment was delivered.
        Deliver: Shipped => Delivered,
        /// Cancelled (by the owner or an admin) or expired before payment.
        CancelUnpaid: Pending => Cancelled,
        /// Cancelled by an admin after payment: restock and refund.
        CancelPaid: Paid => Cancelled,
    }
);

impl OrderStatus {
    /// Whether nothing can happen to the order any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled)
    }
}

status_enum!(
    /// Where a payment stands: `pending → succeeded | failed`, `succeeded → refunded`.
    PaymentStatus {
        /// Created, waiting for the provider's answer.
        Pending => "pending",
        /// The provider took the money.
        Succeeded => "succeeded",
        /// The provider refused.
        Failed => "failed",
        /// The money went back (a cancelled order, or a success that came too late).
        Refunded => "refunded",
    }
);

transitions!(
    /// A legal move of a payment.
    PaymentTransition over PaymentStatus, via transition_to {
        /// The provider confirmed it.
        Succeed: Pending => Succeeded,
        /// The provider refused it.
        Fail: Pending => Failed,
        /// The money went back.
        Refund: Succeeded => Refunded,
    }
);

status_enum!(
    /// Where a shipment stands: `pending_payment → ready_to_ship → dispatched →
    /// delivered`, and `cancelled` before dispatch.
    ShipmentStatus {
        /// The order is not paid yet.
        PendingPayment => "pending_payment",
        /// Paid: waiting to be handed to a carrier.
        ReadyToShip => "ready_to_ship",
        /// With the carrier (carrier and tracking number known).
        Dispatched => "dispatched",
        /// Arrived.
        Delivered => "delivered",
        /// The order was cancelled.
        Cancelled => "cancelled",
    }
);

transitions!(
    /// A legal move of a shipment.
    ShipmentTransition over ShipmentStatus, via transition_to {
        /// The order was paid.
        Ready: PendingPayment => ReadyToShip,
        /// Handed to a carrier.
        Dispatch: ReadyToShip => Dispatched,
        /// The carrier delivered it.
        Deliver: Dispatched => Delivered,
        /// The unpaid order was cancelled.
        CancelUnpaid: PendingPayment => Cancelled,
        /// The paid order was cancelled before dispatch.
        CancelReady: ReadyToShip => Cancelled,
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_designed_order_moves_exist() {
        use OrderStatus::*;
        let legal: Vec<_> = OrderStatus::ALL
            .iter()
            .flat_map(|&from| OrderStatus::ALL.iter().map(move |&to| (from, to)))
            .filter(|&(from, to)| from.transition_to(to).is_some())
            .collect();
        assert_eq!(
            legal,
            [
                (Pending, Paid),
                (Pending, Cancelled),
                (Paid, Shipped),
                (Paid, Cancelled),
                (Shipped, Delivered),
            ]
        );
        assert!(Delivered.is_final() && Cancelled.is_final() && !Paid.is_final());
    }

    #[test]
    fn only_the_designed_payment_and_shipment_moves_exist() {
        let payments = PaymentStatus::ALL
            .iter()
            .flat_map(|&from| PaymentStatus::ALL.iter().map(move |&to| (from, to)))
            .filter(|&(from, to)| from.transition_to(to).is_some())
            .count();
        assert_eq!(payments, 3);
        assert_eq!(
            PaymentStatus::Refunded.transition_to(PaymentStatus::Succeeded),
            None
        );
        let shipments = ShipmentStatus::ALL
            .iter()
            .flat_map(|&from| ShipmentStatus::ALL.iter().map(move |&to| (from, to)))
            .filter(|&(from, to)| from.transition_to(to).is_some())
            .count();
        assert_eq!(shipments, 5);
        assert_eq!(
            ShipmentStatus::Dispatched.transition_to(ShipmentStatus::Cancelled),
            None
        );
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for &status in ShipmentStatus::ALL {
            assert_eq!(ShipmentStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ShipmentStatus::ReadyToShip.as_str(), "ready_to_ship");
        assert_eq!(OrderStatus::parse("PAID"), None);
    }
}
