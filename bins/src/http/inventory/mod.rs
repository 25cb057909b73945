//! `/v1/inventory`: list, create, read (with `include=product`), adjust, delete.
//! A stock record's id is its product's id. The orders service's reservation routes
//! are in [`reservations`].

pub mod reservations;

use std::sync::Arc;

use emporium_application::inventory::Inventory;
use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{InventoryItem, Quantity, QuantityDelta, StockError};
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::param::Path;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use uuid::Uuid;

use super::ApiTags;
use super::jsonapi::body::integer;
use super::jsonapi::{
    ApiError, ClientId, Created, ErrorObject, FieldSet, Fields, JsonApi, JsonApiBody, Linkage,
    ListDocument, Member, NoContent, QuerySpec, Relationship, Resource, SingleDocument, Timestamp,
    Write, path_id,
};
use super::middleware::auth::CatalogManager;
use super::openapi::Queries;
use super::products::Products;

/// The `inventory` resource: one stock record per product.
pub struct StockRecords;

/// Quantities of a stock record.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "InventoryAttributes", rename_all = "camelCase")]
pub struct InventoryAttributes {
    /// Units physically in stock, 0 to 1,000,000,000. Set when the record is created,
    /// then changed only through `quantityDelta`.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000000")))]
    pub on_hand: i64,
    /// Units promised to orders.
    #[oai(read_only)]
    pub reserved: i64,
    /// `onHand - reserved`.
    #[oai(read_only)]
    pub available: i64,
    /// When it last changed.
    #[oai(read_only)]
    pub updated_at: Timestamp,
}

impl Resource for StockRecords {
    type Model = InventoryItem;
    type Attributes = InventoryAttributes;
    type Included = Products;
    const TYPE: &'static str = "inventory";
    const NAME: &'static str = "Inventory";
    const PATH: Option<&'static str> = Some("/v1/inventory");
    const ATTRIBUTES: &'static [&'static str] = &["onHand", "reserved", "available", "updatedAt"];
    const RELATIONSHIPS: &'static [Relationship] =
        &[Relationship::to_one("product", Products::TYPE)];

    fn id(item: &InventoryItem) -> Uuid {
        item.product_id().0
    }

    fn linkage(item: &InventoryItem) -> Vec<Linkage> {
        vec![Linkage::One(Some(item.product_id().0))]
    }

    fn attributes(item: InventoryItem) -> InventoryAttributes {
        InventoryAttributes {
            on_hand: item.on_hand().value(),
            reserved: item.reserved().value(),
            available: item.available().value(),
            updated_at: item.updated_at().into(),
        }
    }
}

/// `POST /v1/inventory`: the record's id, when sent, is its product's id.
pub struct CreateStockRecord;

impl Write for CreateStockRecord {
    type Resource = StockRecords;
    const NAME: &'static str = "InventoryCreate";
    const ID: ClientId = ClientId::Allowed;
    const ATTRIBUTES: &'static [Member] = &[Member::required("onHand")];
    /// The product, unless `data.id` names it.
    const RELATIONSHIPS: &'static [Member] = &[Member::optional("product")];
}

/// `PATCH /v1/inventory/{product_id}`: a signed change of on-hand stock.
pub struct AdjustStock;

impl Write for AdjustStock {
    type Resource = StockRecords;
    const NAME: &'static str = "InventoryAdjust";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] =
        &[Member::required("quantityDelta").with_schema(delta_schema)];
}

/// A non-zero change within ±1,000,000,000.
fn delta_schema() -> MetaSchemaRef {
    let max = Quantity::MAX as f64;
    let range = |minimum: f64, maximum: f64| {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            minimum: Some(minimum),
            maximum: Some(maximum),
            ..MetaSchema::new_with_format("integer", "int64")
        }))
    };
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some("A non-zero integer added to on-hand stock (negative removes)."),
        any_of: vec![range(-max, -1.0), range(1.0, max)],
        ..MetaSchema::ANY
    }))
}

const LIST: QuerySpec = QuerySpec {
    paginated: true,
    fieldsets: &[FieldSet::of::<StockRecords>()],
    ..QuerySpec::NONE
};

const ONE: QuerySpec = QuerySpec {
    includes: &["product"],
    fieldsets: &[FieldSet::of::<StockRecords>(), FieldSet::of::<Products>()],
    ..QuerySpec::NONE
};

/// The inventory routes.
pub struct InventoryApi {
    inventory: Arc<Inventory>,
}

impl InventoryApi {
    /// Routes over the inventory use cases.
    pub fn new(inventory: Arc<Inventory>) -> Self {
        Self { inventory }
    }
}

