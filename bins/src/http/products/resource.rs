//! The `products` resource object: serialisation (sparse fieldsets applied) and its
//! OpenAPI schemas.

use emporium_domain::catalog::{ImageUrl, Product};
use poem_openapi::Object;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::http::categories::resource::CategoryResourceSchema;
use crate::http::jsonapi::Fields;
use crate::http::jsonapi::document::{Displayed, SelfLink, Timestamp, ToOne};
use crate::http::jsonapi::schema::{
    CategoryRelationshipSchema, ListLinksSchema, ListMetaSchema, ResourceLinksSchema,
};
use emporium_domain::catalog::Price;

/// The resource type.
pub const TYPE: &str = "products";
/// Attributes and relationships, for `fields[products]`.
pub const FIELDS: &[&str] = &[
    "name",
    "description",
    "price",
    "sku",
    "images",
    "active",
    "createdAt",
    "updatedAt",
    "category",
];

/// The URL of a product.
pub fn self_link(product: &Product) -> String {
    format!("/v1/products/{}", product.id)
}

/// A product as a JSON:API resource object.
pub struct ProductResource<'a> {
    product: &'a Product,
    fields: Fields<'a>,
}

impl<'a> ProductResource<'a> {
    /// `product`, showing only `fields`.
    pub fn new(product: &'a Product, fields: Fields<'a>) -> Self {
        Self { product, fields }
    }
}

impl Serialize for ProductResource<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let product = self.product;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("type", TYPE)?;
        map.serialize_entry("id", &product.id)?;
        map.serialize_entry("attributes", &Attributes(self))?;
        if self.fields.allows("category") {
            map.serialize_entry("relationships", &Relationships(product))?;
        }
        map.serialize_entry(
            "links",
            &SelfLink {
                collection: "products",
                id: product.id,
            },
        )?;
        map.end()
    }
}

struct Attributes<'r, 'a>(&'r ProductResource<'a>);

impl Serialize for Attributes<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ProductResource { product, fields } = self.0;
        let mut map = serializer.serialize_map(None)?;
        if fields.allows("name") {
            map.serialize_entry("name", product.name.as_str())?;
        }
        if fields.allows("description") {
            map.serialize_entry("description", product.description.as_str())?;
        }
        if fields.allows("price") {
            map.serialize_entry("price", &PriceText(&product.price))?;
        }
        if fields.allows("sku") {
            map.serialize_entry("sku", product.sku.as_str())?;
        }
        if fields.allows("images") {
            map.serialize_entry("images", &Images(&product.images))?;
        }
        if fields.allows("active") {
            map.serialize_entry("active", &product.active)?;
        }
        if fields.allows("createdAt") {
            map.serialize_entry("createdAt", &Timestamp(&product.created_at))?;
        }
        if fields.allows("updatedAt") {
            map.serialize_entry("updatedAt", &Timestamp(&product.updated_at))?;
        }
        map.end()
    }
}

/// A price as its decimal string (`"12.50"`), formatted by hand from the mantissa
/// (prices always have two decimal places); anything unexpected goes through
/// `Display`.
struct PriceText<'a>(&'a Price);

impl Serialize for PriceText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let amount = self.0.amount();
        let mantissa = amount.mantissa();
        if amount.scale() != 2 || !(0..=i128::from(u64::MAX)).contains(&mantissa) {
            return Displayed(self.0).serialize(serializer);
        }
        let mut value = mantissa as u64;
        let mut buffer = [0u8; 24];
        let mut at = buffer.len();
        let mut digits = 0;
        loop {
            if digits == 2 {
                at -= 1;
                buffer[at] = b'.';
            }
            at -= 1;
            buffer[at] = b'0' + (value % 10) as u8;
            value /= 10;
            digits += 1;
            if value == 0 && digits >= 3 {
                break;
            }
        }
        serializer
            .serialize_str(std::str::from_utf8(&buffer[at..]).map_err(serde::ser::Error::custom)?)
    }
}

struct Images<'a>(&'a [ImageUrl]);

impl Serialize for Images<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ImageUrl::as_str))
    }
}

struct Relationships<'a>(&'a Product);

impl Serialize for Relationships<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(
            "category",
            &ToOne {
                kind: "categories",
                id: self.0.category_id,
            },
        )?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_decimal_strings() {
        for text in ["0.01", "0.10", "1.00", "12.50", "9999999999.99"] {
            let price = Price::parse(text).unwrap();
            assert_eq!(serde_json::to_value(PriceText(&price)).unwrap(), text);
        }
    }
}

// ---- OpenAPI schemas (documentation only) ----

