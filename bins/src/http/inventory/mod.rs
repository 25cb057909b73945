//! `/v1/inventory`: list, create, read (with `include=product`), adjust.

pub mod body;
pub mod resource;

use std::sync::Arc;

use emporium_application::inventory::{
    AdjustInventoryError, CreateInventoryError, GetInventoryError, ListInventoryError,
};
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};

use self::resource::{
    FIELDS, InventoryAdjustDocument, InventoryCreateDocument, InventoryDocument,
    InventoryListDocument, InventoryResource, self_link,
};
use super::ApiTags;
use super::jsonapi::document::Document;
use super::jsonapi::{
    ApiError, Created, ErrorObject, Fields, JsonApi, JsonApiBody, QuerySpec, parse_query,
};
use super::middleware::auth::CatalogManager;
use super::products::product_id;
use super::products::resource::{FIELDS as PRODUCT_FIELDS, ProductResource};
use crate::composition::InventoryService;

const LIST_QUERY: QuerySpec = QuerySpec {
    paginated: true,
    sort: &[],
    filters: &[],
    includes: &[],
    fieldsets: &[("inventory", FIELDS)],
};

const ONE_QUERY: QuerySpec = QuerySpec {
    paginated: false,
    sort: &[],
    filters: &[],
    includes: &["product"],
    fieldsets: &[("inventory", FIELDS), ("products", PRODUCT_FIELDS)],
};

const WRITE_QUERY: QuerySpec = QuerySpec {
    paginated: false,
    sort: &[],
    filters: &[],
    includes: &[],
    fieldsets: &[],
};

/// The inventory routes.
#[derive(Clone)]
pub struct InventoryApi {
    inventory: Arc<InventoryService>,
}

impl InventoryApi {
    /// Routes over the inventory use cases.
    pub fn new(inventory: Arc<InventoryService>) -> Self {
        Self { inventory }
    }
}

/// A stock record's id from the URL (its product id); 404 when not a UUID.
fn record_id(raw: &str) -> Result<emporium_domain::catalog::ProductId, ApiError> {
    product_id(raw).map_err(|_| ApiError::not_found("stock record", raw))
}

#[OpenApi]
impl InventoryApi {
    /// List stock records
    ///
    /// By product id, paged (`page[number]`, `page[size]` ≤ 100, default 20).
    #[oai(
        path = "/v1/inventory",
        method = "get",
        tag = "ApiTags::Inventory",
        operation_id = "listInventory"
    )]
    async fn list(
        &self,
        request: &Request,
        /// Page number, from 1.
        #[oai(name = "page[number]")]
        _page_number: Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(name = "page[size]")]
        _page_size: Query<Option<String>>,
        /// Inventory fields to return, comma-separated.
        #[oai(name = "fields[inventory]")]
        _fields: Query<Option<String>>,
    ) -> Result<JsonApi<InventoryListDocument>, ApiError> {
        let query = parse_query(request.uri().query(), &LIST_QUERY)?;
        let page = self.inventory.list.execute(query.page).await?;
        let fields = query.fields("inventory");
        let data: Vec<InventoryResource<'_>> = page
            .items
            .iter()
            .map(|item| InventoryResource::new(item, fields))
            .collect();
        let links = query.list_links("/v1/inventory", &page);
        JsonApi::new(&Document::<_, ()>::page(
            data,
            Vec::new(),
            links,
            page.total,
        ))
    }

    /// Create a stock record
    ///
    /// Needs the API key. The product must exist in the catalog (asked in process or
    /// over HTTP: 503 when it cannot be asked). The record's id is the product id.
    #[oai(
        path = "/v1/inventory",
        method = "post",
        tag = "ApiTags::Inventory",
        operation_id = "createInventory"
    )]
    async fn create(
        &self,
        manager: CatalogManager,
        request: &Request,
        body: JsonApiBody<InventoryCreateDocument>,
    ) -> Result<Created<InventoryDocument>, ApiError> {
        parse_query(request.uri().query(), &WRITE_QUERY)?;
        let (product_id, on_hand) = body.try_into_domain()?;
        let item = self
            .inventory
            .create
            .execute(&manager.0, product_id, on_hand)
            .await?;
        let document = Document::single(InventoryResource::new(&item, Fields::ALL));
        Created::new(&document, self_link(&item))
    }

    /// Read a stock record
    ///
    /// `include=product` adds the product (asked of the catalog).
    #[oai(
        path = "/v1/inventory/:product_id",
        method = "get",
        tag = "ApiTags::Inventory",
        operation_id = "getInventory"
    )]
    async fn get(
        &self,
        request: &Request,
        /// The product id (UUID).
        product_id: Path<String>,
        /// `product` to include the product.
        #[oai(name = "include")]
        _include: Query<Option<String>>,
        /// Inventory fields to return, comma-separated.
        #[oai(name = "fields[inventory]")]
        _fields_inventory: Query<Option<String>>,
        /// Product fields to return for the included product.
        #[oai(name = "fields[products]")]
        _fields_products: Query<Option<String>>,
    ) -> Result<JsonApi<InventoryDocument>, ApiError> {
        let id = record_id(&product_id)?;
        let query = parse_query(request.uri().query(), &ONE_QUERY)?;
        let view = self
            .inventory
            .get
            .execute(id, query.includes("product"))
            .await?;
        let resource = InventoryResource::new(&view.item, query.fields("inventory"));
        match &view.product {
            Some(product) => JsonApi::new(&Document::compound(
                resource,
                vec![ProductResource::new(product, query.fields("products"))],
            )),
            None => JsonApi::new(&Document::single(resource)),
        }
    }

    /// Adjust stock
    ///
    /// Needs the API key. Adds `quantityDelta` (non-zero integer) to on-hand stock,
    /// atomically; refused with 422 `insufficient_stock` when on-hand would fall below
    /// the reserved quantity.
    #[oai(
        path = "/v1/inventory/:product_id",
        method = "patch",
        tag = "ApiTags::Inventory",
        operation_id = "adjustInventory"
    )]
    async fn adjust(
        &self,
        manager: CatalogManager,
        request: &Request,
        /// The product id (UUID).
        product_id: Path<String>,
        body: JsonApiBody<InventoryAdjustDocument>,
    ) -> Result<JsonApi<InventoryDocument>, ApiError> {
        let id = record_id(&product_id)?;
        parse_query(request.uri().query(), &WRITE_QUERY)?;
        let delta = body.try_into_domain(id)?;
        let item = self.inventory.adjust.execute(&manager.0, id, delta).await?;
        JsonApi::new(&Document::single(InventoryResource::new(
            &item,
            Fields::ALL,
        )))
    }
}

