//! `/v1/products`: list, create, read, update, delete.

pub mod body;
pub mod resource;

use std::sync::Arc;

use emporium_application::catalog::{
    CreateProductError, DeleteProductError, GetCategoryError, GetProductError, ListProductsError,
    UpdateProductError,
};
use emporium_domain::catalog::{
    Category, CategoryId, ProductId, ProductListQuery, ProductSort, ProductSortField,
};
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use uuid::Uuid;

use self::resource::{
    FIELDS, ProductCreateDocument, ProductDocument, ProductListDocument, ProductResource,
    ProductUpdateDocument, self_link,
};
use super::ApiTags;
use super::categories::resource::{CategoryResource, FIELDS as CATEGORY_FIELDS};
use super::jsonapi::document::Document;
use super::jsonapi::{
    ApiError, Created, ErrorObject, Fields, JsonApi, JsonApiBody, NoContent, ParsedQuery,
    QuerySpec, parse_query,
};
use super::middleware::auth::CatalogManager;
use crate::composition::CatalogService;

/// The longest `filter[q]` accepted.
const MAX_SEARCH_CHARS: usize = 200;

const LIST_QUERY: QuerySpec = QuerySpec {
    paginated: true,
    sort: &["name", "price", "sku", "createdAt", "updatedAt"],
    filters: &["category", "q"],
    includes: &["category"],
    fieldsets: &[("products", FIELDS), ("categories", CATEGORY_FIELDS)],
};

const ONE_QUERY: QuerySpec = QuerySpec {
    paginated: false,
    sort: &[],
    filters: &[],
    includes: &["category"],
    fieldsets: &[("products", FIELDS), ("categories", CATEGORY_FIELDS)],
};

/// A write answers with the product, no query parameters allowed.
const WRITE_QUERY: QuerySpec = QuerySpec {
    paginated: false,
    sort: &[],
    filters: &[],
    includes: &[],
    fieldsets: &[],
};

/// The product routes.
#[derive(Clone)]
pub struct ProductsApi {
    catalog: Arc<CatalogService>,
}

impl ProductsApi {
    /// Routes over the catalog use cases.
    pub fn new(catalog: Arc<CatalogService>) -> Self {
        Self { catalog }
    }
}

/// A product id from the URL; anything that is not a UUID names no product (404).
pub fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    Uuid::parse_str(raw)
        .map(ProductId)
        .map_err(|_| ApiError::not_found("product", raw))
}

