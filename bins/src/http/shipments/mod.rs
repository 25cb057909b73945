//! `/v1/shipments/{id}`: read a shipment, dispatch it (admins), record its delivery
//! (admins, or the carrier's callback with `X-Callback-Key`). The order follows
//! through the shipment's event (`shipment.dispatched` → shipped, `shipment.delivered`
//! → delivered), moments later.

use std::sync::Arc;

use emporium_application::orders::Orders;
use emporium_domain::orders::{Carrier, Dispatch, Shipment, ShipmentId, TrackingNumber};
use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use uuid::Uuid;

use super::ApiTags;
use super::jsonapi::body::text;
use super::jsonapi::{
    ApiError, ClientId, Fields, JsonApi, JsonApiBody, Linkage, Member, OptionalBody, Relationship,
    Resource, SingleDocument, Timestamp, Write, path_id,
};
use super::middleware::auth::{SignedIn, SignedInOrCallback};

/// The `shipments` resource.
pub struct Shipments;

/// A shipment.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "ShipmentAttributes", rename_all = "camelCase", read_only_all)]
pub struct ShipmentAttributes {
    /// `pending_payment`, `ready_to_ship`, `dispatched`, `delivered` or `cancelled`.
    pub status: String,
    /// The carrier, once dispatched.
    #[oai(nullable)]
    pub carrier: Option<String>,
    /// The tracking number, once dispatched.
    #[oai(nullable)]
    pub tracking_number: Option<String>,
    /// When it was created (with its order).
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Resource for Shipments {
    type Model = Shipment;
    type Attributes = ShipmentAttributes;
    type Included = ();
    const TYPE: &'static str = "shipments";
    const NAME: &'static str = "Shipment";
    const PATH: Option<&'static str> = None;
    const ATTRIBUTES: &'static [&'static str] = &[
        "status",
        "carrier",
        "trackingNumber",
        "createdAt",
        "updatedAt",
    ];
    const RELATIONSHIPS: &'static [Relationship] = &[Relationship::to_one("order", "orders")];

    fn id(shipment: &Shipment) -> Uuid {
        shipment.id.0
    }

    fn linkage(shipment: &Shipment) -> Vec<Linkage> {
        vec![Linkage::One(Some(shipment.order_id.0))]
    }

    fn attributes(shipment: Shipment) -> ShipmentAttributes {
        let (carrier, tracking_number) = match shipment.dispatch {
            Some(dispatch) => (
                Some(dispatch.carrier.into()),
                Some(dispatch.tracking_number.into()),
            ),
            None => (None, None),
        };
        ShipmentAttributes {
            status: shipment.status.as_str().to_owned(),
            carrier,
            tracking_number,
            created_at: shipment.created_at.into(),
            updated_at: shipment.updated_at.into(),
        }
    }
}

/// `POST /v1/shipments/{id}/dispatch`: who carries it.
pub struct DispatchShipment;

impl Write for DispatchShipment {
    type Resource = Shipments;
    const NAME: &'static str = "ShipmentDispatch";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[
        Member::required("carrier"),
        Member::required("trackingNumber"),
    ];
}

/// `POST /v1/shipments/{id}/deliver`: no attributes (the body is optional).
pub struct DeliverShipment;

impl Write for DeliverShipment {
    type Resource = Shipments;
    const NAME: &'static str = "ShipmentDeliver";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[];
}

/// The shipment routes.
pub struct ShipmentsApi {
    orders: Arc<Orders>,
}

impl ShipmentsApi {
    /// Routes over the order use cases.
    pub fn new(orders: Arc<Orders>) -> Self {
        Self { orders }
    }
}

impl super::openapi::Queries for ShipmentsApi {
    const QUERIES: &'static [(&'static str, &'static super::jsonapi::QuerySpec)] = &[];
}

fn shipment_id(raw: &str) -> Result<ShipmentId, ApiError> {
    path_id(raw, "shipment").map(ShipmentId)
}

#[OpenApi(tag = "ApiTags::Orders")]
impl ShipmentsApi {
    /// Read a shipment
    ///
    /// Its order's buyer, an admin, or the carrier's callback; another customer's
    /// shipment is 404.
    #[oai(
        path = "/v1/shipments/:id",
        method = "get",
        operation_id = "getShipment"
    )]
    async fn get(
        &self,
        caller: SignedInOrCallback,
        /// The shipment id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<Shipments>>, ApiError> {
        let id = shipment_id(&id)?;
        let shipment = self.orders.shipping.get(&caller.0, id).await?;
        JsonApi::single(Shipments::object(shipment, Fields::ALL))
    }

    /// Dispatch a shipment
    ///
    /// Admins. A paid order's shipment (`ready_to_ship`) goes to `dispatched` with its
    /// carrier and tracking number, and the order becomes `shipped`. Dispatching a
    /// dispatched shipment answers it as it is; any other status is 409
    /// `invalid_transition`.
    #[oai(
        path = "/v1/shipments/:id/dispatch",
        method = "post",
        operation_id = "dispatchShipment"
    )]
    async fn dispatch(
        &self,
        user: SignedIn,
        /// The shipment id (UUID).
        id: Path<String>,
        body: JsonApiBody<DispatchShipment>,
    ) -> Result<JsonApi<SingleDocument<Shipments>>, ApiError> {
        let id = shipment_id(&id)?;
        let dispatch = body.dispatch(id)?;
        let shipment = self.orders.shipping.dispatch(&user.0, id, dispatch).await?;
        JsonApi::single(Shipments::object(shipment, Fields::ALL))
    }

    /// Record a delivery
    ///
    /// Admins, or the carrier's callback (`X-Callback-Key`). A dispatched shipment
    /// becomes `delivered`, and its order too. The body is optional.
    #[oai(
        path = "/v1/shipments/:id/deliver",
        method = "post",
        operation_id = "deliverShipment"
    )]
    async fn deliver(
        &self,
        caller: SignedInOrCallback,
        /// The shipment id (UUID).
        id: Path<String>,
        body: OptionalBody<DeliverShipment>,
    ) -> Result<JsonApi<SingleDocument<Shipments>>, ApiError> {
        let id = shipment_id(&id)?;
        body.check(id.0)?;
        let shipment = self.orders.shipping.deliver(&caller.0, id).await?;
        JsonApi::single(Shipments::object(shipment, Fields::ALL))
    }
}

impl JsonApiBody<DispatchShipment> {
    /// The carrier and tracking number.
    pub fn dispatch(&self, id: ShipmentId) -> Result<Dispatch, ApiError> {
        let mut document = self.read(Some(id.0))?;
        let carrier = document.attribute("carrier", &text(Carrier::new));
        let tracking_number = document.attribute("trackingNumber", &text(TrackingNumber::new));
        document.finish(|| {
            Some(Dispatch {
                carrier: carrier?,
                tracking_number: tracking_number?,
            })
        })
    }
}
