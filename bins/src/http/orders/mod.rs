//! `/v1/orders`: place (with an optional `Idempotency-Key`), list, read (with
//! `include=shipment,payments`), the audit trail, and cancel. Prices, totals, status and owner
//! are never read from a request body.

use std::sync::Arc;

use emporium_application::orders::{LinesSource, OrderView, Orders, PlaceOrderInput, Placed};
use emporium_domain::catalog::ProductId;
use emporium_domain::orders::{
    AddressLine, CancelReason, City, CountryCode, IdempotencyKey, LineQuantity, MAX_LINES,
    OrderEvent, OrderFilter, OrderId, OrderStatus, PostalCode, RecipientName, RequestedLine,
    ShippingAddress,
};
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::param::{Header, Path};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::ApiTags;
use super::carts::PricedLineAttributes;
use super::jsonapi::body::{Invalid, ObjectReader, integer, list, text, uuid_id};
use super::jsonapi::resource::uuid_schema;
use super::jsonapi::schema::{product_lines, string_enum};
use super::jsonapi::{
    Amount, ApiError, ClientId, Created, ErrorObject, FieldSet, Fields, Filter, IncludedEither,
    JsonApi, JsonApiBody, Linkage, ListDocument, Member, OptionalBody, ParsedQuery, QuerySpec,
    Relationship, Resource, SingleDocument, Timestamp, Write, path_id,
};
use super::middleware::auth::{CallerEmail, SignedIn};
use super::openapi::Queries;
use super::payments::Payments;
use super::shipments::Shipments;

/// The `orders` resource.
pub struct Orders_;

/// Where an order goes.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "ShippingAddress", rename_all = "camelCase")]
pub struct AddressAttributes {
    /// The recipient, 1 to 100 characters.
    pub name: String,
    /// Street and number, 1 to 200 characters.
    pub line1: String,
    /// A second line, at most 200 characters, or null.
    #[oai(nullable)]
    pub line2: Option<String>,
    /// City, 1 to 100 characters.
    pub city: String,
    /// Postal code, 1 to 20 letters, digits, spaces and `-`.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code (`GB`).
    pub country: String,
}

impl From<&ShippingAddress> for AddressAttributes {
    fn from(address: &ShippingAddress) -> Self {
        Self {
            name: address.name.to_string(),
            line1: address.line1.to_string(),
            line2: address.line2.as_ref().map(ToString::to_string),
            city: address.city.to_string(),
            postal_code: address.postal_code.to_string(),
            country: address.country.to_string(),
        }
    }
}

/// An order.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "OrderAttributes", rename_all = "camelCase")]
pub struct OrderAttributes {
    /// `pending`, `paid`, `shipped`, `delivered` or `cancelled`.
    #[oai(read_only)]
    pub status: String,
    /// The lines, as placed. Requests send `productId` and `quantity` only (or no
    /// lines, to order the cart).
    #[oai(read_only)]
    pub lines: Vec<PricedLineAttributes>,
    /// The sum of the line totals.
    #[oai(read_only)]
    pub total: Amount,
    /// The shop currency (ISO 4217).
    #[oai(read_only)]
    pub currency: String,
    /// Where it goes.
    pub shipping_address: AddressAttributes,
    /// An unpaid order is cancelled after this time.
    #[oai(read_only)]
    pub pay_by: Timestamp,
    /// Why it was cancelled, once it is.
    #[oai(nullable, read_only)]
    pub cancel_reason: Option<String>,
    /// When it was placed.
    #[oai(read_only)]
    pub created_at: Timestamp,
    /// When it last changed.
    #[oai(read_only)]
    pub updated_at: Timestamp,
}

