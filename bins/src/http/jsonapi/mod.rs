//! JSON:API (jsonapi.org v1.1) at the HTTP edge: documents, payload types, media-type
//! negotiation, query parameters, request-document reading and error documents.

pub mod document;
pub mod error;
pub mod media_type;
pub mod members;
pub mod payload;
pub mod query;
pub mod schema;

pub use error::{ApiError, ErrorObject};
pub use media_type::JSON_API;
pub use payload::{Created, JsonApi, JsonApiBody, MAX_BODY_BYTES, NoContent};
pub use query::{Fields, ParsedQuery, QuerySpec, parse_query};
