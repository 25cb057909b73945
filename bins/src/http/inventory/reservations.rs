//! `/v1/inventory/reservations`: the inventory side of the order saga, for the orders
//! service of a split deployment (the service API key only; the gateway does not
//! expose these routes). Every call is idempotent by order id: a retried reservation
//! with the same lines answers 200 with the existing one (a documented deviation from
//! JSON:API's 409 for an existing client-generated id); other lines are 409.

use std::sync::Arc;

use emporium_application::inventory::{Inventory, Reserved};
use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{
    Quantity, Reservation, ReservationAction, ReservationLine, ReservationLines,
};
use emporium_domain::orders::{EventId, OrderId, ProcessedEvent};
use poem::http::StatusCode;
use poem_openapi::param::Path;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::http::ApiTags;
use crate::http::jsonapi::body::{Invalid, ObjectReader, integer, list, uuid_id};
use crate::http::jsonapi::resource::uuid_schema;
use crate::http::jsonapi::schema::{object, product_lines};
use crate::http::jsonapi::{
    ApiError, ClientId, Created, ErrorObject, Fields, JsonApi, JsonApiBody, Member, OptionalBody,
    QuerySpec, Resource, Saved, SingleDocument, Timestamp, Write, path_id,
};
use crate::http::middleware::auth::Service;
use crate::http::openapi::Queries;

/// The `reservations` resource: the stock an order holds; its id is the order id.
pub struct Reservations;

/// One line of a reservation.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "ReservationLine", rename_all = "camelCase")]
pub struct ReservationLineAttributes {
    /// The product.
    pub product_id: Uuid,
    /// Units held.
    pub quantity: i64,
}

/// A reservation.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "ReservationAttributes", rename_all = "camelCase")]
pub struct ReservationAttributes {
    /// `reserved`, `committed`, `released` or `restocked`.
    #[oai(read_only)]
    pub status: String,
    /// One line per product (lines of one product are summed).
    pub lines: Vec<ReservationLineAttributes>,
    /// When it last changed.
    #[oai(read_only)]
    pub updated_at: Timestamp,
}

impl Resource for Reservations {
    type Model = Reservation;
    type Attributes = ReservationAttributes;
    type Included = ();
    const TYPE: &'static str = "reservations";
    const NAME: &'static str = "Reservation";
    const PATH: Option<&'static str> = Some("/v1/inventory/reservations");
    const ATTRIBUTES: &'static [&'static str] = &["status", "lines", "updatedAt"];

    fn id(reservation: &Reservation) -> Uuid {
        reservation.order_id.0
    }

    fn attributes(reservation: Reservation) -> ReservationAttributes {
        ReservationAttributes {
            status: reservation.status.as_str().to_owned(),
            lines: reservation
                .lines
                .lines()
                .iter()
                .map(|line| ReservationLineAttributes {
                    product_id: line.product_id.0,
                    quantity: line.quantity.value(),
                })
                .collect(),
            updated_at: reservation.updated_at.into(),
        }
    }
}

/// The `processed-events` resource: an event that moved a reservation; its id is the
/// event id.
pub struct ProcessedEvents;

/// Who processed the event.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(
    rename = "ProcessedEventAttributes",
    rename_all = "camelCase",
    read_only_all
)]
pub struct ProcessedEventAttributes {
    /// The consumer group.
    pub consumer: String,
}

impl Resource for ProcessedEvents {
    type Model = ProcessedEvent;
    type Attributes = ProcessedEventAttributes;
    type Included = ();
    const TYPE: &'static str = "processed-events";
    const NAME: &'static str = "ProcessedEvent";
    const PATH: Option<&'static str> = None;
    const ATTRIBUTES: &'static [&'static str] = &["consumer"];

    fn id(event: &ProcessedEvent) -> Uuid {
        event.event_id.0
    }

    fn attributes(event: ProcessedEvent) -> ProcessedEventAttributes {
        ProcessedEventAttributes {
            consumer: event.consumer,
        }
    }
}

/// `POST /v1/inventory/reservations`: the order id as `data.id`, and the lines.
pub struct ReserveDocument;

impl Write for ReserveDocument {
    type Resource = Reservations;
    const NAME: &'static str = "ReservationCreate";
    const ID: ClientId = ClientId::Allowed;
    const ATTRIBUTES: &'static [Member] =
        &[Member::required("lines").with_schema(reservation_lines_schema)];
}

