//! The outermost middleware: gives every request an id, runs it inside
//! [`REQUEST_ID`] (so outgoing service calls forward it), converts every error into a
//! JSON:API error document, sets `X-Request-ID` on the answer and logs one line.

use std::time::Instant;

use emporium_adapters::request_context::REQUEST_ID;
use poem::http::{HeaderName, HeaderValue, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::http::jsonapi::{ApiError, JSON_API};

/// The request id header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client.
const MAX_REQUEST_ID_LEN: usize = 128;

/// See the module documentation.
#[derive(Debug, Default, Clone, Copy)]
pub struct Edge;

impl<E: Endpoint> Middleware<E> for Edge {
    type Output = EdgeEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        EdgeEndpoint { inner }
    }
}

/// The endpoint of [`Edge`].
pub struct EdgeEndpoint<E> {
    inner: E,
}

/// The client's request id when it is a sane token: 1 to 128 characters of letters,
/// digits and `-_.:+/=@`.
pub fn sane_request_id(value: &HeaderValue) -> Option<&str> {
    let value = value.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=@".contains(&b));
    sane.then_some(value)
}

impl<E: Endpoint> Endpoint for EdgeEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let request_id = request
            .headers()
            .get(&X_REQUEST_ID)
            .and_then(sane_request_id)
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let method = request.method().clone();
        let path = request.uri().path().to_owned();

        let mut response = REQUEST_ID
            .scope(request_id.clone(), async {
                match self.inner.call(request).await {
                    Ok(output) => as_json_api(output.into_response()),
                    Err(error) => ApiError::from_poem(error).into_response(),
                }
            })
            .await;

        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(X_REQUEST_ID.clone(), value);
        }
        let status = response.status().as_u16();
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::warn!(target: "emporium::http", method = %method, path = %path, status, latency_ms, request_id = %request_id, "request");
        } else {
            tracing::info!(target: "emporium::http", method = %method, path = %path, status, latency_ms, request_id = %request_id, "request");
        }
        Ok(response)
    }
}

/// Error answers that did not come from our handlers (poem's 404/405, inner
/// middleware) are rewritten as JSON:API error documents.
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
    } else {
        ApiError::from_status(status).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_must_be_sane_tokens() {
        let ok = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(sane_request_id(&ok), Some("abc-123_x.y:z"));
        assert_eq!(
            sane_request_id(&HeaderValue::from_static("has space")),
            None
        );
        assert_eq!(sane_request_id(&HeaderValue::from_static("")), None);
        assert_eq!(sane_request_id(&HeaderValue::from_static("a\"b")), None);
        let long = "a".repeat(129);
        assert_eq!(
            sane_request_id(&HeaderValue::from_str(&long).unwrap()),
            None
        );
        let max = "a".repeat(128);
        assert!(sane_request_id(&HeaderValue::from_str(&max).unwrap()).is_some());
    }
}
