//! `/v1/categories`: list, create, read.

pub mod body;
pub mod resource;

use std::sync::Arc;

use emporium_application::catalog::{CreateCategoryError, GetCategoryError, ListCategoriesError};
use emporium_domain::catalog::CategoryId;
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use uuid::Uuid;

use self::resource::{
    CategoryCreateDocument, CategoryDocument, CategoryListDocument, CategoryResource, FIELDS,
    self_link,
};
use super::ApiTags;
use super::jsonapi::document::Document;
use super::jsonapi::{
    ApiError, Created, ErrorObject, Fields, JsonApi, JsonApiBody, QuerySpec, parse_query,
};
use super::middleware::auth::CatalogManager;
use crate::composition::CatalogService;

const LIST_QUERY: QuerySpec = QuerySpec {
    paginated: true,
    sort: &[],
    filters: &[],
    includes: &[],
    fieldsets: &[("categories", FIELDS)],
};

const ONE_QUERY: QuerySpec = QuerySpec {
    paginated: false,
    sort: &[],
    filters: &[],
    includes: &[],
    fieldsets: &[("categories", FIELDS)],
};

const WRITE_QUERY: QuerySpec = QuerySpec {
    paginated: false,
    sort: &[],
    filters: &[],
    includes: &[],
    fieldsets: &[],
};

/// The category routes.
#[derive(Clone)]
pub struct CategoriesApi {
    catalog: Arc<CatalogService>,
}

impl CategoriesApi {
    /// Routes over the catalog use cases.
    pub fn new(catalog: Arc<CatalogService>) -> Self {
        Self { catalog }
    }
}

#[OpenApi]
impl CategoriesApi {
    /// List categories
    ///
    /// By name, paged (`page[number]`, `page[size]` ≤ 100, default 20).
    #[oai(
        path = "/v1/categories",
        method = "get",
        tag = "ApiTags::Categories",
        operation_id = "listCategories"
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
        /// Category fields to return, comma-separated.
        #[oai(name = "fields[categories]")]
        _fields: Query<Option<String>>,
    ) -> Result<JsonApi<CategoryListDocument>, ApiError> {
        let query = parse_query(request.uri().query(), &LIST_QUERY)?;
        let page = self.catalog.list_categories.execute(query.page).await?;
        let fields = query.fields("categories");
        let data: Vec<CategoryResource<'_>> = page
            .items
            .iter()
            .map(|category| CategoryResource::new(category, fields))
            .collect();
        let links = query.list_links("/v1/categories", &page);
        JsonApi::new(&Document::<_, ()>::page(
            data,
            Vec::new(),
            links,
            page.total,
        ))
    }

    /// Create a category
    ///
    /// Needs the API key. The slug is derived from the name when absent.
    #[oai(
        path = "/v1/categories",
        method = "post",
        tag = "ApiTags::Categories",
        operation_id = "createCategory"
    )]
    async fn create(
        &self,
        manager: CatalogManager,
        request: &Request,
        body: JsonApiBody<CategoryCreateDocument>,
    ) -> Result<Created<CategoryDocument>, ApiError> {
        parse_query(request.uri().query(), &WRITE_QUERY)?;
        let input = body.try_into_domain()?;
        let category = self
            .catalog
            .create_category
            .execute(&manager.0, input)
            .await?;
        let document = Document::single(CategoryResource::new(&category, Fields::ALL));
        Created::new(&document, self_link(&category))
    }

    /// Read a category
    #[oai(
        path = "/v1/categories/:id",
        method = "get",
        tag = "ApiTags::Categories",
        operation_id = "getCategory"
    )]
    async fn get(
        &self,
        request: &Request,
        /// The category id (UUID).
        id: Path<String>,
        /// Category fields to return, comma-separated.
        #[oai(name = "fields[categories]")]
        _fields: Query<Option<String>>,
    ) -> Result<JsonApi<CategoryDocument>, ApiError> {
        let id = Uuid::parse_str(&id)
            .map(CategoryId)
            .map_err(|_| ApiError::not_found("category", &*id))?;
        let query = parse_query(request.uri().query(), &ONE_QUERY)?;
        let category = self.catalog.get_category.execute(id).await?;
        JsonApi::new(&Document::single(CategoryResource::new(
            &category,
            query.fields("categories"),
        )))
    }
}

impl From<ListCategoriesError> for ApiError {
    fn from(error: ListCategoriesError) -> Self {
        match error {
            ListCategoriesError::Unexpected(error) => {
                ApiError::internal("listing categories", &error)
            }
        }
    }
}

impl From<GetCategoryError> for ApiError {
    fn from(error: GetCategoryError) -> Self {
        match error {
            GetCategoryError::NotFound(id) => ApiError::not_found("category", id),
            GetCategoryError::Unexpected(error) => ApiError::internal("reading a category", &error),
        }
    }
}

impl From<CreateCategoryError> for ApiError {
    fn from(error: CreateCategoryError) -> Self {
        let conflict = |code, detail: String, member: &str| {
            ApiError::from(
                ErrorObject::new(StatusCode::CONFLICT, code, "Conflict", detail)
                    .at_pointer(format!("/data/attributes/{member}")),
            )
        };
        match error {
            CreateCategoryError::Denied(denied) => denied.into(),
            CreateCategoryError::DuplicateName(name) => conflict(
                "duplicate_name",
                format!("A category named \"{name}\" already exists."),
                "name",
            ),
            CreateCategoryError::DuplicateSlug(slug) => conflict(
                "duplicate_slug",
                format!("A category with slug \"{slug}\" already exists."),
                "slug",
            ),
            CreateCategoryError::SlugRequired => ApiError::from(
                ErrorObject::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "slug_required",
                    "Slug required",
                    "No slug can be derived from this name; give one.",
                )
                .at_pointer("/data/attributes/slug"),
            ),
            CreateCategoryError::Unexpected(error) => {
                ApiError::internal("creating a category", &error)
            }
        }
    }
}