impl Resource for Orders_ {
    type Model = OrderView;
    type Attributes = OrderAttributes;
    type Included = (Shipments, Payments);
    const TYPE: &'static str = "orders";
    const NAME: &'static str = "Order";
    const PATH: Option<&'static str> = Some("/v1/orders");
    const ATTRIBUTES: &'static [&'static str] = &[
        "status",
        "lines",
        "total",
        "currency",
        "shippingAddress",
        "payBy",
        "cancelReason",
        "createdAt",
        "updatedAt",
    ];
    /// `shipment` and `payments` are shown where they were loaded: on one order, not
    /// in lists.
    const RELATIONSHIPS: &'static [Relationship] = &[
        Relationship::to_one("user", "users"),
        Relationship::to_one("shipment", "shipments"),
        Relationship::to_many("payments", "payments"),
    ];

    fn id(view: &OrderView) -> Uuid {
        view.order.id.0
    }

    fn linkage(view: &OrderView) -> Vec<Linkage> {
        vec![
            Linkage::One(Some(view.order.user_id.0)),
            view.shipment
                .as_ref()
                .map_or(Linkage::NotLoaded, |shipment| {
                    Linkage::One(Some(shipment.id.0))
                }),
            view.payments
                .as_ref()
                .map_or(Linkage::NotLoaded, |payments| {
                    Linkage::Many(payments.iter().map(|payment| payment.id.0).collect())
                }),
        ]
    }

    fn attributes(view: OrderView) -> OrderAttributes {
        let order = view.order;
        OrderAttributes {
            status: order.status.as_str().to_owned(),
            lines: order
                .lines
                .lines()
                .iter()
                .map(PricedLineAttributes::from)
                .collect(),
            total: Amount(order.total.amount()),
            currency: order.currency.to_string(),
            shipping_address: (&order.shipping_address).into(),
            pay_by: order.pay_by.into(),
            cancel_reason: order.cancel_reason.map(String::from),
            created_at: order.created_at.into(),
            updated_at: order.updated_at.into(),
        }
    }
}

/// The `order-events` resource: one row of an order's audit trail.
pub struct OrderEvents;

/// What happened to an order, who did it, and when.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(
    rename = "OrderEventAttributes",
    rename_all = "camelCase",
    read_only_all
)]
pub struct OrderEventAttributes {
    /// `created`, `status_changed` or `payment`.
    pub kind: String,
    /// The status before (null for `created`).
    #[oai(nullable)]
    pub from_status: Option<String>,
    /// The status after.
    pub to_status: String,
    /// `user:<id>`, `system`, `service` or `provider`.
    pub actor: String,
    /// A reason, a carrier and tracking number, a payment id.
    #[oai(nullable)]
    pub detail: Option<String>,
    /// When.
    pub occurred_at: Timestamp,
}

impl Resource for OrderEvents {
    type Model = OrderEvent;
    type Attributes = OrderEventAttributes;
    type Included = ();
    const TYPE: &'static str = "order-events";
    const NAME: &'static str = "OrderEvent";
    const PATH: Option<&'static str> = None;
    const ATTRIBUTES: &'static [&'static str] = &[
        "kind",
        "fromStatus",
        "toStatus",
        "actor",
        "detail",
        "occurredAt",
    ];

    fn id(event: &OrderEvent) -> Uuid {
        event.id
    }

    fn attributes(event: OrderEvent) -> OrderEventAttributes {
        OrderEventAttributes {
            kind: event.kind.as_str().to_owned(),
            from_status: event.from_status.map(|status| status.as_str().to_owned()),
            to_status: event.to_status.as_str().to_owned(),
            actor: event.actor.to_string(),
            detail: event.detail,
            occurred_at: event.occurred_at.into(),
        }
    }
}

/// `POST /v1/orders`.
pub struct PlaceOrderDocument;

impl Write for PlaceOrderDocument {
    type Resource = Orders_;
    const NAME: &'static str = "OrderCreate";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[
        Member::optional("lines").with_schema(lines_schema),
        Member::required("shippingAddress"),
    ];
}

/// `POST /v1/orders/{id}/cancel` (the body is optional).
pub struct CancelOrderDocument;

impl Write for CancelOrderDocument {
    type Resource = Orders_;
    const NAME: &'static str = "OrderCancel";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[Member::optional("reason").with_schema(reason_schema)];
}

/// 1 to 50 lines of a product and 1 to 99 units.
fn lines_schema() -> MetaSchemaRef {
    product_lines(
        LineQuantity::MAX,
        MAX_LINES,
        Some("What to order; leave out to order the cart. Prices come from the catalog."),
    )
}

/// Why: 1 to 200 characters.
fn reason_schema() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        min_length: Some(1),
        max_length: Some(200),
        description: Some("Why the order is cancelled."),
        ..MetaSchema::new("string")
    }))
}

/// Schema of the `status` filter.
fn status_schema() -> MetaSchemaRef {
    string_enum(&["pending", "paid", "shipped", "delivered", "cancelled"])
}

const LIST: QuerySpec = QuerySpec {
    paginated: true,
    filters: &[
        Filter {
            name: "status",
            description: "Only orders in this status.",
            schema: status_schema,
        },
        Filter {
            name: "user",
            description: "Only this buyer's orders (admins; a customer sees only their own).",
            schema: uuid_schema,
        },
    ],
    fieldsets: &[FieldSet::of::<Orders_>()],
    ..QuerySpec::NONE
};