/// `POST /v1/inventory/reservations/{order_id}/commit|release|restock`: optionally the
/// event a consumer applies (`event`: `{"consumer": "stock", "id": "<event id>"}`),
/// recorded with the move.
pub struct ReservationActionDocument;

impl Write for ReservationActionDocument {
    type Resource = Reservations;
    const NAME: &'static str = "ReservationAction";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[Member::optional("event").with_schema(event_schema)];
}

fn reservation_lines_schema() -> MetaSchemaRef {
    product_lines(
        Quantity::MAX,
        emporium_domain::inventory::MAX_RESERVATION_LINES,
        Some("The order's lines; lines of one product are summed."),
    )
}

fn event_schema() -> MetaSchemaRef {
    let consumer = MetaSchemaRef::Inline(Box::new(MetaSchema {
        min_length: Some(1),
        max_length: Some(MAX_CONSUMER_LEN),
        ..MetaSchema::new("string")
    }));
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some("The event a consumer applies; recorded with the move."),
        ..object(
            vec![("consumer", consumer), ("id", uuid_schema())],
            vec!["consumer", "id"],
        )
    }))
}

/// The longest consumer group name.
const MAX_CONSUMER_LEN: usize = 64;

/// The reservation routes.
pub struct ReservationsApi {
    inventory: Arc<Inventory>,
}

impl ReservationsApi {
    /// Routes over the inventory use cases.
    pub fn new(inventory: Arc<Inventory>) -> Self {
        Self { inventory }
    }

    async fn act(
        &self,
        service: Service,
        order_id: &str,
        action: ReservationAction,
        body: OptionalBody<ReservationActionDocument>,
    ) -> Result<JsonApi<SingleDocument<Reservations>>, ApiError> {
        let order_id = OrderId(path_id(order_id, "reservation")?);
        let processed = match body.0 {
            Some(body) => body.event(order_id)?,
            None => None,
        };
        let reservation = self
            .inventory
            .reservations
            .apply(&service.0, order_id, action, processed)
            .await?;
        JsonApi::single(Reservations::object(reservation, Fields::ALL))
    }
}

impl Queries for ReservationsApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] = &[
        ("reserveStock", &QuerySpec::NONE),
        ("getReservation", &QuerySpec::NONE),
        ("commitReservation", &QuerySpec::NONE),
        ("releaseReservation", &QuerySpec::NONE),
        ("restockReservation", &QuerySpec::NONE),
        ("getProcessedEvent", &QuerySpec::NONE),
    ];
}

