//! OpenAPI schemas shared by every resource: error documents, links, list meta and
//! resource identifiers. These types only describe documents for `/openapi.json`;
//! answers are serialised from the domain values directly (see `document`), and
//! request documents are read member by member (see `members`).

use poem_openapi::Object;

/// A JSON:API error document.
#[derive(Object)]
#[oai(rename = "ErrorDocument")]
pub struct ErrorDocumentSchema {
    /// One object per problem.
    pub errors: Vec<ErrorObjectSchema>,
    /// On server-side failures: the request id to quote when reporting it.
    pub meta: Option<RequestIdMetaSchema>,
}

/// One problem with the request, or a server-side failure.
#[derive(Object)]
#[oai(rename = "ErrorObject")]
pub struct ErrorObjectSchema {
    /// The HTTP status as a string, e.g. `"422"`.
    pub status: String,
    /// A stable machine-readable code, e.g. `insufficient_stock`.
    pub code: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// What exactly was wrong.
    pub detail: String,
    /// Where in the request the problem is.
    pub source: Option<ErrorSourceSchema>,
    /// On server-side failures: the request id.
    pub meta: Option<RequestIdMetaSchema>,
}

/// Where a problem is: one of the members is present.
#[derive(Object)]
#[oai(rename = "ErrorSource")]
pub struct ErrorSourceSchema {
    /// A JSON Pointer into the request document.
    pub pointer: Option<String>,
    /// A query parameter.
    pub parameter: Option<String>,
    /// A request header.
    pub header: Option<String>,
}

/// `meta` of server-side failures.
#[derive(Object)]
#[oai(rename = "RequestIdMeta", rename_all = "camelCase")]
pub struct RequestIdMetaSchema {
    /// The `X-Request-ID` of the failed request.
    pub request_id: String,
}

/// `links` of a resource object.
#[derive(Object)]
#[oai(rename = "ResourceLinks", rename_all = "camelCase")]
pub struct ResourceLinksSchema {
    /// The resource's own URL (root-relative).
    #[oai(rename = "self")]
    pub self_: String,
}

/// `links` of a list: every URL is root-relative and keeps the list's other query
/// parameters.
#[derive(Object)]
#[oai(rename = "ListLinks")]
pub struct ListLinksSchema {
    /// This page.
    #[oai(rename = "self")]
    pub self_: String,
    /// The first page.
    pub first: String,
    /// The previous page; `null` on the first.
    pub prev: Option<String>,
    /// The next page; `null` on the last.
    pub next: Option<String>,
    /// The last page.
    pub last: String,
}

/// `meta` of a list.
#[derive(Object)]
#[oai(rename = "ListMeta")]
pub struct ListMetaSchema {
    /// How many resources match, across all pages.
    pub total: u64,
}

/// A resource identifier object pointing at a category.
#[derive(Object)]
#[oai(rename = "CategoryIdentifier")]
pub struct CategoryIdentifierSchema {
    /// Always `categories`.
    #[oai(rename = "type")]
    pub type_: String,
    /// The category id (UUID).
    pub id: String,
}

/// A resource identifier object pointing at a product.
#[derive(Object)]
#[oai(rename = "ProductIdentifier")]
pub struct ProductIdentifierSchema {
    /// Always `products`.
    #[oai(rename = "type")]
    pub type_: String,
    /// The product id (UUID).
    pub id: String,
}

/// A to-one relationship to a category (`data` is `null` when there is none).
#[derive(Object)]
#[oai(rename = "CategoryRelationship")]
pub struct CategoryRelationshipSchema {
    /// The category, or `null`.
    pub data: Option<CategoryIdentifierSchema>,
}

/// A to-one relationship to a product.
#[derive(Object)]
#[oai(rename = "ProductRelationship")]
pub struct ProductRelationshipSchema {
    /// The product.
    pub data: ProductIdentifierSchema,
}