const ONE: QuerySpec = QuerySpec {
    includes: &["shipment", "payments"],
    fieldsets: &[
        FieldSet::of::<Orders_>(),
        FieldSet::of::<Shipments>(),
        FieldSet::of::<Payments>(),
    ],
    ..QuerySpec::NONE
};

/// The order routes.
pub struct OrdersApi {
    orders: Arc<Orders>,
}

impl OrdersApi {
    /// Routes over the order use cases.
    pub fn new(orders: Arc<Orders>) -> Self {
        Self { orders }
    }
}

impl Queries for OrdersApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] =
        &[("listOrders", &LIST), ("getOrder", &ONE)];
}

fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    path_id(raw, "order").map(OrderId)
}

/// A placed order, its shipment included.
fn placed(view: OrderView) -> Result<Created<SingleDocument<Orders_>>, ApiError> {
    let included = view
        .shipment
        .clone()
        .map(|shipment| {
            vec![IncludedEither::First(Shipments::object(
                shipment,
                Fields::ALL,
            ))]
        })
        .unwrap_or_default();
    Created::compound(Orders_::object(view, Fields::ALL), included)
}

/// What `include` asks of an order: its shipment, its payments.
fn included_with<'q>(
    view: &OrderView,
    query: &'q ParsedQuery,
) -> Vec<IncludedEither<'q, Shipments, Payments>> {
    let mut included = Vec::new();
    if query.includes("shipment")
        && let Some(shipment) = &view.shipment
    {
        included.push(IncludedEither::First(Shipments::object(
            shipment.clone(),
            query.fields_of::<Shipments>(),
        )));
    }
    if query.includes("payments") {
        for payment in view.payments.iter().flatten() {
            included.push(IncludedEither::Second(Payments::object(
                payment.clone(),
                query.fields_of::<Payments>(),
            )));
        }
    }
    included
}

#[OpenApi(tag = "ApiTags::Orders")]
impl OrdersApi {
    /// Place an order
    ///
    /// From `lines` (1 to 50, each of 1 to 99 units) or, without them, from the
    /// caller's cart (emptied on success). Prices come from the catalog; every line's
    /// stock is reserved, all or none (422 `insufficient_stock`). With an
    /// `Idempotency-Key`, a retry with the same body answers the same order; the same
    /// key with another body is 422 `idempotency_key_reused`, and while the first
    /// request runs, 409 `idempotency_key_in_use`.
    #[oai(path = "/v1/orders", method = "post", operation_id = "placeOrder")]
    async fn place(
        &self,
        request: &Request,
        user: SignedIn,
        /// 1 to 255 visible ASCII characters; scoped to the caller, kept 24 h.
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")
        )]
        idempotency_key: Header<Option<String>>,
        body: JsonApiBody<PlaceOrderDocument>,
    ) -> Result<Created<SingleDocument<Orders_>>, ApiError> {
        let idempotency_key = match idempotency_key.0 {
            None => None,
            Some(raw) => Some(IdempotencyKey::new(raw).map_err(|error| {
                ApiError::from(
                    ErrorObject::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_header",
                        "Invalid header",
                        error.to_string(),
                    )
                    .at_header("Idempotency-Key"),
                )
            })?),
        };
        let (lines, shipping_address) = body.order()?;
        let input = PlaceOrderInput {
            lines,
            shipping_address,
            idempotency_key,
            buyer_email: request
                .extensions()
                .get::<CallerEmail>()
                .map(|email| email.0.clone()),
        };
        match self.orders.place.execute(&user.0, input).await? {
            Placed::Created(view) | Placed::Replayed(view) => placed(view),
        }
    }

    /// List orders
    ///
    /// A customer's own orders; an admin's all, filtered by `status` and `user`. Newest
    /// first, paged.
    #[oai(path = "/v1/orders", method = "get", operation_id = "listOrders")]
    async fn list(
        &self,
        request: &Request,
        user: SignedIn,
    ) -> Result<JsonApi<ListDocument<Orders_>>, ApiError> {
        let query = LIST.parse(request.uri().query())?;
        let status = query.parsed_filter(
            "status",
            "an order status (pending, paid, shipped, delivered, cancelled)",
            OrderStatus::parse,
        )?;
        let user_filter = query.user_filter()?;
        let filter = OrderFilter {
            user_id: user_filter,
            status,
        };
        let page = self
            .orders
            .list
            .execute(&user.0, filter, query.page)
            .await?;
        JsonApi::list(page.map(OrderView::order_only), Vec::<()>::new(), &query)
    }

    /// Read an order
    ///
    /// The owner or an admin; another customer's order is 404. Its `shipment` and
    /// `payments` relationships are always shown; `include=shipment,payments` adds
    /// the resources.
    #[oai(path = "/v1/orders/:id", method = "get", operation_id = "getOrder")]
    async fn get(
        &self,
        request: &Request,
        user: SignedIn,
        /// The order id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<Orders_>>, ApiError> {
        let id = order_id(&id)?;
        let query = ONE.parse(request.uri().query())?;
        let view = self.orders.get.execute(&user.0, id).await?;
        let included = included_with(&view, &query);
        JsonApi::compound(
            Orders_::object(view, query.fields_of::<Orders_>()),
            included,
        )
    }

    /// Read an order's audit trail
    ///
    /// Every change of the order, who made it and when, oldest first.
    #[oai(
        path = "/v1/orders/:id/events",
        method = "get",
        operation_id = "listOrderEvents"
    )]
    async fn events(
        &self,
        user: SignedIn,
        /// The order id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<ListDocument<OrderEvents>>, ApiError> {
        let id = order_id(&id)?;
        let rows = self.orders.events.execute(&user.0, id).await?;
        JsonApi::all(rows, &format!("/v1/orders/{id}/events"))
    }

    /// Cancel an order
    ///
    /// The buyer while it is pending (its stock is released); an admin while it is
    /// pending or paid (stock restocked). The body is optional and may give a
    /// `reason`. Cancelling a cancelled order answers it as it is; any other status is
    /// 409 `invalid_transition`.
    #[oai(
        path = "/v1/orders/:id/cancel",
        method = "post",
        operation_id = "cancelOrder"
    )]
    async fn cancel(
        &self,
        user: SignedIn,
        /// The order id (UUID).
        id: Path<String>,
        body: OptionalBody<CancelOrderDocument>,
    ) -> Result<JsonApi<SingleDocument<Orders_>>, ApiError> {
        let id = order_id(&id)?;
        let reason = match body.0 {
            Some(body) => body.reason(id)?,
            None => None,
        };
        let order = self.orders.cancel.execute(&user.0, id, reason).await?;
        JsonApi::single(Orders_::object(OrderView::order_only(order), Fields::ALL))
    }
}