#[OpenApi]
impl ProductsApi {
    /// List products
    ///
    /// Paged (`page[number]`, `page[size]` ≤ 100, default 20), sorted (`sort=name`,
    /// `-price`, …; by creation when absent), filtered by `filter[category]` (a
    /// category id) and `filter[q]` (text in name, description or SKU), with sparse
    /// fieldsets and `include=category`.
    #[oai(
        path = "/v1/products",
        method = "get",
        tag = "ApiTags::Products",
        operation_id = "listProducts"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        request: &Request,
        /// Page number, from 1.
        #[oai(name = "page[number]")]
        _page_number: Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(name = "page[size]")]
        _page_size: Query<Option<String>>,
        /// Comma-separated sort keys among name, price, sku, createdAt, updatedAt; `-` for descending.
        #[oai(name = "sort")]
        _sort: Query<Option<String>>,
        /// Only products of this category (id).
        #[oai(name = "filter[category]")]
        _filter_category: Query<Option<String>>,
        /// Only products whose name, description or SKU contains this text.
        #[oai(name = "filter[q]")]
        _filter_q: Query<Option<String>>,
        /// `category` to include the products' categories.
        #[oai(name = "include")]
        _include: Query<Option<String>>,
        /// Product fields to return, comma-separated.
        #[oai(name = "fields[products]")]
        _fields_products: Query<Option<String>>,
        /// Category fields to return for included categories.
        #[oai(name = "fields[categories]")]
        _fields_categories: Query<Option<String>>,
    ) -> Result<JsonApi<ProductListDocument>, ApiError> {
        let query = parse_query(request.uri().query(), &LIST_QUERY)?;
        let list_query = list_query(&query)?;
        let page = self.catalog.list_products.execute(&list_query).await?;
        let categories = if query.includes("category") {
            let mut ids: Vec<CategoryId> =
                page.items.iter().filter_map(|p| p.category_id).collect();
            ids.sort_unstable();
            ids.dedup();
            self.categories(&ids).await?
        } else {
            Vec::new()
        };
        let fields = query.fields("products");
        let category_fields = query.fields("categories");
        let data: Vec<ProductResource<'_>> = page
            .items
            .iter()
            .map(|product| ProductResource::new(product, fields))
            .collect();
        let included: Vec<CategoryResource<'_>> = categories
            .iter()
            .map(|category| CategoryResource::new(category, category_fields))
            .collect();
        let links = query.list_links("/v1/products", &page);
        JsonApi::new(&Document::page(data, included, links, page.total))
    }

    /// Create a product
    ///
    /// Needs the API key. The category is a relationship; `Location` is the new
    /// product's URL.
    #[oai(
        path = "/v1/products",
        method = "post",
        tag = "ApiTags::Products",
        operation_id = "createProduct"
    )]
    async fn create(
        &self,
        manager: CatalogManager,
        request: &Request,
        body: JsonApiBody<ProductCreateDocument>,
    ) -> Result<Created<ProductDocument>, ApiError> {
        parse_query(request.uri().query(), &WRITE_QUERY)?;
        let input = body.try_into_domain()?;
        let product = self
            .catalog
            .create_product
            .execute(&manager.0, input)
            .await?;
        let document = Document::single(ProductResource::new(&product, Fields::ALL));
        Created::new(&document, self_link(&product))
    }

    /// Read a product
    ///
    /// Served from the cache when possible. `include=category` adds the category.
    #[oai(
        path = "/v1/products/:id",
        method = "get",
        tag = "ApiTags::Products",
        operation_id = "getProduct"
    )]
    async fn get(
        &self,
        request: &Request,
        /// The product id (UUID).
        id: Path<String>,
        /// `category` to include the product's category.
        #[oai(name = "include")]
        _include: Query<Option<String>>,
        /// Product fields to return, comma-separated.
        #[oai(name = "fields[products]")]
        _fields_products: Query<Option<String>>,
        /// Category fields to return for the included category.
        #[oai(name = "fields[categories]")]
        _fields_categories: Query<Option<String>>,
    ) -> Result<JsonApi<ProductDocument>, ApiError> {
        let id = product_id(&id)?;
        let query = parse_query(request.uri().query(), &ONE_QUERY)?;
        let product = self.catalog.get_product.execute(id).await?;
        let fields = query.fields("products");
        let category = match product.category_id {
            Some(category_id) if query.includes("category") => self.category(category_id).await?,
            _ => None,
        };
        let resource = ProductResource::new(&product, fields);
        match &category {
            Some(category) => JsonApi::new(&Document::compound(
                resource,
                vec![CategoryResource::new(category, query.fields("categories"))],
            )),
            None => JsonApi::new(&Document::single(resource)),
        }
    }

    /// Update a product
    ///
    /// Needs the API key. Only the attributes given change; `relationships.category`
    /// with `data: null` removes the category.
    #[oai(
        path = "/v1/products/:id",
        method = "patch",
        tag = "ApiTags::Products",
        operation_id = "updateProduct"
    )]
    async fn update(
        &self,
        manager: CatalogManager,
        request: &Request,
        /// The product id (UUID).
        id: Path<String>,
        body: JsonApiBody<ProductUpdateDocument>,
    ) -> Result<JsonApi<ProductDocument>, ApiError> {
        let id = product_id(&id)?;
        parse_query(request.uri().query(), &WRITE_QUERY)?;
        let changes = body.try_into_domain(id)?;
        let product = self
            .catalog
            .update_product
            .execute(&manager.0, id, changes)
            .await?;
        JsonApi::new(&Document::single(ProductResource::new(
            &product,
            Fields::ALL,
        )))
    }

    /// Delete a product
    ///
    /// Needs the API key. Refused (409) while stock of the product is reserved; 503
    /// when inventory cannot be asked.
    #[oai(
        path = "/v1/products/:id",
        method = "delete",
        tag = "ApiTags::Products",
        operation_id = "deleteProduct"
    )]
    async fn delete(
        &self,
        manager: CatalogManager,
        request: &Request,
        /// The product id (UUID).
        id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = product_id(&id)?;
        parse_query(request.uri().query(), &WRITE_QUERY)?;
        self.catalog.delete_product.execute(&manager.0, id).await?;
        Ok(NoContent)
    }
}

impl ProductsApi {
    /// The category `id`, `None` when it no longer exists.
    async fn category(&self, id: CategoryId) -> Result<Option<Category>, ApiError> {
        match self.catalog.get_category.execute(id).await {
            Ok(category) => Ok(Some(category)),
            Err(GetCategoryError::NotFound(_)) => Ok(None),
            Err(GetCategoryError::Unexpected(error)) => {
                Err(ApiError::internal("reading an included category", &error))
            }
        }
    }