#[OpenApi(tag = "ApiTags::Inventory")]
impl ReservationsApi {
    /// Reserve an order's stock
    ///
    /// The service API key only (the orders service). All lines or none; 422
    /// `insufficient_stock` names the product short of stock in `meta.productId`. The
    /// same order id with the same lines answers 200 with the existing reservation,
    /// whatever its status; with other lines, 409 `reservation_differs`.
    #[oai(
        path = "/v1/inventory/reservations",
        method = "post",
        operation_id = "reserveStock"
    )]
    async fn reserve(
        &self,
        service: Service,
        body: JsonApiBody<ReserveDocument>,
    ) -> Result<Saved<SingleDocument<Reservations>>, ApiError> {
        let (order_id, lines) = body.reservation()?;
        let Reserved {
            reservation,
            created,
        } = self
            .inventory
            .reservations
            .reserve(&service.0, order_id, &lines)
            .await?;
        let object = Reservations::object(reservation, Fields::ALL);
        Ok(match created {
            true => Saved::Created(Created::new(object)?),
            false => Saved::Updated(JsonApi::single(object)?),
        })
    }

    /// Read an order's reservation
    ///
    /// The service API key only.
    #[oai(
        path = "/v1/inventory/reservations/:order_id",
        method = "get",
        operation_id = "getReservation"
    )]
    async fn get(
        &self,
        service: Service,
        /// The order id (UUID).
        order_id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<Reservations>>, ApiError> {
        let order_id = OrderId(path_id(&order_id, "reservation")?);
        let reservation = self
            .inventory
            .reservations
            .get(&service.0, order_id)
            .await?;
        JsonApi::single(Reservations::object(reservation, Fields::ALL))
    }

    /// Commit an order's reservation (the order was paid)
    ///
    /// The service API key only. Repeating it answers the reservation as it is; a
    /// reservation that was released answers 409 `invalid_transition`.
    #[oai(
        path = "/v1/inventory/reservations/:order_id/commit",
        method = "post",
        operation_id = "commitReservation"
    )]
    async fn commit(
        &self,
        service: Service,
        /// The order id (UUID).
        order_id: Path<String>,
        body: OptionalBody<ReservationActionDocument>,
    ) -> Result<JsonApi<SingleDocument<Reservations>>, ApiError> {
        self.act(service, &order_id, ReservationAction::Commit, body)
            .await
    }

    /// Release an order's reservation (the order ended unpaid)
    ///
    /// The service API key only. Repeating it answers the reservation as it is.
    #[oai(
        path = "/v1/inventory/reservations/:order_id/release",
        method = "post",
        operation_id = "releaseReservation"
    )]
    async fn release(
        &self,
        service: Service,
        /// The order id (UUID).
        order_id: Path<String>,
        body: OptionalBody<ReservationActionDocument>,
    ) -> Result<JsonApi<SingleDocument<Reservations>>, ApiError> {
        self.act(service, &order_id, ReservationAction::Release, body)
            .await
    }

    /// Restock an order's committed reservation (a paid order was cancelled)
    ///
    /// The service API key only. Repeating it answers the reservation as it is.
    #[oai(
        path = "/v1/inventory/reservations/:order_id/restock",
        method = "post",
        operation_id = "restockReservation"
    )]
    async fn restock(
        &self,
        service: Service,
        /// The order id (UUID).
        order_id: Path<String>,
        body: OptionalBody<ReservationActionDocument>,
    ) -> Result<JsonApi<SingleDocument<Reservations>>, ApiError> {
        self.act(service, &order_id, ReservationAction::Restock, body)
            .await
    }

    /// Whether an event moved a reservation
    ///
    /// The service API key only. 200 when the consumer's event moved a reservation
    /// here, 404 when not.
    #[oai(
        path = "/v1/inventory/reservations/processed-events/:consumer/:event_id",
        method = "get",
        operation_id = "getProcessedEvent"
    )]
    async fn processed(
        &self,
        service: Service,
        /// The consumer group.
        consumer: Path<String>,
        /// The event id (UUID).
        event_id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<ProcessedEvents>>, ApiError> {
        let event = ProcessedEvent {
            consumer: consumer_name(&consumer).map_err(|_| not_found("processed event"))?,
            event_id: EventId(path_id(&event_id, "processed event")?),
        };
        match self
            .inventory
            .reservations
            .processed(&service.0, &event)
            .await?
        {
            true => JsonApi::single(ProcessedEvents::object(event, Fields::ALL)),
            false => Err(not_found("processed event")),
        }
    }
}

/// 404 for `what`.
fn not_found(what: &str) -> ApiError {
    ApiError::from(ErrorObject::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Not found",
        format!("There is no such {what}."),
    ))
}

/// A consumer group name: 1 to 64 of `a-z`, `0-9`, `-`, `_`, `.`.
fn consumer_name(text: &str) -> Result<String, Invalid> {
    let valid = !text.is_empty()
        && text.len() <= MAX_CONSUMER_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    match valid {
        true => Ok(text.to_owned()),
        false => Err(Invalid::Value(format!(
            "consumer must be 1 to {MAX_CONSUMER_LEN} of a-z, 0-9, '-', '_', '.'."
        ))),
    }
}

/// One line: `{"productId": "…", "quantity": 2}`.
fn reservation_line(value: &Value) -> Result<ReservationLine, Invalid> {
    let mut line = ObjectReader::new(value)?;
    let product_id = line.required("productId", uuid_id("a product id", ProductId));
    let quantity = line.required("quantity", integer(Quantity::new));
    line.finish(|| {
        Some(ReservationLine {
            product_id: product_id?,
            quantity: quantity?,
        })
    })
}

/// The lines, summed by product.
fn reservation_lines(value: &Value) -> Result<ReservationLines, Invalid> {
    let lines = list(reservation_line)(value)?;
    ReservationLines::new(lines).map_err(|error| Invalid::Value(format!("{error}.")))
}

/// The event object: `{"consumer": "stock", "id": "<uuid>"}`.
fn processed_event(value: &Value) -> Result<ProcessedEvent, Invalid> {
    let mut event = ObjectReader::new(value)?;
    let consumer = event.required("consumer", |value| match value {
        Value::String(text) => consumer_name(text),
        _ => Err(Invalid::Type("a string")),
    });
    let id = event.required("id", uuid_id("an event id", EventId));
    event.finish(|| {
        Some(ProcessedEvent {
            consumer: consumer?,
            event_id: id?,
        })
    })
}

