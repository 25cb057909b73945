//! The catalog lookup over HTTP: `GET /v1/products/{id}`.

use anyhow::{Context, bail};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::catalog::{
    CatalogError, CategoryId, Description, ImageUrl, Price, Product, ProductCatalog, ProductId,
    ProductName, Sku,
};
use serde::Deserialize;
use uuid::Uuid;

use super::HttpClientConfig;
use super::client::{ServiceClient, check_identity, parse_document};

/// A [`ProductCatalog`] that asks the catalog service over HTTP.
///
/// `200` → the product (validated by the domain's value objects), `404` → `None`,
/// anything else (after retries where allowed, see [the module](super)) or a body
/// that is not a valid `products` resource → [`CatalogError::Unavailable`].
pub struct HttpProductCatalog {
    client: ServiceClient,
}

impl HttpProductCatalog {
    /// Validates `config` and builds the (pooled) client.
    pub fn new(config: HttpClientConfig) -> anyhow::Result<Self> {
        let client =
            ServiceClient::new(&config).context("configuring the product catalog client")?;
        Ok(Self { client })
    }
}

impl std::fmt::Debug for HttpProductCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpProductCatalog").finish_non_exhaustive()
    }
}

impl HttpProductCatalog {
    async fn lookup(&self, id: ProductId) -> anyhow::Result<Option<Product>> {
        let Some(body) = self.client.get(&format!("/v1/products/{id}")).await? else {
            return Ok(None);
        };
        let resource: ProductResource = parse_document(&body)?;
        let product = resource
            .into_product(id)
            .context("the catalog answered with an invalid product")?;
        Ok(Some(product))
    }
}

#[async_trait]
impl ProductCatalog for HttpProductCatalog {
    async fn find_product(&self, id: ProductId) -> Result<Option<Product>, CatalogError> {
        self.lookup(id)
            .await
            .with_context(|| format!("looking up product {id} in the catalog service"))
            .map_err(CatalogError::Unavailable)
    }
}

/// A `products` resource object as the catalog serves it.
#[derive(Debug, Deserialize)]
struct ProductResource {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    attributes: ProductAttributes,
    #[serde(default)]
    relationships: ProductRelationships,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductAttributes {
    name: String,
    #[serde(default)]
    description: Option<String>,
    price: DecimalValue,
    sku: String,
    #[serde(default)]
    images: Vec<String>,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A decimal sent as a string (what Emporium serves) or as a JSON number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DecimalValue {
    Text(String),
    Number(serde_json::Number),
}

#[derive(Debug, Default, Deserialize)]
struct ProductRelationships {
    #[serde(default)]
    category: Option<ToOne>,
}

/// A to-one relationship; `data: null` (or absent) means none.
#[derive(Debug, Deserialize)]
struct ToOne {
    #[serde(default)]
    data: Option<Identifier>,
}

/// A resource identifier object.
#[derive(Debug, Deserialize)]
struct Identifier {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

impl ProductResource {
    /// The domain product, every value validated by its constructor.
    fn into_product(self, expected: ProductId) -> anyhow::Result<Product> {
        check_identity(&self.kind, &self.id, "products", expected.0)?;
        let attributes = self.attributes;
        let price = match attributes.price {
            DecimalValue::Text(text) => Price::parse(&text),
            DecimalValue::Number(number) => Price::parse(&number.to_string()),
        }
        .context("attribute `price`")?;
        let images = attributes
            .images
            .into_iter()
            .enumerate()
            .map(|(index, url)| {
                ImageUrl::new(url).with_context(|| format!("attribute `images[{index}]`"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let category_id = match self
            .relationships
            .category
            .and_then(|category| category.data)
        {
            None => None,
            Some(identifier) => {
                if identifier.kind != "categories" {
                    bail!(
                        "relationship `category` must point to \"categories\", not {:?}",
                        identifier.kind
                    );
                }
                let id = Uuid::parse_str(&identifier.id).with_context(|| {
                    format!(
                        "relationship `category`: id {:?} is not a uuid",
                        identifier.id
                    )
                })?;
                Some(CategoryId(id))
            }
        };
        Ok(Product {
            id: expected,
            name: ProductName::new(attributes.name).context("attribute `name`")?,
            description: Description::new(attributes.description.unwrap_or_default())
                .context("attribute `description`")?,
            price,
            sku: Sku::new(attributes.sku).context("attribute `sku`")?,
            images,
            active: attributes.active,
            category_id,
            created_at: attributes.created_at,
            updated_at: attributes.updated_at,
        })
    }
}