/// Attributes of a product as served.
#[derive(Object)]
#[oai(rename = "ProductAttributes", rename_all = "camelCase")]
pub struct ProductAttributesSchema {
    /// Display name, 1-255 characters.
    pub name: String,
    /// Free text, up to 10,000 characters.
    pub description: String,
    /// Decimal string with two places, e.g. `"12.50"`.
    pub price: String,
    /// Stock-keeping unit, unique.
    pub sku: String,
    /// Absolute http(s) image URLs.
    pub images: Vec<String>,
    /// Offered for sale.
    pub active: bool,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// Relationships of a product.
#[derive(Object)]
#[oai(rename = "ProductRelationships")]
pub struct ProductRelationshipsSchema {
    /// The product's category.
    pub category: CategoryRelationshipSchema,
}

/// A `products` resource object.
#[derive(Object)]
#[oai(rename = "ProductResource")]
pub struct ProductResourceSchema {
    /// Always `products`.
    #[oai(rename = "type")]
    pub type_: String,
    /// UUID.
    pub id: String,
    /// Attributes (only those asked for with `fields[products]`).
    pub attributes: ProductAttributesSchema,
    /// Relationships.
    pub relationships: Option<ProductRelationshipsSchema>,
    /// Links.
    pub links: ResourceLinksSchema,
}

/// One product, with its category when `include=category`.
#[derive(Object)]
#[oai(rename = "ProductDocument")]
pub struct ProductDocument {
    /// The product.
    pub data: ProductResourceSchema,
    /// The included category.
    pub included: Option<Vec<CategoryResourceSchema>>,
}

/// A page of products.
#[derive(Object)]
#[oai(rename = "ProductListDocument")]
pub struct ProductListDocument {
    /// The products on this page.
    pub data: Vec<ProductResourceSchema>,
    /// Their categories when `include=category`.
    pub included: Option<Vec<CategoryResourceSchema>>,
    /// Pagination links.
    pub links: ListLinksSchema,
    /// `total`: products matching across all pages.
    pub meta: ListMetaSchema,
}

/// Attributes accepted when creating a product.
#[derive(Object)]
#[oai(rename = "ProductCreateAttributes")]
pub struct ProductCreateAttributesSchema {
    /// Required; 1-255 characters after trimming.
    pub name: String,
    /// Optional; up to 10,000 characters.
    pub description: Option<String>,
    /// Required; > 0 with at most two decimal places, as a string (`"12.50"`) or a
    /// number.
    pub price: String,
    /// Required; 1-64 of letters, digits, `-`, `_`, `.`; unique.
    pub sku: String,
    /// Optional; absolute http(s) URLs.
    pub images: Option<Vec<String>>,
    /// Optional; default `true`.
    pub active: Option<bool>,
}

/// Relationships accepted when creating or updating a product.
#[derive(Object)]
#[oai(rename = "ProductRelationshipsInput")]
pub struct ProductRelationshipsInputSchema {
    /// The category (`data: null` for none).
    pub category: Option<CategoryRelationshipSchema>,
}

/// The resource object of a create request.
#[derive(Object)]
#[oai(rename = "ProductCreateResource")]
pub struct ProductCreateResourceSchema {
    /// Must be `products`.
    #[oai(rename = "type")]
    pub type_: String,
    /// The new product's attributes.
    pub attributes: ProductCreateAttributesSchema,
    /// Its category.
    pub relationships: Option<ProductRelationshipsInputSchema>,
}

/// `POST /v1/products` request document.
#[derive(Object)]
#[oai(rename = "ProductCreateDocument")]
pub struct ProductCreateDocument {
    /// The product to create.
    pub data: ProductCreateResourceSchema,
}

/// Attributes accepted when updating a product; each is optional.
#[derive(Object)]
#[oai(rename = "ProductUpdateAttributes")]
pub struct ProductUpdateAttributesSchema {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New price (string or number).
    pub price: Option<String>,
    /// New SKU.
    pub sku: Option<String>,
    /// New image list (replaces the old one).
    pub images: Option<Vec<String>>,
    /// New active flag.
    pub active: Option<bool>,
}

/// The resource object of an update request.
#[derive(Object)]
#[oai(rename = "ProductUpdateResource")]
pub struct ProductUpdateResourceSchema {
    /// Must be `products`.
    #[oai(rename = "type")]
    pub type_: String,
    /// Must equal the id in the URL.
    pub id: String,
    /// The attributes to change.
    pub attributes: Option<ProductUpdateAttributesSchema>,
    /// The category to set or clear.
    pub relationships: Option<ProductRelationshipsInputSchema>,
}

/// `PATCH /v1/products/{id}` request document.
#[derive(Object)]
#[oai(rename = "ProductUpdateDocument")]
pub struct ProductUpdateDocument {
    /// The changes.
    pub data: ProductUpdateResourceSchema,
}