impl JsonApiBody<ReserveDocument> {
    /// The order (`data.id`, required) and its lines.
    pub fn reservation(&self) -> Result<(OrderId, ReservationLines), ApiError> {
        let mut document = self.read(None)?;
        let lines = document.attribute("lines", &reservation_lines);
        let order_id = document.id();
        if order_id.is_none() {
            document.push(
                ErrorObject::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "required",
                    "Required member missing",
                    "data.id (the order id) is required.",
                )
                .at_pointer("/data/id"),
            );
        }
        document.finish(|| Some((OrderId(order_id?), lines?)))
    }
}

impl JsonApiBody<ReservationActionDocument> {
    /// The event a consumer applies, if given.
    pub fn event(&self, order_id: OrderId) -> Result<Option<ProcessedEvent>, ApiError> {
        let mut document = self.read(Some(order_id.0))?;
        let event = match document.has_attribute("event") {
            true => document.attribute("event", &processed_event).map(Some),
            false => Some(None),
        };
        document.finish(|| event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reserve(doc: Value) -> Result<(OrderId, ReservationLines), ApiError> {
        JsonApiBody::<ReserveDocument>::from_value(doc).reservation()
    }

    #[test]
    fn a_reservation_names_its_order_and_sums_its_lines() {
        let order = Uuid::from_u128(1);
        let product = Uuid::from_u128(2).to_string();
        let (order_id, lines) = reserve(json!({"data": {"type": "reservations",
            "id": order.to_string(), "attributes": {"lines": [
                {"productId": product, "quantity": 2},
                {"productId": product, "quantity": 3}]}}}))
        .unwrap();
        assert_eq!(order_id.0, order);
        assert_eq!(lines.lines().len(), 1);
        assert_eq!(lines.lines()[0].quantity.value(), 5);
    }

    #[test]
    fn reservation_problems_point_at_their_member() {
        let product = Uuid::from_u128(2).to_string();
        let cases = [
            (
                json!({"type": "reservations", "attributes": {"lines": [{"productId": product, "quantity": 1}]}}),
                (422, "required", "/data/id"),
            ),
            (
                json!({"type": "reservations", "id": Uuid::from_u128(1).to_string(),
                    "attributes": {"lines": []}}),
                (422, "invalid_value", "/data/attributes/lines"),
            ),
            (
                json!({"type": "reservations", "id": Uuid::from_u128(1).to_string(),
                    "attributes": {"lines": [{"productId": product, "quantity": 0}]}}),
                (422, "invalid_value", "/data/attributes/lines"),
            ),
            (
                json!({"type": "reservations", "id": Uuid::from_u128(1).to_string(),
                    "attributes": {"lines": [{"productId": "p-1", "quantity": 1}]}}),
                (422, "invalid_value", "/data/attributes/lines/0/productId"),
            ),
            (
                json!({"type": "reservations", "id": Uuid::from_u128(1).to_string(),
                    "attributes": {"lines": [{"productId": product, "quantity": 1}], "status": "committed"}}),
                (403, "read_only_attribute", "/data/attributes/status"),
            ),
        ];
        for (data, (status, code, pointer)) in cases {
            let error = reserve(json!({"data": data})).unwrap_err();
            assert_eq!(error.summary()[0], (status, code, pointer.into()), "{data}");
        }
    }

    #[test]
    fn an_action_may_name_the_event_it_applies() {
        let order = OrderId(Uuid::from_u128(1));
        let event_id = Uuid::from_u128(9);
        let doc = |attributes: Value| {
            JsonApiBody::<ReservationActionDocument>::from_value(json!({"data": {
                "type": "reservations", "id": order.0.to_string(), "attributes": attributes}}))
        };
        let event = doc(json!({"event": {"consumer": "stock", "id": event_id.to_string()}}))
            .event(order)
            .unwrap()
            .unwrap();
        assert_eq!(event.consumer, "stock");
        assert_eq!(event.event_id.0, event_id);
        assert_eq!(doc(json!({})).event(order).unwrap(), None);
        let error = doc(json!({"event": {"consumer": "Stock!", "id": event_id.to_string()}}))
            .event(order)
            .unwrap_err();
        assert_eq!(
            error.summary()[0],
            (
                422,
                "invalid_value",
                "/data/attributes/event/consumer".into()
            )
        );
    }
}