impl Queries for InventoryApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] =
        &[("listInventory", &LIST), ("getInventory", &ONE)];
}

/// A stock record's id from the URL (its product id); 404 when not a UUID.
fn record_id(raw: &str) -> Result<ProductId, ApiError> {
    path_id(raw, "stock record").map(ProductId)
}

#[OpenApi(tag = "ApiTags::Inventory")]
impl InventoryApi {
    /// List stock records
    ///
    /// By product id, paged.
    #[oai(path = "/v1/inventory", method = "get", operation_id = "listInventory")]
    async fn list(
        &self,
        request: &Request,
    ) -> Result<JsonApi<ListDocument<StockRecords>>, ApiError> {
        let query = LIST.parse(request.uri().query())?;
        let page = self.inventory.list.execute(query.page).await?;
        JsonApi::list(page, Vec::<()>::new(), &query)
    }

    /// Create a stock record
    ///
    /// Admins and the API key. The product must exist in the catalog (asked in process
    /// or over HTTP: 503 when it cannot be asked).
    #[oai(
        path = "/v1/inventory",
        method = "post",
        operation_id = "createInventory"
    )]
    async fn create(
        &self,
        manager: CatalogManager,
        body: JsonApiBody<CreateStockRecord>,
    ) -> Result<Created<SingleDocument<StockRecords>>, ApiError> {
        let (product, on_hand) = body.new_record()?;
        let item = self
            .inventory
            .create
            .execute(&manager.0, product, on_hand)
            .await?;
        Created::new(StockRecords::object(item, Fields::ALL))
    }

    /// Read a stock record
    ///
    /// `include=product` adds the product (asked of the catalog).
    #[oai(
        path = "/v1/inventory/:product_id",
        method = "get",
        operation_id = "getInventory"
    )]
    async fn get(
        &self,
        request: &Request,
        /// The product id (UUID).
        product_id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<StockRecords>>, ApiError> {
        let id = record_id(&product_id)?;
        let query = ONE.parse(request.uri().query())?;
        let view = self
            .inventory
            .get
            .execute(id, query.includes("product"))
            .await?;
        let record = StockRecords::object(view.item, query.fields_of::<StockRecords>());
        match view.product {
            Some(product) => JsonApi::compound(
                record,
                vec![Products::object(product, query.fields_of::<Products>())],
            ),
            None => JsonApi::single(record),
        }
    }

    /// Adjust stock
    ///
    /// Admins and the API key. Adds `quantityDelta` to on-hand stock, atomically;
    /// refused with 422 `insufficient_stock` when on-hand would fall below the
    /// reserved quantity.
    #[oai(
        path = "/v1/inventory/:product_id",
        method = "patch",
        operation_id = "adjustInventory"
    )]
    async fn adjust(
        &self,
        manager: CatalogManager,
        /// The product id (UUID).
        product_id: Path<String>,
        body: JsonApiBody<AdjustStock>,
    ) -> Result<JsonApi<SingleDocument<StockRecords>>, ApiError> {
        let id = record_id(&product_id)?;
        let delta = body.delta(id)?;
        let item = self.inventory.adjust.execute(&manager.0, id, delta).await?;
        JsonApi::single(StockRecords::object(item, Fields::ALL))
    }

    /// Delete a stock record
    ///
    /// Admins and the API key (the catalog calls it when it deletes a product).
    /// Refused (409 `stock_reserved`) while units are reserved.
    #[oai(
        path = "/v1/inventory/:product_id",
        method = "delete",
        operation_id = "deleteInventory"
    )]
    async fn delete(
        &self,
        manager: CatalogManager,
        /// The product id (UUID).
        product_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = record_id(&product_id)?;
        self.inventory.delete.execute(&manager.0, id).await?;
        Ok(NoContent)
    }
}

impl JsonApiBody<CreateStockRecord> {
    /// The product to count (the relationship, or `data.id`: when both are sent they
    /// must agree) and its initial on-hand quantity.
    pub fn new_record(&self) -> Result<(ProductId, Quantity), ApiError> {
        let mut document = self.read(None)?;
        let on_hand = document.attribute("onHand", &integer(Quantity::new));
        let product = match (document.to_one("product").flatten(), document.id()) {
            (Some(product), Some(id)) if product != id => {
                return Err(ApiError::from(
                    ErrorObject::new(
                        StatusCode::CONFLICT,
                        "id_mismatch",
                        "Id mismatch",
                        "data.id must equal the product of relationships.product.",
                    )
                    .at_pointer("/data/id"),
                ));
            }
            (Some(product), _) | (None, Some(product)) => Some(product),
            (None, None) => {
                document.push(required_product());
                None
            }
        };
        document.finish(|| Some((ProductId(product?), on_hand?)))
    }
}

