//! JSON:API (jsonapi.org v1.1) at the HTTP edge: one description per resource type
//! ([`resource`]), from which come its documents and their schemas ([`document`]), the
//! `fields[type]` parameter ([`query`]) and its request documents ([`body`]); plus
//! media-type negotiation, payload types and error documents.
//!
//! Adding a resource: see "Adding a resource" in `docs/architecture.md`.

pub mod body;
pub mod document;
pub mod error;
pub mod media_type;
pub mod payload;
pub mod query;
pub mod resource;
pub mod schema;
pub mod strict_json;
pub mod text;
pub mod values;

pub use body::{ClientId, Member, Write};
pub use document::{ListDocument, SingleDocument};
pub use error::{ApiError, ErrorObject};
pub use media_type::JSON_API;
pub use payload::{
    Accepted, Created, JsonApi, JsonApiBody, MAX_BODY_BYTES, NoContent, OptionalBody, Saved,
};
pub use query::{FieldSet, Fields, Filter, ParsedQuery, QuerySpec};
pub use resource::{IncludedEither, Linkage, Relationship, Resource, path_id};
pub use text::{EmailRule, SkuRule, Text, Trimmed};
pub use values::{Amount, Timestamp};