    async fn categories(&self, ids: &[CategoryId]) -> Result<Vec<Category>, ApiError> {
        let mut categories = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(category) = self.category(*id).await? {
                categories.push(category);
            }
        }
        Ok(categories)
    }
}

/// The repository query of a list request.
fn list_query(query: &ParsedQuery) -> Result<ProductListQuery, ApiError> {
    let sort = query
        .sort
        .iter()
        .map(|(field, direction)| ProductSort {
            field: match *field {
                "name" => ProductSortField::Name,
                "price" => ProductSortField::Price,
                "sku" => ProductSortField::Sku,
                "updatedAt" => ProductSortField::UpdatedAt,
                _ => ProductSortField::CreatedAt,
            },
            direction: *direction,
        })
        .collect();
    let category = match query.filter("category") {
        None => None,
        Some(raw) => Some(Uuid::parse_str(raw.trim()).map(CategoryId).map_err(|_| {
            ApiError::from(ApiError::bad_parameter(
                "filter[category]",
                format!("{raw:?} is not a category id (a UUID)."),
            ))
        })?),
    };
    let search = match query.filter("q").map(str::trim) {
        None | Some("") => None,
        Some(text) if text.chars().count() > MAX_SEARCH_CHARS => {
            return Err(ApiError::from(ApiError::bad_parameter(
                "filter[q]",
                format!("filter[q] must be at most {MAX_SEARCH_CHARS} characters."),
            )));
        }
        Some(text) => Some(text.to_owned()),
    };
    Ok(ProductListQuery {
        page: query.page,
        sort,
        category,
        search,
    })
}

fn duplicate_sku(sku: &impl std::fmt::Display) -> ApiError {
    ApiError::from(
        ErrorObject::new(
            StatusCode::CONFLICT,
            "duplicate_sku",
            "Duplicate SKU",
            format!("Another product already has SKU {sku}."),
        )
        .at_pointer("/data/attributes/sku"),
    )
}

fn unknown_category(id: CategoryId) -> ApiError {
    ApiError::from(
        ErrorObject::new(
            StatusCode::NOT_FOUND,
            "unknown_category",
            "Related resource not found",
            format!("There is no category with id {id}."),
        )
        .at_pointer("/data/relationships/category"),
    )
}

impl From<ListProductsError> for ApiError {
    fn from(error: ListProductsError) -> Self {
        match error {
            ListProductsError::Unexpected(error) => ApiError::internal("listing products", &error),
        }
    }
}

impl From<GetProductError> for ApiError {
    fn from(error: GetProductError) -> Self {
        match error {
            GetProductError::NotFound(id) => ApiError::not_found("product", id),
            GetProductError::Unexpected(error) => ApiError::internal("reading a product", &error),
        }
    }
}

impl From<CreateProductError> for ApiError {
    fn from(error: CreateProductError) -> Self {
        match error {
            CreateProductError::Denied(denied) => denied.into(),
            CreateProductError::DuplicateSku(sku) => duplicate_sku(&sku),
            CreateProductError::UnknownCategory(id) => unknown_category(id),
            CreateProductError::Unexpected(error) => {
                ApiError::internal("creating a product", &error)
            }
        }
    }
}

impl From<UpdateProductError> for ApiError {
    fn from(error: UpdateProductError) -> Self {
        match error {
            UpdateProductError::Denied(denied) => denied.into(),
            UpdateProductError::NotFound(id) => ApiError::not_found("product", id),
            UpdateProductError::DuplicateSku(sku) => duplicate_sku(&sku),
            UpdateProductError::UnknownCategory(id) => unknown_category(id),
            UpdateProductError::Unexpected(error) => {
                ApiError::internal("updating a product", &error)
            }
        }
    }
}

impl From<DeleteProductError> for ApiError {
    fn from(error: DeleteProductError) -> Self {
        match error {
            DeleteProductError::Denied(denied) => denied.into(),
            DeleteProductError::NotFound(id) => ApiError::not_found("product", id),
            DeleteProductError::StockReserved { reserved } => ApiError::from(ErrorObject::new(
                StatusCode::CONFLICT,
                "stock_reserved",
                "Stock reserved",
                format!(
                    "{reserved} units of this product are reserved for orders; it cannot be deleted."
                ),
            )),
            DeleteProductError::InventoryUnavailable(error) => {
                ApiError::unavailable("inventory service", &error)
            }
            DeleteProductError::Unexpected(error) => {
                ApiError::internal("deleting a product", &error)
            }
        }
    }
}
