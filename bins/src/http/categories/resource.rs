//! The `categories` resource object: serialisation and OpenAPI schemas.

use emporium_domain::catalog::Category;
use poem_openapi::Object;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::http::jsonapi::Fields;
use crate::http::jsonapi::document::{SelfLink, Timestamp};
use crate::http::jsonapi::schema::{ListLinksSchema, ListMetaSchema, ResourceLinksSchema};

/// The resource type.
pub const TYPE: &str = "categories";
/// Attributes, for `fields[categories]`.
pub const FIELDS: &[&str] = &["name", "slug", "createdAt"];

/// The URL of a category.
pub fn self_link(category: &Category) -> String {
    format!("/v1/categories/{}", category.id)
}

/// A category as a JSON:API resource object.
pub struct CategoryResource<'a> {
    category: &'a Category,
    fields: Fields<'a>,
}

impl<'a> CategoryResource<'a> {
    /// `category`, showing only `fields`.
    pub fn new(category: &'a Category, fields: Fields<'a>) -> Self {
        Self { category, fields }
    }
}

impl Serialize for CategoryResource<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let category = self.category;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", TYPE)?;
        map.serialize_entry("id", &category.id)?;
        map.serialize_entry("attributes", &Attributes(self))?;
        map.serialize_entry(
            "links",
            &SelfLink {
                collection: "categories",
                id: category.id,
            },
        )?;
        map.end()
    }
}

struct Attributes<'r, 'a>(&'r CategoryResource<'a>);

impl Serialize for Attributes<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let CategoryResource { category, fields } = self.0;
        let mut map = serializer.serialize_map(None)?;
        if fields.allows("name") {
            map.serialize_entry("name", category.name.as_str())?;
        }
        if fields.allows("slug") {
            map.serialize_entry("slug", category.slug.as_str())?;
        }
        if fields.allows("createdAt") {
            map.serialize_entry("createdAt", &Timestamp(&category.created_at))?;
        }
        map.end()
    }
}

// ---- OpenAPI schemas (documentation only) ----

/// Attributes of a category as served.
#[derive(Object)]
#[oai(rename = "CategoryAttributes", rename_all = "camelCase")]
pub struct CategoryAttributesSchema {
    /// Display name, unique.
    pub name: String,
    /// URL key, unique.
    pub slug: String,
    /// RFC 3339.
    pub created_at: String,
}

/// A `categories` resource object.
#[derive(Object)]
#[oai(rename = "CategoryResource")]
pub struct CategoryResourceSchema {
    /// Always `categories`.
    #[oai(rename = "type")]
    pub type_: String,
    /// UUID.
    pub id: String,
    /// Attributes.
    pub attributes: CategoryAttributesSchema,
    /// Links.
    pub links: ResourceLinksSchema,
}

/// One category.
#[derive(Object)]
#[oai(rename = "CategoryDocument")]
pub struct CategoryDocument {
    /// The category.
    pub data: CategoryResourceSchema,
}

/// A page of categories, by name.
#[derive(Object)]
#[oai(rename = "CategoryListDocument")]
pub struct CategoryListDocument {
    /// The categories on this page.
    pub data: Vec<CategoryResourceSchema>,
    /// Pagination links.
    pub links: ListLinksSchema,
    /// `total`: categories across all pages.
    pub meta: ListMetaSchema,
}

/// Attributes accepted when creating a category.
#[derive(Object)]
#[oai(rename = "CategoryCreateAttributes")]
pub struct CategoryCreateAttributesSchema {
    /// Required; 1-100 characters; unique.
    pub name: String,
    /// Optional; lower-case letters, digits and single hyphens; derived from the name
    /// when absent; unique.
    pub slug: Option<String>,
}

/// The resource object of a create request.
#[derive(Object)]
#[oai(rename = "CategoryCreateResource")]
pub struct CategoryCreateResourceSchema {
    /// Must be `categories`.
    #[oai(rename = "type")]
    pub type_: String,
    /// The new category.
    pub attributes: CategoryCreateAttributesSchema,
}

/// `POST /v1/categories` request document.
#[derive(Object)]
#[oai(rename = "CategoryCreateDocument")]
pub struct CategoryCreateDocument {
    /// The category to create.
    pub data: CategoryCreateResourceSchema,
}
