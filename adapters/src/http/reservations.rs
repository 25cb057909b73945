//! The orders service's calls to inventory over HTTP: the internal reservation
//! routes (`/v1/inventory/reservations…`, service API key only).

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::Unavailable;
use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{
    Quantity, Reservation, ReservationAction, ReservationError, ReservationLine, ReservationLines,
    ReservationStatus, StockReservations,
};
use emporium_domain::orders::{OrderId, ProcessedEvent};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::HttpClientConfig;
use super::client::{ServiceClient, check_identity, parse_document};

/// [`StockReservations`] in the inventory service, over HTTP.
///
/// Every call is idempotent by order id on the inventory side, so a call retried
/// after a timeout (whose first attempt may have taken effect) answers the same.
/// Timeouts, connection failures and 5xx answers (after the client's retries) are
/// [`ReservationError::Unavailable`]: placing an order answers 503 within the
/// client's worst case (about 9 s with the defaults, 2 s per attempt). The 4xx
/// answers of the routes map back to the port's errors.
pub struct HttpStockReservations {
    client: ServiceClient,
}

impl HttpStockReservations {
    /// Validates `config` and builds the (pooled) client.
    pub fn new(config: HttpClientConfig) -> anyhow::Result<Self> {
        let client =
            ServiceClient::new(&config).context("configuring the inventory reservations client")?;
        Ok(Self { client })
    }
}

impl std::fmt::Debug for HttpStockReservations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStockReservations")
            .finish_non_exhaustive()
    }
}

/// The statuses the routes answer that are not failures of the call itself.
const ANSWERS: &[StatusCode] = &[
    StatusCode::OK,
    StatusCode::CREATED,
    StatusCode::NOT_FOUND,
    StatusCode::CONFLICT,
    StatusCode::UNPROCESSABLE_ENTITY,
];

fn unavailable(error: anyhow::Error) -> ReservationError {
    ReservationError::Unavailable(Unavailable::new("the inventory service", error))
}

impl HttpStockReservations {
    /// Sends one call; a failed call (after retries) is `Unavailable`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, Vec<u8>), ReservationError> {
        self.client
            .send(method, path, body, ANSWERS)
            .await
            .map_err(unavailable)
    }

    /// The reservation of `order_id`, read back (for an error that names its status).
    async fn status_of(&self, order_id: OrderId) -> Result<ReservationStatus, ReservationError> {
        Ok(self
            .get(order_id)
            .await?
            .ok_or(ReservationError::NotFound(order_id))?
            .status)
    }

    /// Units of `product_id` available now (for an `insufficient_stock` answer).
    async fn available(&self, product_id: ProductId) -> Result<Quantity, ReservationError> {
        let body = self
            .client
            .get(&format!("/v1/inventory/{product_id}"))
            .await
            .map_err(unavailable)?
            .ok_or(ReservationError::UnknownProduct(product_id))?;
        let record: InventoryResource = parse_document(&body)?;
        Ok(Quantity::new(record.attributes.available).unwrap_or(Quantity::ZERO))
    }
}

#[async_trait]
impl StockReservations for HttpStockReservations {
    async fn reserve(
        &self,
        order_id: OrderId,
        lines: &ReservationLines,
        _at: DateTime<Utc>,
    ) -> Result<Reservation, ReservationError> {
        let lines: Vec<_> = lines
            .lines()
            .iter()
            .map(|line| json!({"productId": line.product_id.0, "quantity": line.quantity.value()}))
            .collect();
        let document = json!({"data": {"type": "reservations", "id": order_id.0,
            "attributes": {"lines": lines}}});
        let (status, body) = self
            .send(Method::POST, "/v1/inventory/reservations", Some(&document))
            .await?;
        match status {
            StatusCode::OK | StatusCode::CREATED => reservation(&body, order_id),
            StatusCode::CONFLICT => Err(ReservationError::LinesDiffer(order_id)),
            StatusCode::UNPROCESSABLE_ENTITY => {
                let error = first_error(&body)?;
                let product_id = error.product_id()?;
                match error.code.as_str() {
                    "insufficient_stock" => Err(ReservationError::InsufficientStock {
                        product_id,
                        available: self.available(product_id).await?,
                    }),
                    "unknown_product" => Err(ReservationError::UnknownProduct(product_id)),
                    other => Err(anyhow!("inventory refused the reservation: {other}").into()),
                }
            }
            other => Err(anyhow!("inventory answered {other} to a reservation").into()),
        }
    }

