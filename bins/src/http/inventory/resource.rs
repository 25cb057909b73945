//! The `inventory` resource object (its id is the product id): serialisation and
//! OpenAPI schemas.

use emporium_domain::inventory::InventoryItem;
use poem_openapi::Object;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::http::jsonapi::Fields;
use crate::http::jsonapi::document::{SelfLink, Timestamp, ToOne};
use crate::http::jsonapi::schema::{
    ListLinksSchema, ListMetaSchema, ProductRelationshipSchema, ResourceLinksSchema,
};
use crate::http::products::resource::ProductResourceSchema;

/// The resource type.
pub const TYPE: &str = "inventory";
/// Attributes and relationships, for `fields[inventory]`.
pub const FIELDS: &[&str] = &["onHand", "reserved", "available", "updatedAt", "product"];

/// The URL of a stock record.
pub fn self_link(item: &InventoryItem) -> String {
    format!("/v1/inventory/{}", item.product_id())
}

/// A stock record as a JSON:API resource object.
pub struct InventoryResource<'a> {
    item: &'a InventoryItem,
    fields: Fields<'a>,
}

impl<'a> InventoryResource<'a> {
    /// `item`, showing only `fields`.
    pub fn new(item: &'a InventoryItem, fields: Fields<'a>) -> Self {
        Self { item, fields }
    }
}

impl Serialize for InventoryResource<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let item = self.item;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("type", TYPE)?;
        map.serialize_entry("id", &item.product_id())?;
        map.serialize_entry("attributes", &Attributes(self))?;
        if self.fields.allows("product") {
            map.serialize_entry("relationships", &Relationships(item))?;
        }
        map.serialize_entry(
            "links",
            &SelfLink {
                collection: "inventory",
                id: item.product_id(),
            },
        )?;
        map.end()
    }
}

struct Attributes<'r, 'a>(&'r InventoryResource<'a>);

impl Serialize for Attributes<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let InventoryResource { item, fields } = self.0;
        let mut map = serializer.serialize_map(None)?;
        if fields.allows("onHand") {
            map.serialize_entry("onHand", &item.on_hand().value())?;
        }
        if fields.allows("reserved") {
            map.serialize_entry("reserved", &item.reserved().value())?;
        }
        if fields.allows("available") {
            map.serialize_entry("available", &item.available().value())?;
        }
        if fields.allows("updatedAt") {
            map.serialize_entry("updatedAt", &Timestamp(&item.updated_at()))?;
        }
        map.end()
    }
}

struct Relationships<'a>(&'a InventoryItem);

impl Serialize for Relationships<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(
            "product",
            &ToOne {
                kind: "products",
                id: Some(self.0.product_id()),
            },
        )?;
        map.end()
    }
}

// ---- OpenAPI schemas (documentation only) ----

/// Attributes of a stock record.
#[derive(Object)]
#[oai(rename = "InventoryAttributes", rename_all = "camelCase")]
pub struct InventoryAttributesSchema {
    /// Units physically in stock.
    pub on_hand: i64,
    /// Units promised to orders.
    pub reserved: i64,
    /// `onHand - reserved`.
    pub available: i64,
    /// RFC 3339.
    pub updated_at: String,
}

/// Relationships of a stock record.
#[derive(Object)]
#[oai(rename = "InventoryRelationships")]
pub struct InventoryRelationshipsSchema {
    /// The product counted.
    pub product: ProductRelationshipSchema,
}

/// An `inventory` resource object; its id is the product id.
#[derive(Object)]
#[oai(rename = "InventoryResource")]
pub struct InventoryResourceSchema {
    /// Always `inventory`.
    #[oai(rename = "type")]
    pub type_: String,
    /// The product id.
    pub id: String,
    /// Quantities.
    pub attributes: InventoryAttributesSchema,
    /// The product.
    pub relationships: Option<InventoryRelationshipsSchema>,
    /// Links.
    pub links: ResourceLinksSchema,
}

/// One stock record, with its product when `include=product`.
#[derive(Object)]
#[oai(rename = "InventoryDocument")]
pub struct InventoryDocument {
    /// The stock record.
    pub data: InventoryResourceSchema,
    /// The included product.
    pub included: Option<Vec<ProductResourceSchema>>,
}

/// A page of stock records, by product id.
#[derive(Object)]
#[oai(rename = "InventoryListDocument")]
pub struct InventoryListDocument {
    /// The records on this page.
    pub data: Vec<InventoryResourceSchema>,
    /// Pagination links.
    pub links: ListLinksSchema,
    /// `total`: records across all pages.
    pub meta: ListMetaSchema,
}

/// Attributes accepted when creating a stock record.
#[derive(Object)]
#[oai(rename = "InventoryCreateAttributes", rename_all = "camelCase")]
pub struct InventoryCreateAttributesSchema {
    /// Required; 0 to 1,000,000,000.
    pub on_hand: i64,
}

/// Relationships accepted when creating a stock record.
#[derive(Object)]
#[oai(rename = "InventoryCreateRelationships")]
pub struct InventoryCreateRelationshipsSchema {
    /// Required: the product to count.
    pub product: ProductRelationshipSchema,
}

/// The resource object of a create request.
#[derive(Object)]
#[oai(rename = "InventoryCreateResource")]
pub struct InventoryCreateResourceSchema {
    /// Must be `inventory`.
    #[oai(rename = "type")]
    pub type_: String,
    /// Optional; when given, the product id (same as the relationship).
    pub id: Option<String>,
    /// Initial quantity.
    pub attributes: InventoryCreateAttributesSchema,
    /// The product.
    pub relationships: InventoryCreateRelationshipsSchema,
}

/// `POST /v1/inventory` request document.
#[derive(Object)]
#[oai(rename = "InventoryCreateDocument")]
pub struct InventoryCreateDocument {
    /// The stock record to create.
    pub data: InventoryCreateResourceSchema,
}

/// The attribute of an adjustment.
#[derive(Object)]
#[oai(rename = "InventoryAdjustAttributes", rename_all = "camelCase")]
pub struct InventoryAdjustAttributesSchema {
    /// Required; a non-zero integer added to on-hand stock (negative removes).
    pub quantity_delta: i64,
}

/// The resource object of an adjustment.
#[derive(Object)]
#[oai(rename = "InventoryAdjustResource")]
pub struct InventoryAdjustResourceSchema {
    /// Must be `inventory`.
    #[oai(rename = "type")]
    pub type_: String,
    /// Must equal the product id in the URL.
    pub id: String,
    /// The change.
    pub attributes: InventoryAdjustAttributesSchema,
}

/// `PATCH /v1/inventory/{product_id}` request document.
#[derive(Object)]
#[oai(rename = "InventoryAdjustDocument")]
pub struct InventoryAdjustDocument {
    /// The adjustment.
    pub data: InventoryAdjustResourceSchema,
}
