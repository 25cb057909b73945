//! `/v1/payments`: open a payment for an order, read it, and (with the mock provider
//! only) settle it: `succeed` / `fail`, by the buyer, an admin, or the provider's
//! callback with `X-Callback-Key`.

use std::sync::Arc;

use emporium_application::orders::Orders;
use emporium_domain::orders::{OrderId, Payment, PaymentId};
use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use uuid::Uuid;

use super::ApiTags;
use super::jsonapi::{
    Amount, ApiError, ClientId, Created, Fields, JsonApi, JsonApiBody, Linkage, Member,
    OptionalBody, QuerySpec, Relationship, Resource, SingleDocument, Timestamp, Write, path_id,
};
use super::middleware::auth::{SignedIn, SignedInOrCallback};
use super::openapi::Queries;

/// The `payments` resource.
pub struct Payments;

/// A payment.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "PaymentAttributes", rename_all = "camelCase", read_only_all)]
pub struct PaymentAttributes {
    /// `pending`, `succeeded`, `failed` or `refunded`.
    pub status: String,
    /// The order's total when the payment was opened.
    pub amount: Amount,
    /// The shop currency (ISO 4217).
    pub currency: String,
    /// The provider that handles it (`mock`).
    pub provider_reference: String,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Resource for Payments {
    type Model = Payment;
    type Attributes = PaymentAttributes;
    type Included = ();
    const TYPE: &'static str = "payments";
    const NAME: &'static str = "Payment";
    const PATH: Option<&'static str> = Some("/v1/payments");
    const ATTRIBUTES: &'static [&'static str] = &[
        "status",
        "amount",
        "currency",
        "providerReference",
        "createdAt",
        "updatedAt",
    ];
    const RELATIONSHIPS: &'static [Relationship] = &[Relationship::to_one("order", "orders")];

    fn id(payment: &Payment) -> Uuid {
        payment.id.0
    }

    fn linkage(payment: &Payment) -> Vec<Linkage> {
        vec![Linkage::One(Some(payment.order_id.0))]
    }

    fn attributes(payment: Payment) -> PaymentAttributes {
        PaymentAttributes {
            status: payment.status.as_str().to_owned(),
            amount: Amount(payment.amount.amount()),
            currency: payment.currency.to_string(),
            provider_reference: payment.provider_reference,
            created_at: payment.created_at.into(),
            updated_at: payment.updated_at.into(),
        }
    }
}

/// `POST /v1/payments`: the order to pay (amount and currency are the order's).
pub struct CreatePayment;

impl Write for CreatePayment {
    type Resource = Payments;
    const NAME: &'static str = "PaymentCreate";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[];
    const RELATIONSHIPS: &'static [Member] = &[Member::required("order")];
}

/// `POST /v1/payments/{id}/succeed|fail`: no attributes (the body is optional).
pub struct SettlePayment;

impl Write for SettlePayment {
    type Resource = Payments;
    const NAME: &'static str = "PaymentSettle";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[];
}

fn payment_id(raw: &str) -> Result<PaymentId, ApiError> {
    path_id(raw, "payment").map(PaymentId)
}

/// The payment routes every provider has.
pub struct PaymentsApi {
    orders: Arc<Orders>,
}

impl PaymentsApi {
    /// Routes over the order use cases.
    pub fn new(orders: Arc<Orders>) -> Self {
        Self { orders }
    }
}

impl Queries for PaymentsApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] = &[];
}

#[OpenApi(tag = "ApiTags::Orders")]
impl PaymentsApi {
    /// Open a payment
    ///
    /// For a pending order of the caller's (admins: any), of its total. At most one
    /// pending or succeeded payment per order at a time (409 `payment_exists`).
    #[oai(path = "/v1/payments", method = "post", operation_id = "createPayment")]
    async fn create(
        &self,
        user: SignedIn,
        body: JsonApiBody<CreatePayment>,
    ) -> Result<Created<SingleDocument<Payments>>, ApiError> {
        let order = {
            let mut document = body.read(None)?;
            let order = document.to_one("order").flatten();
            document.finish(|| order.map(OrderId))?
        };
        let payment = self.orders.payments.create(&user.0, order).await?;
        Created::new(Payments::object(payment, Fields::ALL))
    }

    /// Read a payment
    ///
    /// The buyer, an admin, or the provider's callback; another customer's payment
    /// is 404.
    #[oai(path = "/v1/payments/:id", method = "get", operation_id = "getPayment")]
    async fn get(
        &self,
        caller: SignedInOrCallback,
        /// The payment id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<Payments>>, ApiError> {
        let id = payment_id(&id)?;
        let payment = self.orders.payments.get(&caller.0, id).await?;
        JsonApi::single(Payments::object(payment, Fields::ALL))
    }
}

/// The mock provider's controls: they exist only while `EMPORIUM_PAYMENT_PROVIDER`
/// is `mock`.
pub struct MockPaymentsApi {
    orders: Arc<Orders>,
}

impl MockPaymentsApi {
    /// Routes over the order use cases.
    pub fn new(orders: Arc<Orders>) -> Self {
        Self { orders }
    }

    async fn settle(
        &self,
        caller: SignedInOrCallback,
        id: &str,
        body: OptionalBody<SettlePayment>,
        succeeded: bool,
    ) -> Result<JsonApi<SingleDocument<Payments>>, ApiError> {
        let id = payment_id(id)?;
        body.check(id.0)?;
        let payment = self
            .orders
            .payments
            .settle(&caller.0, id, succeeded)
            .await?;
        JsonApi::single(Payments::object(payment, Fields::ALL))
    }
}

impl Queries for MockPaymentsApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] = &[];
}

#[OpenApi(tag = "ApiTags::Orders")]
impl MockPaymentsApi {
    /// Mark a payment succeeded (mock provider)
    ///
    /// The buyer, an admin, or the provider's callback. The order becomes paid (its
    /// stock committed, its shipment ready); a success for an order cancelled
    /// meanwhile is refunded. Repeating it answers the payment as it is; after
    /// `fail` it is 409 `invalid_transition`.
    #[oai(
        path = "/v1/payments/:id/succeed",
        method = "post",
        operation_id = "succeedPayment"
    )]
    async fn succeed(
        &self,
        caller: SignedInOrCallback,
        /// The payment id (UUID).
        id: Path<String>,
        body: OptionalBody<SettlePayment>,
    ) -> Result<JsonApi<SingleDocument<Payments>>, ApiError> {
        self.settle(caller, &id, body, true).await
    }

    /// Mark a payment failed (mock provider)
    ///
    /// The buyer, an admin, or the provider's callback. The order stays pending (a new
    /// payment may be opened). Repeating it answers the payment as it is; after
    /// `succeed` it is 409 `invalid_transition`.
    #[oai(
        path = "/v1/payments/:id/fail",
        method = "post",
        operation_id = "failPayment"
    )]
    async fn fail(
        &self,
        caller: SignedInOrCallback,
        /// The payment id (UUID).
        id: Path<String>,
        body: OptionalBody<SettlePayment>,
    ) -> Result<JsonApi<SingleDocument<Payments>>, ApiError> {
        self.settle(caller, &id, body, false).await
    }
}
