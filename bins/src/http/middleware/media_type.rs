//! 406 Not Acceptable when the `Accept` header rules out `application/vnd.api+json`.
//!
//! The API documentation (`/docs`, `/openapi.json`) and the probes (`/health`,
//! `/ready`) are exempt: browsers and orchestrators ask for them with their own
//! `Accept` headers. The probes still answer in JSON:API.

use poem::Request;
use poem::http::header;

use crate::http::jsonapi::ApiError;
use crate::http::jsonapi::media_type::accepts_json_api;

fn is_exempt(path: &str) -> bool {
    matches!(
        path,
        "/health" | "/ready" | "/metrics" | "/openapi.json" | "/docs"
    ) || path.starts_with("/docs/")
}

/// `Err(406)` when the request's `Accept` headers rule out JSON:API.
pub fn check_accept(request: &Request) -> Result<(), ApiError> {
    let mut values = request.headers().get_all(header::ACCEPT).iter().peekable();
    if values.peek().is_none() || is_exempt(request.uri().path()) {
        return Ok(());
    }
    if values.any(|value| value.to_str().is_ok_and(accepts_json_api)) {
        Ok(())
    } else {
        Err(ApiError::not_acceptable())
    }
}
