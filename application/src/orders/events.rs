//! Building the events and audit rows of orders.

use chrono::{DateTime, Utc};
use emporium_domain::IdGenerator;
use emporium_domain::orders::{
    ChangedBy, DomainEvent, EventData, EventId, EventType, Order, OrderEvent, OrderTransition,
};

/// An event of `kind` about `order` (as it is after the change).
pub(crate) fn order_event(
    ids: &dyn IdGenerator,
    kind: EventType,
    order: &Order,
    previous: Option<&Order>,
    at: DateTime<Utc>,
) -> DomainEvent {
    DomainEvent {
        id: EventId(ids.new_id()),
        event_type: kind,
        timestamp: at,
        data: EventData {
            previous_status: previous.map(|previous| previous.status),
            ..EventData::about(order)
        },
    }
}

/// `order` as it will be after `transition`.
pub(crate) fn moved(order: &Order, transition: OrderTransition, at: DateTime<Utc>) -> Order {
    Order {
        status: transition.to(),
        updated_at: at,
        ..order.clone()
    }
}

/// The audit row of `transition`.
pub(crate) fn audit(
    ids: &dyn IdGenerator,
    order: &Order,
    transition: OrderTransition,
    actor: ChangedBy,
    detail: Option<String>,
    at: DateTime<Utc>,
) -> OrderEvent {
    OrderEvent::transition(ids.new_id(), order.id, transition, actor, detail, at)
}
