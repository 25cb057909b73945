//! Shipping: reading a shipment, dispatching it (admins) and recording its delivery
//! (admins, or the carrier's callback). An order and its shipment live in one store,
//! so each shipment move and the order's move it implies commit in one transaction,
//! with both events (`shipment.dispatched` and `order.status_changed`).

use emporium_domain::orders::{
    ChangedBy, Dispatch, EventType, OrderChange, OrderRepositoryError, OrderTransition, Shipment,
    ShipmentChange, ShipmentId, ShipmentStatus, ShipmentTransition,
};
use emporium_domain::{AccessDenied, Actor};

use super::OrderPorts;
use super::events::{audit, moved, order_event};
use super::queries::{sees, viewer};
use crate::failure::{Failure, UseCaseError};

/// Failures of the shipping use cases.
#[derive(Debug, thiserror::Error)]
pub enum ShippingError {
    /// Not allowed for this caller.
    #[error(transparent)]
    Denied(AccessDenied),
    /// No such shipment, or another customer's.
    #[error("There is no such shipment.")]
    NotFound,
    /// The shipment's status forbids the move.
    #[error("A {0} shipment cannot move that way.")]
    InvalidTransition(ShipmentStatus),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl UseCaseError for ShippingError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound => Failure::not_found(),
            Self::InvalidTransition(_) => Failure::conflict("invalid_transition"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

/// Reads, dispatches and delivers shipments.
pub struct Shipping {
    ports: OrderPorts,
}

impl Shipping {
    /// The use cases over their ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// The shipment `id`: its order's owner, an admin, or the carrier's callback.
    pub async fn get(&self, actor: &Actor, id: ShipmentId) -> Result<Shipment, ShippingError> {
        let shipment = self
            .ports
            .orders
            .shipment_by_id(id)
            .await
            .map_err(|error| ShippingError::Unexpected(error.into()))?
            .ok_or(ShippingError::NotFound)?;
        let viewer = viewer(actor, true).map_err(ShippingError::Denied)?;
        if sees(viewer, shipment.user_id) {
            Ok(shipment)
        } else {
            Err(ShippingError::NotFound)
        }
    }

    /// Hands the shipment to `dispatch.carrier` (admins): the order becomes shipped.
    /// Dispatching a dispatched shipment answers it as it is.
    pub async fn dispatch(
        &self,
        actor: &Actor,
        id: ShipmentId,
        dispatch: Dispatch,
    ) -> Result<Shipment, ShippingError> {
        let admin = actor.ensure_admin().map_err(ShippingError::Denied)?;
        let shipment = self.get(actor, id).await?;
        let detail = format!(
            "{} {}",
            dispatch.carrier.as_str(),
            dispatch.tracking_number.as_str()
        );
        self.advance(
            shipment,
            ShipmentTransition::Dispatch,
            OrderTransition::Ship,
            Some(dispatch),
            ChangedBy::User(admin),
            detail,
        )
        .await
    }

    /// Records the delivery (admins, or the carrier's callback): the order becomes
    /// delivered. Delivering a delivered shipment answers it as it is.
    pub async fn deliver(&self, actor: &Actor, id: ShipmentId) -> Result<Shipment, ShippingError> {
        let by = match actor {
            Actor::Callback => ChangedBy::Provider,
            other => ChangedBy::User(other.ensure_admin().map_err(ShippingError::Denied)?),
        };
        let shipment = self.get(actor, id).await?;
        self.advance(
            shipment,
            ShipmentTransition::Deliver,
            OrderTransition::Deliver,
            None,
            by,
            "delivered".to_owned(),
        )
        .await
    }

    async fn advance(
        &self,
        shipment: Shipment,
        transition: ShipmentTransition,
        order_transition: OrderTransition,
        dispatch: Option<Dispatch>,
        by: ChangedBy,
        detail: String,
    ) -> Result<Shipment, ShippingError> {
        if shipment.status == transition.to() {
            return Ok(shipment);
        }
        if shipment.status != transition.from() {
            return Err(ShippingError::InvalidTransition(shipment.status));
        }
        let ports = &self.ports;
        let order = ports
            .orders
            .get(shipment.order_id)
            .await
            .map_err(|error| ShippingError::Unexpected(error.into()))?
            .ok_or(ShippingError::NotFound)?;
        let now = ports.clock.now();
        let after = moved(&order, order_transition, now);
        let ids = ports.ids.as_ref();
        let kind = match transition {
            ShipmentTransition::Dispatch => EventType::ShipmentDispatched,
            _ => EventType::ShipmentDelivered,
        };
        let mut shipment_event = order_event(ids, kind, &after, None, now);
        let mut status_event = order_event(
            ids,
            EventType::OrderStatusChanged,
            &after,
            Some(&order),
            now,
        );
        for event in [&mut shipment_event, &mut status_event] {
            event.data.shipment_id = Some(shipment.id);
            if let Some(dispatch) = dispatch.as_ref().or(shipment.dispatch.as_ref()) {
                event.data.carrier = Some(dispatch.carrier.to_string());
                event.data.tracking_number = Some(dispatch.tracking_number.to_string());
            }
        }
        let change = OrderChange {
            order_id: order.id,
            transition: order_transition,
            cancel_reason: None,
            shipment: Some(ShipmentChange {
                transition,
                dispatch,
            }),
            audit: audit(ids, &order, order_transition, by, Some(detail), now),
            events: vec![shipment_event, status_event],
            processed: None,
            at: now,
        };
        match ports.orders.change(&change).await {
            Ok(_) => {}
            Err(OrderRepositoryError::Stale { .. }) => {}
            Err(error) => {
                return Err(ShippingError::Unexpected(
                    anyhow::Error::new(error).context("moving the shipment"),
                ));
            }
        }
        let current = ports
            .orders
            .shipment_by_id(shipment.id)
            .await
            .map_err(|error| ShippingError::Unexpected(error.into()))?
            .ok_or(ShippingError::NotFound)?;
        if current.status == transition.to() {
            Ok(current)
        } else {
            Err(ShippingError::InvalidTransition(current.status))
        }
    }
}
