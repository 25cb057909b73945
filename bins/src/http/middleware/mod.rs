//! Middleware of the HTTP edge, outermost first:
//!
//! 1. [`edge::Edge`]: request id (`X-Request-ID`), one JSON log line per request, and
//!    the catch-all that turns every error into a JSON:API error document;
//! 2. [`media_type::AcceptJsonApi`]: 406 when `Accept` rules out JSON:API;
//! 3. [`auth::ApiKeyAuth`]: `X-API-Key` → [`Actor`](emporium_domain::Actor) (a wrong
//!    key is refused at once).
//!
//! Request bodies are checked (415, 413) where they are read: by
//! [`JsonApiBody`](super::jsonapi::JsonApiBody).

pub mod auth;
pub mod edge;
pub mod media_type;
