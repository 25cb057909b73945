//! `/v1/products`: list, create, read, update, delete.

use std::sync::Arc;

use emporium_application::catalog::Catalog;
use emporium_domain::catalog::{
    CategoryId, Description, ImageUrl, NewProduct, Price, Product, ProductChanges, ProductId,
    ProductListQuery, ProductName, ProductSort, ProductSortField, SearchText, Sku,
};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use uuid::Uuid;

use super::ApiTags;
use super::categories::Categories;
use super::jsonapi::body::{boolean, list, text};
use super::jsonapi::resource::uuid_schema;
use super::jsonapi::text::{blank_or_trimmed_pattern, image_urls_schema};
use super::jsonapi::values::{amount, amount_schema};
use super::jsonapi::{
    Amount, ApiError, ClientId, Created, FieldSet, Fields, Filter, JsonApi, JsonApiBody, Linkage,
    ListDocument, Member, NoContent, ParsedQuery, QuerySpec, Relationship, Resource,
    SingleDocument, SkuRule, Text, Timestamp, Trimmed, Write, path_id,
};
use super::middleware::auth::CatalogManager;
use super::openapi::Queries;

/// The `products` resource.
pub struct Products;

/// Attributes of a product.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "ProductAttributes", rename_all = "camelCase")]
pub struct ProductAttributes {
    /// Display name: 1-255 characters, not only spaces, no control characters.
    pub name: Text<Trimmed<255>>,
    /// Free text, up to 10,000 characters, without NUL characters.
    #[oai(validator(max_length = 10000, pattern = "^[^\\u0000]*$"))]
    pub description: String,
    /// Greater than 0, at most two decimal places, as a string (`"12.50"`); a JSON
    /// number is accepted too.
    pub price: Amount,
    /// Stock-keeping unit, unique: 1-64 letters, digits, `-`, `_` and `.`.
    pub sku: Text<SkuRule>,
    /// Absolute http(s) image URLs, in display order.
    pub images: Vec<String>,
    /// Offered for sale (default `true`).
    pub active: bool,
    /// When it was created.
    #[oai(read_only)]
    pub created_at: Timestamp,
    /// When it last changed.
    #[oai(read_only)]
    pub updated_at: Timestamp,
}

impl Resource for Products {
    type Model = Product;
    type Attributes = ProductAttributes;
    type Included = Categories;
    const TYPE: &'static str = "products";
    const NAME: &'static str = "Product";
    const PATH: Option<&'static str> = Some("/v1/products");
    const ATTRIBUTES: &'static [&'static str] = &[
        "name",
        "description",
        "price",
        "sku",
        "images",
        "active",
        "createdAt",
        "updatedAt",
    ];
    const RELATIONSHIPS: &'static [Relationship] =
        &[Relationship::optional("category", Categories::TYPE)];

    fn id(product: &Product) -> Uuid {
        product.id.0
    }

    fn linkage(product: &Product) -> Vec<Linkage> {
        vec![Linkage::One(product.category_id.map(|id| id.0))]
    }

    fn attributes(product: Product) -> ProductAttributes {
        ProductAttributes {
            name: Text::new(product.name),
            description: product.description.into(),
            price: Amount(product.price.amount()),
            sku: Text::new(product.sku),
            images: product.images.into_iter().map(String::from).collect(),
            active: product.active,
            created_at: product.created_at.into(),
            updated_at: product.updated_at.into(),
        }
    }
}

/// `POST /v1/products`.
pub struct CreateProduct;

impl Write for CreateProduct {
    type Resource = Products;
    const NAME: &'static str = "ProductCreate";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[
        Member::required("name"),
        Member::nullable("description"),
        Member::required("price").with_schema(amount_schema),
        Member::required("sku"),
        Member::optional("images").with_schema(image_urls_schema),
        Member::optional("active"),
    ];
    const RELATIONSHIPS: &'static [Member] = &[Member::optional("category")];
}

/// `PATCH /v1/products/{id}`.
pub struct UpdateProduct;

impl Write for UpdateProduct {
    type Resource = Products;
    const NAME: &'static str = "ProductUpdate";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[
        Member::optional("name"),
        Member::nullable("description"),
        Member::optional("price").with_schema(amount_schema),
        Member::optional("sku"),
        Member::optional("images").with_schema(image_urls_schema),
        Member::optional("active"),
    ];
    const RELATIONSHIPS: &'static [Member] = &[Member::optional("category")];
}

/// The fields a product document may show.
const FIELDSETS: &[FieldSet] = &[FieldSet::of::<Products>(), FieldSet::of::<Categories>()];