    async fn apply(
        &self,
        order_id: OrderId,
        action: ReservationAction,
        processed: Option<ProcessedEvent>,
        _at: DateTime<Utc>,
    ) -> Result<Reservation, ReservationError> {
        let document = processed.map(|event| {
            json!({"data": {"type": "reservations", "id": order_id.0,
                "attributes": {"event": {"consumer": event.consumer, "id": event.event_id.0}}}})
        });
        let path = format!("/v1/inventory/reservations/{order_id}/{action}");
        let (status, body) = self.send(Method::POST, &path, document.as_ref()).await?;
        match status {
            StatusCode::OK => reservation(&body, order_id),
            StatusCode::NOT_FOUND => Err(ReservationError::NotFound(order_id)),
            StatusCode::CONFLICT => Err(ReservationError::InvalidTransition {
                action,
                status: self.status_of(order_id).await?,
            }),
            other => {
                Err(anyhow!("inventory answered {other} to {action} of order {order_id}").into())
            }
        }
    }

    async fn processed(&self, event: &ProcessedEvent) -> Result<bool, ReservationError> {
        let path = format!(
            "/v1/inventory/reservations/processed-events/{}/{}",
            event.consumer, event.event_id.0
        );
        let (status, _) = self.send(Method::GET, &path, None).await?;
        match status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            other => Err(anyhow!("inventory answered {other} about a processed event").into()),
        }
    }

    async fn get(&self, order_id: OrderId) -> Result<Option<Reservation>, ReservationError> {
        let path = format!("/v1/inventory/reservations/{order_id}");
        let (status, body) = self.send(Method::GET, &path, None).await?;
        match status {
            StatusCode::OK => reservation(&body, order_id).map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            other => Err(anyhow!("inventory answered {other} for reservation {order_id}").into()),
        }
    }
}

/// A `reservations` resource object.
#[derive(Debug, Deserialize)]
struct ReservationResource {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    attributes: ReservationAttributes,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReservationAttributes {
    status: String,
    lines: Vec<LineAttributes>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineAttributes {
    product_id: Uuid,
    quantity: i64,
}

/// The reservation of `order_id` in an answer's body.
fn reservation(body: &[u8], order_id: OrderId) -> Result<Reservation, ReservationError> {
    let resource: ReservationResource = parse_document(body)?;
    check_identity(&resource.kind, &resource.id, "reservations", order_id.0)?;
    let attributes = resource.attributes;
    let status = ReservationStatus::parse(&attributes.status)
        .with_context(|| format!("unknown reservation status {:?}", attributes.status))?;
    let lines = attributes
        .lines
        .into_iter()
        .map(|line| {
            Ok(ReservationLine {
                product_id: ProductId(line.product_id),
                quantity: Quantity::new(line.quantity).context("a line's quantity")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Reservation {
        order_id,
        lines: ReservationLines::new(lines).context("the reservation's lines")?,
        status,
        updated_at: attributes.updated_at,
    })
}

/// A JSON:API error document's first error.
#[derive(Debug, Deserialize)]
struct ErrorDocument {
    errors: Vec<ErrorObject>,
}

#[derive(Debug, Deserialize)]
struct ErrorObject {
    code: String,
    #[serde(default)]
    meta: Option<ErrorMeta>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorMeta {
    product_id: Option<Uuid>,
}

impl ErrorObject {
    fn product_id(&self) -> anyhow::Result<ProductId> {
        self.meta
            .as_ref()
            .and_then(|meta| meta.product_id)
            .map(ProductId)
            .with_context(|| format!("the {} error names no product", self.code))
    }
}

fn first_error(body: &[u8]) -> anyhow::Result<ErrorObject> {
    let document: ErrorDocument =
        serde_json::from_slice(body).context("the answer is not a JSON:API error document")?;
    document
        .errors
        .into_iter()
        .next()
        .context("the error document holds no error")
}

/// An `inventory` resource object; only what the lookup needs.
#[derive(Debug, Deserialize)]
struct InventoryResource {
    attributes: InventoryAttributes,
}

#[derive(Debug, Deserialize)]
struct InventoryAttributes {
    available: i64,
}