/// 422: neither the relationship nor `data.id` names the product.
fn required_product() -> ErrorObject {
    ErrorObject::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
        "Required member missing",
        "relationships.product (or data.id, the product id) is required.",
    )
    .at_pointer("/data/relationships/product")
}

impl JsonApiBody<AdjustStock> {
    /// The change to the stock of `id` (the id of the URL).
    pub fn delta(&self, id: ProductId) -> Result<QuantityDelta, ApiError> {
        let mut document = self.read(Some(id.0))?;
        let delta = document.attribute("quantityDelta", &integer(delta));
        document.finish(|| delta)
    }
}

/// A quantity delta; zero gets its own message.
fn delta(value: i64) -> Result<QuantityDelta, String> {
    QuantityDelta::new(value).map_err(|error| match error {
        StockError::ZeroDelta => "quantityDelta must not be zero.".to_owned(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn create(doc: Value) -> Result<(ProductId, Quantity), ApiError> {
        JsonApiBody::<CreateStockRecord>::from_value(doc).new_record()
    }

    fn adjust(doc: Value, id: Uuid) -> Result<QuantityDelta, ApiError> {
        JsonApiBody::<AdjustStock>::from_value(doc).delta(ProductId(id))
    }

    fn product(id: &str) -> Value {
        json!({"product": {"data": {"type": "products", "id": id}}})
    }

    #[test]
    fn create_reads_the_product_and_quantity() {
        let id = Uuid::from_u128(4);
        let (product_id, on_hand) = create(json!({"data": {"type": "inventory",
            "attributes": {"onHand": 20}, "relationships": product(&id.to_string())}}))
        .unwrap();
        assert_eq!((product_id.0, on_hand.value()), (id, 20));
        let (product_id, _) = create(json!({"data": {"type": "inventory",
            "id": id.to_string(), "attributes": {"onHand": 0}}}))
        .unwrap();
        assert_eq!(product_id.0, id);
    }

    #[test]
    fn create_problems() {
        let nil = Uuid::nil().to_string();
        let cases = [
            (
                json!({"onHand": -1}),
                product(&nil),
                (422, "invalid_value", "/data/attributes/onHand"),
            ),
            (
                json!({"onHand": 1}),
                json!({}),
                (422, "required", "/data/relationships/product"),
            ),
            (
                json!({"onHand": 1, "reserved": 1}),
                product(&nil),
                (403, "read_only_attribute", "/data/attributes/reserved"),
            ),
            (
                json!({"onHand": 1}),
                product("p-1"),
                (400, "invalid_id", "/data/relationships/product/data/id"),
            ),
        ];
        for (attributes, relationships, (status, code, pointer)) in cases {
            let doc = json!({"data": {"type": "inventory", "attributes": attributes,
                "relationships": relationships}});
            assert_eq!(
                create(doc).unwrap_err().summary()[0],
                (status, code, pointer.into())
            );
        }
    }

    #[test]
    fn adjust_reads_the_delta() {
        let id = Uuid::from_u128(8);
        let doc = |attributes: Value| json!({"data": {"type": "inventory", "id": id.to_string(), "attributes": attributes}});
        assert_eq!(
            adjust(doc(json!({"quantityDelta": -5})), id)
                .unwrap()
                .value(),
            -5
        );
        for (attributes, expected) in [
            (json!({"quantityDelta": 1.5}), (400, "invalid_type")),
            (json!({"quantityDelta": "5"}), (400, "invalid_type")),
            (json!({"quantityDelta": 0}), (422, "invalid_value")),
            (json!({}), (422, "required")),
        ] {
            let error = adjust(doc(attributes), id).unwrap_err();
            assert_eq!(
                error.summary()[0],
                (
                    expected.0,
                    expected.1,
                    "/data/attributes/quantityDelta".into()
                )
            );
        }
        let error = adjust(doc(json!({"quantityDelta": 1, "onHand": 3})), id).unwrap_err();
        assert_eq!(
            error.summary()[0],
            (403, "read_only_attribute", "/data/attributes/onHand".into())
        );
        assert_eq!(
            adjust(doc(json!({"quantityDelta": 1})), Uuid::from_u128(9))
                .unwrap_err()
                .status()
                .as_u16(),
            409
        );
    }
}