impl From<ListInventoryError> for ApiError {
    fn from(error: ListInventoryError) -> Self {
        match error {
            ListInventoryError::Unexpected(error) => {
                ApiError::internal("listing stock records", &error)
            }
        }
    }
}

impl From<GetInventoryError> for ApiError {
    fn from(error: GetInventoryError) -> Self {
        match error {
            GetInventoryError::NotFound(id) => ApiError::not_found("stock record", id),
            GetInventoryError::CatalogUnavailable(error) => {
                ApiError::unavailable("product catalog", &error)
            }
            GetInventoryError::Unexpected(error) => {
                ApiError::internal("reading a stock record", &error)
            }
        }
    }
}

impl From<CreateInventoryError> for ApiError {
    fn from(error: CreateInventoryError) -> Self {
        match error {
            CreateInventoryError::Denied(denied) => denied.into(),
            CreateInventoryError::ProductNotFound(id) => ApiError::from(
                ErrorObject::new(
                    StatusCode::NOT_FOUND,
                    "unknown_product",
                    "Related resource not found",
                    format!("There is no product with id {id}."),
                )
                .at_pointer("/data/relationships/product"),
            ),
            CreateInventoryError::AlreadyExists(id) => ApiError::from(
                ErrorObject::new(
                    StatusCode::CONFLICT,
                    "already_exists",
                    "Stock record exists",
                    format!("Product {id} already has a stock record; adjust it with PATCH /v1/inventory/{id}."),
                )
                .at_pointer("/data/relationships/product"),
            ),
            CreateInventoryError::CatalogUnavailable(error) => {
                ApiError::unavailable("product catalog", &error)
            }
            CreateInventoryError::Unexpected(error) => {
                ApiError::internal("creating a stock record", &error)
            }
        }
    }
}

impl From<AdjustInventoryError> for ApiError {
    fn from(error: AdjustInventoryError) -> Self {
        let at_delta =
            |error: ErrorObject| ApiError::from(error.at_pointer("/data/attributes/quantityDelta"));
        match error {
            AdjustInventoryError::Denied(denied) => denied.into(),
            AdjustInventoryError::NotFound(id) => ApiError::not_found("stock record", id),
            AdjustInventoryError::InsufficientStock { available } => at_delta(ErrorObject::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "insufficient_stock",
                "Insufficient stock",
                format!(
                    "Only {available} units are available; on-hand stock cannot fall below the reserved quantity."
                ),
            )),
            AdjustInventoryError::Overflow => at_delta(ErrorObject::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "stock_overflow",
                "Stock overflow",
                format!(
                    "On-hand stock would exceed {}.",
                    emporium_domain::inventory::Quantity::MAX
                ),
            )),
            AdjustInventoryError::Unexpected(error) => {
                ApiError::internal("adjusting stock", &error)
            }
        }
    }
}