const LIST: QuerySpec = QuerySpec {
    paginated: true,
    sort: &["name", "price", "sku", "createdAt", "updatedAt"],
    filters: &[
        Filter {
            name: "category",
            description: "Only products of this category (its id).",
            schema: uuid_schema,
        },
        Filter {
            name: "q",
            description: "Only products whose name, description or SKU contains this text.",
            schema: search_schema,
        },
    ],
    includes: &["category"],
    fieldsets: FIELDSETS,
};

/// The tag of the plain product document as this build renders it, kept with the
/// cached rendering (see `GetProduct::rendered`): change it whenever the `products`
/// resource's JSON changes, so a cache shared with servers of another version never
/// answers their rendering.
const RENDERED_SHAPE: &str = "products/1";

const ONE: QuerySpec = QuerySpec {
    includes: &["category"],
    fieldsets: FIELDSETS,
    ..QuerySpec::NONE
};

fn search_schema() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        pattern: Some(blank_or_trimmed_pattern(SearchText::MAX_CHARS)),
        ..MetaSchema::new("string")
    }))
}

/// The product routes.
pub struct ProductsApi {
    catalog: Arc<Catalog>,
}

impl ProductsApi {
    /// Routes over the catalog use cases.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }
}

impl Queries for ProductsApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] =
        &[("listProducts", &LIST), ("getProduct", &ONE)];
}

/// A product id from the URL; anything that is not a UUID names no product (404).
fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    path_id(raw, "product").map(ProductId)
}

#[OpenApi(tag = "ApiTags::Products")]
impl ProductsApi {
    /// List products
    ///
    /// Paged, sorted (by creation when no `sort`), filtered by category and text, with
    /// sparse fieldsets and `include=category`.
    #[oai(path = "/v1/products", method = "get", operation_id = "listProducts")]
    async fn list(&self, request: &Request) -> Result<JsonApi<ListDocument<Products>>, ApiError> {
        let query = LIST.parse(request.uri().query())?;
        let list = self
            .catalog
            .list_products
            .execute(&list_query(&query)?, query.includes("category"))
            .await?;
        let fields = query.fields_of::<Categories>();
        let included: Vec<_> = list
            .categories
            .into_iter()
            .map(|category| Categories::object(category, fields))
            .collect();
        JsonApi::list(list.page, included, &query)
    }

    /// Create a product
    ///
    /// Admins and the API key. `Location` is the new product's URL.
    #[oai(path = "/v1/products", method = "post", operation_id = "createProduct")]
    async fn create(
        &self,
        manager: CatalogManager,
        body: JsonApiBody<CreateProduct>,
    ) -> Result<Created<SingleDocument<Products>>, ApiError> {
        let input = body.new_product()?;
        let product = self
            .catalog
            .create_product
            .execute(&manager.0, input)
            .await?;
        Created::new(Products::object(product, Fields::ALL))
    }

    /// Read a product
    ///
    /// Served from the cache when possible. `include=category` adds the category.
    #[oai(path = "/v1/products/:id", method = "get", operation_id = "getProduct")]
    async fn get(
        &self,
        request: &Request,
        /// The product id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<Products>>, ApiError> {
        let id = product_id(&id)?;
        let query = ONE.parse(request.uri().query())?;
        if query.is_plain() {
            let body = self
                .catalog
                .get_product
                .rendered(id, RENDERED_SHAPE, |product| {
                    JsonApi::<SingleDocument<Products>>::render(Products::object(
                        product,
                        Fields::ALL,
                    ))
                })
                .await?;
            return Ok(JsonApi::rendered(body));
        }
        let view = self
            .catalog
            .get_product
            .execute(id, query.includes("category"))
            .await?;
        let product = Products::object(view.product, query.fields_of::<Products>());
        match view.category {
            Some(category) => JsonApi::compound(
                product,
                vec![Categories::object(
                    category,
                    query.fields_of::<Categories>(),
                )],
            ),
            None => JsonApi::single(product),
        }
    }

    /// Update a product
    ///
    /// Admins and the API key. Only the members given change; `relationships.category`
    /// with `data: null` removes the category.
    #[oai(
        path = "/v1/products/:id",
        method = "patch",
        operation_id = "updateProduct"
    )]
    async fn update(
        &self,
        manager: CatalogManager,
        /// The product id (UUID).
        id: Path<String>,
        body: JsonApiBody<UpdateProduct>,
    ) -> Result<JsonApi<SingleDocument<Products>>, ApiError> {
        let id = product_id(&id)?;
        let changes = body.changes(id)?;
        let product = self
            .catalog
            .update_product
            .execute(&manager.0, id, changes)
            .await?;
        JsonApi::single(Products::object(product, Fields::ALL))
    }

    /// Delete a product
    ///
    /// Admins and the API key. Its stock record goes with it. Refused (409) while
    /// stock of the product is reserved; 503 when inventory cannot be asked.
    #[oai(
        path = "/v1/products/:id",
        method = "delete",
        operation_id = "deleteProduct"
    )]
    async fn delete(
        &self,
        manager: CatalogManager,
        /// The product id (UUID).
        id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let id = product_id(&id)?;
        self.catalog.delete_product.execute(&manager.0, id).await?;
        Ok(NoContent)
    }
}

