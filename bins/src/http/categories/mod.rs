//! `/v1/categories`: list, create, read, rename, delete.

use std::sync::Arc;

use emporium_application::catalog::{Catalog, CategoryChanges, NewCategory};
use emporium_domain::catalog::{Category, CategoryId, CategoryName, Slug};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use uuid::Uuid;

use super::ApiTags;
use super::jsonapi::body::text;
use super::jsonapi::{
    ApiError, ClientId, Created, FieldSet, Fields, JsonApi, JsonApiBody, ListDocument, Member,
    NoContent, QuerySpec, Resource, SingleDocument, Text, Timestamp, Trimmed, Write, path_id,
};
use super::middleware::auth::CatalogManager;
use super::openapi::Queries;

/// The `categories` resource.
pub struct Categories;

/// Attributes of a category.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "CategoryAttributes", rename_all = "camelCase")]
pub struct CategoryAttributes {
    /// Display name: 1-100 characters, not only spaces, no control characters; unique.
    pub name: Text<Trimmed<100>>,
    /// URL key: lower-case letters, digits and single hyphens; unique. Derived from
    /// the name when not given.
    #[oai(validator(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100))]
    pub slug: String,
    /// When it was created.
    #[oai(read_only)]
    pub created_at: Timestamp,
}

impl Resource for Categories {
    type Model = Category;
    type Attributes = CategoryAttributes;
    type Included = ();
    const TYPE: &'static str = "categories";
    const NAME: &'static str = "Category";
    const PATH: Option<&'static str> = Some("/v1/categories");
    const ATTRIBUTES: &'static [&'static str] = &["name", "slug", "createdAt"];

    fn id(category: &Category) -> Uuid {
        category.id.0
    }

    fn attributes(category: Category) -> CategoryAttributes {
        CategoryAttributes {
            name: Text::new(category.name),
            slug: category.slug.into(),
            created_at: category.created_at.into(),
        }
    }
}

/// `POST /v1/categories`.
pub struct CreateCategory;

impl Write for CreateCategory {
    type Resource = Categories;
    const NAME: &'static str = "CategoryCreate";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[Member::required("name"), Member::nullable("slug")];
}

/// `PATCH /v1/categories/{id}`.
pub struct UpdateCategory;

impl Write for UpdateCategory {
    type Resource = Categories;
    const NAME: &'static str = "CategoryUpdate";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[Member::optional("name"), Member::optional("slug")];
}

const LIST: QuerySpec = QuerySpec {
    paginated: true,
    fieldsets: &[FieldSet::of::<Categories>()],
    ..QuerySpec::NONE
};
const ONE: QuerySpec = QuerySpec {
    fieldsets: &[FieldSet::of::<Categories>()],
    ..QuerySpec::NONE
};

/// The category routes.
pub struct CategoriesApi {
    catalog: Arc<Catalog>,
}

impl CategoriesApi {
    /// Routes over the catalog use cases.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }
}

impl Queries for CategoriesApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] =
        &[("listCategories", &LIST), ("getCategory", &ONE)];
}

/// A category id from the URL; anything that is not a UUID names no category (404).
fn category_id(raw: &str) -> Result<CategoryId, ApiError> {
    path_id(raw, "category").map(CategoryId)
}