/// One requested line: `{"productId": "…", "quantity": 2}`.
fn requested_line(value: &Value) -> Result<RequestedLine, Invalid> {
    let mut line = ObjectReader::new(value)?;
    let product_id = line.required("productId", uuid_id("a product id", ProductId));
    let quantity = line.required("quantity", integer(LineQuantity::new));
    line.finish(|| {
        Some(RequestedLine {
            product_id: product_id?,
            quantity: quantity?,
        })
    })
}

/// The lines: 1 to 50.
fn requested_lines(value: &Value) -> Result<Vec<RequestedLine>, Invalid> {
    let lines = list(requested_line)(value)?;
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(Invalid::Value(format!(
            "lines must hold 1 to {MAX_LINES} lines (leave it out to order the cart)."
        )));
    }
    Ok(lines)
}

/// The shipping address object.
fn address(value: &Value) -> Result<ShippingAddress, Invalid> {
    let mut address = ObjectReader::new(value)?;
    let name = address.required("name", text(RecipientName::new));
    let line1 = address.required("line1", text(AddressLine::new));
    let line2 = address.optional("line2", text(AddressLine::new));
    let city = address.required("city", text(City::new));
    let postal_code = address.required("postalCode", text(PostalCode::new));
    let country = address.required("country", text(CountryCode::new));
    address.finish(|| {
        Some(ShippingAddress {
            name: name?,
            line1: line1?,
            line2: line2?,
            city: city?,
            postal_code: postal_code?,
            country: country?,
        })
    })
}

impl JsonApiBody<PlaceOrderDocument> {
    /// The lines (or the cart) and the address.
    pub fn order(&self) -> Result<(LinesSource, ShippingAddress), ApiError> {
        let mut document = self.read(None)?;
        let lines = match document.has_attribute("lines") {
            true => document
                .attribute("lines", &requested_lines)
                .map(LinesSource::Explicit),
            false => Some(LinesSource::Cart),
        };
        let shipping_address = document.attribute("shippingAddress", &address);
        document.finish(|| Some((lines?, shipping_address?)))
    }
}

impl JsonApiBody<CancelOrderDocument> {
    /// The reason given, if any.
    pub fn reason(&self, id: OrderId) -> Result<Option<CancelReason>, ApiError> {
        let mut document = self.read(Some(id.0))?;
        let reason = document.nullable("reason", &text(CancelReason::new));
        document.finish(|| Some(reason.flatten()))
    }
}
