//! The middleware of the HTTP edge, run as one layer ([`edge::Edge`]) so the hot path
//! stays short. In order:
//!
//! 1. request id (`X-Request-ID`) and the task-local the service clients forward;
//! 2. [`media_type::check_accept`]: 406 when `Accept` rules out JSON:API;
//! 3. [`auth::ApiKeyAuth::identify`]: `X-API-Key` → [`Actor`](emporium_domain::Actor)
//!    (a wrong key is refused at once);
//! 4. the routes, with panics caught;
//! 5. the catch-all turning every error into a JSON:API error document;
//! 6. one JSON log line.
//!
//! Request bodies are checked (415, 413) where they are read: by
//! [`JsonApiBody`](super::jsonapi::JsonApiBody).

pub mod auth;
pub mod client_address;
pub mod edge;
pub mod media_type;
pub mod request_id;