#[OpenApi(tag = "ApiTags::Categories")]
impl CategoriesApi {
    /// List categories
    ///
    /// By name, paged.
    #[oai(
        path = "/v1/categories",
        method = "get",
        operation_id = "listCategories"
    )]
    async fn list(&self, request: &Request) -> Result<JsonApi<ListDocument<Categories>>, ApiError> {
        let query = LIST.parse(request.uri().query())?;
        let page = self.catalog.list_categories.execute(query.page).await?;
        JsonApi::list(page, Vec::<()>::new(), &query)
    }

    /// Create a category
    ///
    /// Admins and the API key. The slug is derived from the name when absent.
    #[oai(
        path = "/v1/categories",
        method = "post",
        operation_id = "createCategory"
    )]
    async fn create(
        &self,
        manager: CatalogManager,
        body: JsonApiBody<CreateCategory>,
    ) -> Result<Created<SingleDocument<Categories>>, ApiError> {
        let input = body.new_category()?;
        let category = self
            .catalog
            .create_category
            .execute(&manager.0, input)
            .await?;
        Created::new(Categories::object(category, Fields::ALL))
    }

    /// Read a category
    #[oai(
        path = "/v1/categories/:id",
        method = "get",
        operation_id = "getCategory"
    )]
    async fn get(
        &self,
        request: &Request,
        /// The category id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<Categories>>, ApiError> {
        let id = category_id(&id)?;
        let query = ONE.parse(request.uri().query())?;
        let category = self.catalog.get_category.execute(id).await?;
        JsonApi::single(Categories::object(
            category,
            query.fields_of::<Categories>(),
        ))
    }

    /// Rename a category
    ///
    /// Admins and the API key. Only the attributes given change; the slug stays unless
    /// given.
    #[oai(
        path = "/v1/categories/:id",
        method = "patch",
        operation_id = "updateCategory"
    )]
    async fn update(
        &self,
        manager: CatalogManager,
        /// The category id (UUID).
        id: Path<String>,
        body: JsonApiBody<UpdateCategory>,
    ) -> Result<JsonApi<SingleDocument<Categories>>, ApiError> {
        let id = category_id(&id)?;
        let changes = body.changes(id)?;
        let category = self
            .catalog
            .update_category
            .execute(&manager.0, id, changes)
            .await?;
        JsonApi::single(Categories::object(category, Fields::ALL))
    }

    /// Delete a category
    ///
    /// Admins and the API key. Refused (409 `category_in_use`) while products belong
    /// to it.
    #[oai(
        path = "/v1/categories/:id",
        method = "delete",
        operation_id = "deleteCategory"
    )]
    async fn delete(
        &self,
        manager: CatalogManager,
        /// The category id (UUID).
        id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = category_id(&id)?;
        self.catalog.delete_category.execute(&manager.0, id).await?;
        Ok(NoContent)
    }
}

impl JsonApiBody<CreateCategory> {
    /// The category to create.
    pub fn new_category(&self) -> Result<NewCategory, ApiError> {
        let mut document = self.read(None)?;
        let name = document.attribute("name", &text(CategoryName::new));
        let slug = document.nullable("slug", &text(Slug::new)).flatten();
        document.finish(|| Some(NewCategory { name: name?, slug }))
    }
}

impl JsonApiBody<UpdateCategory> {
    /// The changes to category `id` (the id of the URL).
    pub fn changes(&self, id: CategoryId) -> Result<CategoryChanges, ApiError> {
        let mut document = self.read(Some(id.0))?;
        let name = document.attribute("name", &text(CategoryName::new));
        let slug = document.attribute("slug", &text(Slug::new));
        document.finish(|| Some(CategoryChanges { name, slug }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn create(doc: Value) -> Result<NewCategory, ApiError> {
        JsonApiBody::<CreateCategory>::from_value(doc).new_category()
    }

    #[test]
    fn name_and_optional_slug() {
        let category = create(
            json!({"data": {"type": "categories", "attributes": {"name": "Cups", "slug": "cups"}}}),
        )
        .unwrap();
        assert_eq!(category.name.as_str(), "Cups");
        assert_eq!(category.slug.unwrap().as_str(), "cups");
        let no_slug =
            create(json!({"data": {"type": "categories", "attributes": {"name": "Cups"}}}));
        assert!(no_slug.unwrap().slug.is_none());
    }

    #[test]
    fn problems_have_pointers() {
        let error = create(
            json!({"data": {"type": "categories", "attributes": {"name": "", "slug": "Bad Slug"}}}),
        )
        .unwrap_err();
        assert_eq!(error.status().as_u16(), 422);
        assert_eq!(error.errors().len(), 2);
        let error = create(json!({"data": {"type": "categories", "attributes": {}}})).unwrap_err();
        assert_eq!(error.errors()[0].code, "required");
        let error =
            create(json!({"data": {"type": "products", "attributes": {"name": "x"}}})).unwrap_err();
        assert_eq!(error.status().as_u16(), 409);
    }

    #[test]
    fn a_rename_names_the_category_of_the_url() {
        let id = Uuid::from_u128(7);
        let changes =
            JsonApiBody::<UpdateCategory>::from_value(json!({"data": {"type": "categories",
            "id": id.to_string(), "attributes": {"name": "Mugs"}}}))
            .changes(CategoryId(id))
            .unwrap();
        assert_eq!(changes.name.unwrap().as_str(), "Mugs");
        assert!(changes.slug.is_none());
        let read_only =
            JsonApiBody::<UpdateCategory>::from_value(json!({"data": {"type": "categories",
            "id": id.to_string(), "attributes": {"createdAt": "x"}}}));
        assert_eq!(
            read_only.changes(CategoryId(id)).unwrap_err().summary(),
            [(
                403,
                "read_only_attribute",
                "/data/attributes/createdAt".into()
            )]
        );
    }
}
