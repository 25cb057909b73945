//! Shipping: reading a shipment, dispatching it (admins) and recording its delivery
//! (admins, or the carrier's callback). Each move is a conditional update of the
//! shipment written with its event (`shipment.dispatched`, `shipment.delivered`) and
//! who made it; the order follows through the event
//! ([`OrdersFollowShipments`](super::OrdersFollowShipments)), as it follows its
//! payment.

use emporium_domain::orders::{
    ChangedBy, Dispatch, DomainEvent, EventType, Shipment, ShipmentId, ShipmentMove,
    ShipmentRepositoryError, ShipmentStatus, ShipmentTransition,
};
use emporium_domain::{AccessDenied, Actor};

use super::OrderPorts;
use super::events::order_event;
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
        let shipment = self.load(id).await?;
        let viewer = viewer(actor, true).map_err(ShippingError::Denied)?;
        if sees(viewer, shipment.user_id) {
            Ok(shipment)
        } else {
            Err(ShippingError::NotFound)
        }
    }

    async fn load(&self, id: ShipmentId) -> Result<Shipment, ShippingError> {
        self.ports
            .shipments
            .get(id)
            .await
            .map_err(|error| ShippingError::Unexpected(error.into()))?
            .ok_or(ShippingError::NotFound)
    }

    /// Hands the shipment to `dispatch.carrier` (admins); the order becomes shipped
    /// through `shipment.dispatched`. Dispatching a dispatched shipment answers it as
    /// it is.
    pub async fn dispatch(
        &self,
        actor: &Actor,
        id: ShipmentId,
        dispatch: Dispatch,
    ) -> Result<Shipment, ShippingError> {
        let admin = actor.ensure_admin().map_err(ShippingError::Denied)?;
        let shipment = self.get(actor, id).await?;
        self.advance(
            shipment,
            ShipmentTransition::Dispatch,
            Some(dispatch),
            ChangedBy::User(admin),
        )
        .await
    }

    /// Records the delivery (admins, or the carrier's callback); the order becomes
    /// delivered through `shipment.delivered`. Delivering a delivered shipment answers
    /// it as it is.
    pub async fn deliver(&self, actor: &Actor, id: ShipmentId) -> Result<Shipment, ShippingError> {
        let by = match actor {
            Actor::Callback => ChangedBy::Provider,
            other => ChangedBy::User(other.ensure_admin().map_err(ShippingError::Denied)?),
        };
        let shipment = self.get(actor, id).await?;
        self.advance(shipment, ShipmentTransition::Deliver, None, by)
            .await
    }

    async fn advance(
        &self,
        shipment: Shipment,
        transition: ShipmentTransition,
        dispatch: Option<Dispatch>,
        by: ChangedBy,
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
        let kind = match transition {
            ShipmentTransition::Dispatch => EventType::ShipmentDispatched,
            _ => EventType::ShipmentDelivered,
        };
        let mut event = order_event(ports.ids.as_ref(), kind, &order, None, now);
        with_shipment(
            &mut event,
            shipment.id,
            dispatch.as_ref().or(shipment.dispatch.as_ref()),
        );
        let change = ShipmentMove {
            shipment_id: shipment.id,
            transition,
            dispatch,
            by,
            events: vec![event],
            at: now,
        };
        match ports.shipments.change(&change).await {
            Ok(moved) => {
                tracing::info!(
                    shipment_id = %moved.id,
                    order_id = %moved.order_id,
                    status = %moved.status,
                    by = %change.by,
                    "shipment moved"
                );
                Ok(moved)
            }
            // A racing request made the same move first: answer the shipment as it is.
            Err(ShipmentRepositoryError::Stale { current, .. }) if current == transition.to() => {
                self.load(shipment.id).await
            }
            Err(ShipmentRepositoryError::Stale { current, .. }) => {
                Err(ShippingError::InvalidTransition(current))
            }
            Err(ShipmentRepositoryError::NotFound(_)) => Err(ShippingError::NotFound),
            Err(error) => Err(ShippingError::Unexpected(
                anyhow::Error::new(error).context("moving the shipment"),
            )),
        }
    }
}

/// Adds the shipment and, once dispatched, its carrier and tracking number to
/// `event`'s data.
pub(crate) fn with_shipment(
    event: &mut DomainEvent,
    shipment: ShipmentId,
    dispatch: Option<&Dispatch>,
) {
    event.data.shipment_id = Some(shipment);
    if let Some(dispatch) = dispatch {
        event.data.carrier = Some(dispatch.carrier.to_string());
        event.data.tracking_number = Some(dispatch.tracking_number.to_string());
    }
}