impl JsonApiBody<CreateProduct> {
    /// The product to create.
    pub fn new_product(&self) -> Result<NewProduct, ApiError> {
        let mut document = self.read(None)?;
        let name = document.attribute("name", &text(ProductName::new));
        let description = document.nullable("description", &text(Description::new));
        let price = document.attribute("price", &amount(Price::parse));
        let sku = document.attribute("sku", &text(Sku::new));
        let images = document.attribute("images", &list(text(ImageUrl::new)));
        let active = document.attribute("active", &boolean);
        let category = document.to_one("category").flatten().map(CategoryId);
        document.finish(|| {
            Some(NewProduct {
                name: name?,
                description: description.flatten().unwrap_or_default(),
                price: price?,
                sku: sku?,
                images: images.unwrap_or_default(),
                active: active.unwrap_or(true),
                category_id: category,
            })
        })
    }
}

impl JsonApiBody<UpdateProduct> {
    /// The changes to product `id` (the id of the URL).
    pub fn changes(&self, id: ProductId) -> Result<ProductChanges, ApiError> {
        let mut document = self.read(Some(id.0))?;
        let changes = ProductChanges {
            name: document.attribute("name", &text(ProductName::new)),
            description: document
                .nullable("description", &text(Description::new))
                .map(Option::unwrap_or_default),
            price: document.attribute("price", &amount(Price::parse)),
            sku: document.attribute("sku", &text(Sku::new)),
            images: document.attribute("images", &list(text(ImageUrl::new))),
            active: document.attribute("active", &boolean),
            category_id: document
                .to_one("category")
                .map(|category| category.map(CategoryId)),
        };
        document.finish(|| Some(changes))
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
    let search = match query.filter("q") {
        Some(text) if !text.trim().is_empty() => Some(SearchText::new(text).map_err(|error| {
            ApiError::from(ApiError::bad_parameter(
                "filter[q]",
                format!("filter[q]: {error}."),
            ))
        })?),
        _ => None,
    };
    Ok(ProductListQuery {
        page: query.page,
        sort,
        category,
        search,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn create(doc: Value) -> Result<NewProduct, ApiError> {
        JsonApiBody::<CreateProduct>::from_value(doc).new_product()
    }

    fn update(doc: Value, id: Uuid) -> Result<ProductChanges, ApiError> {
        JsonApiBody::<UpdateProduct>::from_value(doc).changes(ProductId(id))
    }

    /// The cached rendering of a product is tagged with [`RENDERED_SHAPE`]: when this
    /// document changes, change the tag too (then update the document here), so a
    /// cache shared with servers of the old version is never answered from.
    #[test]
    fn the_plain_product_document_is_the_shape_its_tag_names() {
        use chrono::TimeZone;
        let mut doc = valid_doc();
        doc["data"]["relationships"] = json!({"category": {"data":
            {"type": "categories", "id": Uuid::from_u128(3).to_string()}}});
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
            .unwrap();
        let product = create(doc)
            .unwrap()
            .into_product(ProductId(Uuid::from_u128(7)), at);
        let rendered =
            JsonApi::<SingleDocument<Products>>::render(Products::object(product, Fields::ALL))
                .unwrap();
        assert_eq!(RENDERED_SHAPE, "products/1");
        assert_eq!(
            String::from_utf8(rendered).unwrap(),
            concat!(
                r#"{"data":{"type":"products","id":"00000000-0000-0000-0000-000000000007","#,
                r#""attributes":{"name":"Espresso cup","description":"90 ml","price":"12.50","#,
                r#""sku":"CUP-090","images":["https://img.example/cup.jpg"],"active":true,"#,
                r#""createdAt":"2026-11-30T12:00:00.000000Z","updatedAt":"2026-11-30T12:00:00.000000Z"},"#,
                r#""relationships":{"category":{"data":{"type":"categories","#,
                r#""id":"00000000-0000-0000-0000-000000000003"}}},"#,
                r#""links":{"self":"/v1/products/00000000-0000-0000-0000-000000000007"}}}"#
            )
        );
    }

    fn valid_doc() -> Value {
        json!({"data": {"type": "products", "attributes": {
            "name": "Espresso cup", "description": "90 ml", "price": "12.50", "sku": "CUP-090",
            "images": ["https://img.example/cup.jpg"], "active": true}}})
    }

    #[test]
    fn accepts_a_valid_product_and_applies_defaults() {
        let category = Uuid::from_u128(3);
        let mut doc = valid_doc();
        doc["data"]["relationships"] =
            json!({"category": {"data": {"type": "categories", "id": category.to_string()}}});
        let product = create(doc).unwrap();
        assert_eq!(product.name.as_str(), "Espresso cup");
        assert_eq!(product.price.to_string(), "12.50");
        assert_eq!(product.category_id, Some(CategoryId(category)));
        assert_eq!(product.images.len(), 1);
        let product = create(json!({"data": {"type": "products", "attributes": {
            "name": "Cup", "price": 7.5, "sku": "C1"}}}))
        .unwrap();
        assert_eq!(product.price.to_string(), "7.50");
        assert!(product.active);
        assert!(product.description.as_str().is_empty());
    }

    #[test]
    fn reports_every_bad_member_with_its_pointer() {
        let error = create(json!({"data": {"type": "products", "attributes": {
            "name": "  ", "price": "-1", "sku": "C 1", "colour": "red", "createdAt": "x",
            "images": ["ftp://x", 3]}}}))
        .unwrap_err();
        let found = error.summary();
        for expected in [
            (422, "invalid_value", "/data/attributes/name"),
            (422, "invalid_value", "/data/attributes/price"),
            (422, "invalid_value", "/data/attributes/sku"),
            (400, "unknown_attribute", "/data/attributes/colour"),
            (403, "read_only_attribute", "/data/attributes/createdAt"),
            (422, "invalid_value", "/data/attributes/images/0"),
            (400, "invalid_type", "/data/attributes/images/1"),
        ] {
            assert!(
                found.contains(&(expected.0, expected.1, expected.2.into())),
                "{found:?}"
            );
        }
        assert_eq!(error.status().as_u16(), 400);
        let mut doc = valid_doc();
        doc["data"]["attributes"]["price"] = json!("12.505");
        let error = create(doc).unwrap_err();
        assert_eq!(
            error.summary(),
            [(422, "invalid_value", "/data/attributes/price".into())]
        );
        let error = create(json!({"data": {"type": "products", "attributes": {"name": "Cup"}}}))
            .unwrap_err();
        assert_eq!(
            error.summary(),
            [
                (422, "required", "/data/attributes/price".into()),
                (422, "required", "/data/attributes/sku".into())
            ]
        );
    }

    #[test]
    fn foreign_keys_are_relationships_and_ids_are_the_servers() {
        let mut doc = valid_doc();
        doc["data"]["attributes"]["categoryId"] = json!(Uuid::nil().to_string());
        let error = create(doc).unwrap_err();
        assert_eq!(
            error.summary(),
            [(
                400,
                "unknown_attribute",
                "/data/attributes/categoryId".into()
            )]
        );
        assert!(error.errors()[0].detail.contains("relationships.category"));
        let mut doc = valid_doc();
        doc["data"]["relationships"] =
            json!({"category": {"data": {"type": "categories", "id": "nope"}}});
        assert_eq!(
            create(doc).unwrap_err().summary(),
            [(
                400,
                "invalid_id",
                "/data/relationships/category/data/id".into()
            )]
        );
        let mut doc = valid_doc();
        doc["data"]["id"] = json!(Uuid::nil().to_string());
        assert_eq!(create(doc).unwrap_err().status().as_u16(), 403);
    }

    #[test]
    fn updates_take_only_given_members_of_the_url_id() {
        let id = Uuid::from_u128(1);
        let changes = update(
            json!({"data": {"type": "products", "id": id.to_string(),
                   "attributes": {"price": "9.99"},
                   "relationships": {"category": {"data": null}}}}),
            id,
        )
        .unwrap();
        assert_eq!(changes.price.unwrap().to_string(), "9.99");
        assert_eq!(changes.category_id, Some(None));
        assert!(changes.name.is_none());
        let other = json!({"data": {"type": "products", "id": Uuid::from_u128(2).to_string(), "attributes": {}}});
        assert_eq!(
            update(other, id).unwrap_err().summary(),
            [(409, "id_mismatch", "/data/id".into())]
        );
        let read_only = json!({"data": {"type": "products", "id": id.to_string(), "attributes": {"updatedAt": "x"}}});
        assert_eq!(
            update(read_only, id).unwrap_err().summary(),
            [(
                403,
                "read_only_attribute",
                "/data/attributes/updatedAt".into()
            )]
        );
    }
}
