//! The edge middleware (see the module documentation of `middleware`): one layer
//! around the routes that gives every request an id, runs it inside [`REQUEST_ID`]
//! (so outgoing service calls forward it), checks `Accept` and the caller's
//! credentials, answers `OPTIONS`, catches panics, converts every error into a
//! JSON:API error document (405s with `Allow`), sets `X-Request-ID` and the security
//! headers on the answer and logs one line.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use emporium_adapters::request_context::REQUEST_ID;
use futures::FutureExt;
use poem::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use super::auth::ApiKeyAuth;
use super::media_type::check_accept;
use super::request_id;
use crate::http::jsonapi::{ApiError, JSON_API};
use crate::http::metrics::{Metrics, RouteSeries};
use crate::http::openapi::AllowedMethods;
use std::sync::Arc;

/// The request id header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Edge {
    auth: ApiKeyAuth,
    allowed: AllowedMethods,
    metrics: Option<Counting>,
}

/// The metrics and, for each route of the table, its series.
#[derive(Clone)]
struct Counting {
    metrics: Arc<Metrics>,
    routes: Arc<[RouteSeries]>,
}

impl std::fmt::Debug for Counting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counting")
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl Edge {
    /// The edge, checking callers against `auth`; `allowed` lists each route's
    /// methods.
    pub fn new(auth: ApiKeyAuth, allowed: AllowedMethods) -> Self {
        Self {
            auth,
            allowed,
            metrics: None,
        }
    }

    /// Also counts every request in `metrics` (by route template, never raw path).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        let routes = self
            .allowed
            .templates()
            .map(|template| metrics.route_series(template))
            .collect();
        self.metrics = Some(Counting { metrics, routes });
        self
    }
}

impl<E: Endpoint> Middleware<E> for Edge {
    type Output = EdgeEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        EdgeEndpoint {
            inner,
            auth: self.auth.clone(),
            allowed: self.allowed.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// The endpoint of [`Edge`].
pub struct EdgeEndpoint<E> {
    inner: E,
    auth: ApiKeyAuth,
    allowed: AllowedMethods,
    metrics: Option<Counting>,
}

impl<E: Endpoint> EdgeEndpoint<E> {
    async fn handle(&self, mut request: Request, uri: &Uri) -> Response {
        if request.method() == Method::OPTIONS {
            return match self.allowed.for_path(request.uri().path()) {
                Some(allow) => Response::builder()
                    .status(StatusCode::NO_CONTENT)
                    .header(header::ALLOW, allow)
                    .finish(),
                None => ApiError::route_not_found().into_response(),
            };
        }
        if let Err(error) = check_accept(&request) {
            return error.into_response();
        }
        if let Err(error) = self.auth.identify(&mut request).await {
            return error.into_response();
        }
        match AssertUnwindSafe(self.inner.call(request))
            .catch_unwind()
            .await
        {
            Ok(Ok(output)) => as_json_api(output.into_response()),
            Ok(Err(error)) => {
                let method_not_allowed = error.is::<poem::error::MethodNotAllowedError>();
                let mut response = ApiError::from_poem(error).into_response();
                if method_not_allowed
                    && let Some(allow) = self.allowed.for_path(uri.path())
                    && let Ok(allow) = HeaderValue::from_str(allow)
                {
                    response.headers_mut().insert(header::ALLOW, allow);
                }
                response
            }
            Err(_) => ApiError::internal(
                "a request handler panicked",
                &anyhow::anyhow!("panic while serving the request"),
            )
            .into_response(),
        }
    }
}

impl<E: Endpoint> Endpoint for EdgeEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let request_id = match request
            .headers()
            .get(&X_REQUEST_ID)
            .and_then(request_id::sane)
        {
            Some(id) => id.to_owned(),
            None => request_id::generate(),
        };
        let header_value = HeaderValue::from_str(&request_id).ok();
        let method = request.method().clone();
        let uri = request.uri().clone();

        let mut response = REQUEST_ID
            .scope(request_id.clone(), self.handle(request, &uri))
            .await;

        let headers = response.headers_mut();
        if let Some(value) = header_value {
            headers.insert(X_REQUEST_ID.clone(), value);
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if is_private(uri.path()) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if uri.path() == "/docs" || uri.path().starts_with("/docs/") {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        if let Some(Counting { metrics, routes }) = &self.metrics {
            let path = uri.path();
            let (status, took) = (response.status(), started.elapsed());
            match self
                .allowed
                .index_of(path)
                .and_then(|index| routes.get(index))
            {
                Some(series) => metrics.observe_route(series, &method, status, took),
                None => {
                    let route = match path {
                        "/metrics" | "/openapi.json" | "/docs" | "/v1/notifications/stream" => path,
                        _ => "unmatched",
                    };
                    metrics.observe(&method, route.into(), status, took);
                }
            }
            if response.status() == poem::http::StatusCode::TOO_MANY_REQUESTS
                && path.starts_with("/v1/auth/")
            {
                metrics.rate_limited();
            }
        }
        let status = response.status().as_u16();
        let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
        let request_id = request_id.as_str();
        if status >= 500 {
            tracing::warn!(target: "emporium::http", method = method.as_str(), path = uri.path(), status, latency_ms, request_id, "request");
        } else {
            tracing::info!(target: "emporium::http", method = method.as_str(), path = uri.path(), status, latency_ms, request_id, "request");
        }
        Ok(response)
    }
}

/// Answers about accounts and sessions (tokens, the current user) must not be kept
/// by any cache.
fn is_private(path: &str) -> bool {
    path.starts_with("/v1/auth/") || path == "/v1/users" || path.starts_with("/v1/users/")
}

/// Error answers that did not come from our handlers (poem's 404/405, poem-openapi's
/// own) are rewritten as JSON:API error documents.
fn as_json_api(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json_api = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(JSON_API.as_bytes()));
    if is_json_api {
        response
    } else if status == StatusCode::INTERNAL_SERVER_ERROR {
        ApiError::internal(
            "a request failed",
            &anyhow::anyhow!("an inner layer answered 500"),
        )
        .into_response()
    } else {
        ApiError::from_status(status).into_response()
    }
}
