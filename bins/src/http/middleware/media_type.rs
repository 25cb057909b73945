//! 406 Not Acceptable when the `Accept` header rules out `application/vnd.api+json`.
//!
//! The API documentation (`/docs`, `/openapi.json`) and the probes (`/health`,
//! `/ready`) are exempt: browsers and orchestrators ask for them with their own
//! `Accept` headers. The probes still answer in JSON:API.

use poem::http::header;
use poem::{Endpoint, Middleware, Request};

use crate::http::jsonapi::ApiError;
use crate::http::jsonapi::media_type::accepts_json_api;

/// See the module documentation.
#[derive(Debug, Default, Clone, Copy)]
pub struct AcceptJsonApi;

impl<E: Endpoint> Middleware<E> for AcceptJsonApi {
    type Output = AcceptJsonApiEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AcceptJsonApiEndpoint { inner }
    }
}

/// The endpoint of [`AcceptJsonApi`].
pub struct AcceptJsonApiEndpoint<E> {
    inner: E,
}

fn is_exempt(path: &str) -> bool {
    matches!(path, "/health" | "/ready" | "/openapi.json" | "/docs") || path.starts_with("/docs/")
}

impl<E: Endpoint> Endpoint for AcceptJsonApiEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, request: Request) -> poem::Result<Self::Output> {
        let mut values = request.headers().get_all(header::ACCEPT).iter().peekable();
        if values.peek().is_some() && !is_exempt(request.uri().path()) {
            let acceptable = values.any(|value| value.to_str().is_ok_and(accepts_json_api));
            if !acceptable {
                return Err(ApiError::not_acceptable().into());
            }
        }
        self.inner.call(request).await
    }
}
