//! JSON:API error documents: the one error type of the HTTP edge ([`ApiError`]), the
//! one mapping from use-case failures to it (`From<E: UseCaseError>`: each failure
//! kind of the application's catalogue to one status), and the catch-all that turns
//! every other failure (poem's own 404/405/413, parse errors, panics turned into
//! 500s) into the same shape.
//!
//! Client errors say what was wrong and where (`source.pointer`, `source.parameter`
//! or `source.header`). Internal errors and unavailable dependencies are logged here,
//! with their cause, and answered with a fixed text plus the request id in
//! `meta.requestId`: nothing about internals reaches the client.

use std::fmt;

use poem::error::ResponseError;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::JSON_API;
use emporium_adapters::request_context::current_request_id;
use emporium_application::failure::{FailureKind, Field, UseCaseError};

/// The value of `WWW-Authenticate` on 401 answers for missing or wrong credentials:
/// a bearer access token (`Authorization: Bearer …`) or the API key in `X-API-Key`.
pub const WWW_AUTHENTICATE_CHALLENGES: &str =
    r#"Bearer realm="emporium", ApiKey realm="emporium", header="X-API-Key""#;
/// The value of `WWW-Authenticate` when a bearer token is invalid or expired
/// (RFC 6750 §3.1).
pub const WWW_AUTHENTICATE_INVALID_TOKEN: &str =
    r#"Bearer realm="emporium", error="invalid_token""#;

/// What part of the request an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorSource {
    /// A JSON Pointer into the request document (`""` is the whole document).
    Pointer(String),
    /// A query parameter name.
    Parameter(String),
    /// A request header name.
    Header(&'static str),
}

/// One JSON:API error object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorObject {
    /// The HTTP status this problem alone would have.
    pub status: StatusCode,
    /// A stable, machine-readable code (`insufficient_stock`, `invalid_value`, …).
    pub code: &'static str,
    /// A short summary that does not change between occurrences.
    pub title: &'static str,
    /// What exactly was wrong, for the person who sent the request.
    pub detail: String,
    /// Where in the request.
    pub source: Option<ErrorSource>,
    /// The resource at fault when no request member names it: a `meta` member
    /// (`productId`) and its value.
    pub subject: Option<Box<(&'static str, String)>>,
}

impl ErrorObject {
    /// An error object without a source.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            source: None,
            subject: None,
        }
    }

    /// Names the resource at fault in the error's `meta`.
    pub fn about(mut self, name: &'static str, id: impl std::fmt::Display) -> Self {
        self.subject = Some(Box::new((name, id.to_string())));
        self
    }

    /// Points the error at a member of the request document.
    pub fn at_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.source = Some(ErrorSource::Pointer(pointer.into()));
        self
    }

    /// Points the error at a query parameter.
    pub fn at_parameter(mut self, parameter: impl Into<String>) -> Self {
        self.source = Some(ErrorSource::Parameter(parameter.into()));
        self
    }

    /// Points the error at a request header.
    pub fn at_header(mut self, header: &'static str) -> Self {
        self.source = Some(ErrorSource::Header(header));
        self
    }
}

/// Operation parameters that are request headers (the others are in the query).
const HEADER_PARAMETERS: &[&str] = &["Idempotency-Key"];

/// The `Retry-After` of a 503, in seconds.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// An error and its sources, `: `-separated (anyhow's `{:#}`, for any error).
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Whether the client or the server is to blame; decides what the answer may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blame {
    /// The request was wrong; the error objects say how.
    Client,
    /// Something failed on our side; the answer carries only the request id.
    Server,
}

/// The error answer of any route: one or more error objects and the status they
/// share. Built from request problems directly, from use-case errors through their
/// `From` impls (one mapping per use-case error), and from poem's own errors by
/// [`ApiError::from_poem`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    status: StatusCode,
    errors: Vec<ErrorObject>,
    blame: Blame,
    www_authenticate: Option<&'static str>,
    retry_after: Option<u32>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.first() {
            Some(first) => write!(
                f,
                "{} {}: {}",
                self.status.as_u16(),
                first.code,
                first.detail
            ),
            None => write!(f, "{}", self.status),
        }
    }
}

impl From<ErrorObject> for ApiError {
    fn from(error: ErrorObject) -> Self {
        Self::from_objects(vec![error])
    }
}

/// The one mapping from use-case failures to answers: the failure's kind gives the
/// status, its code and field the error object, its `Display` the detail. Server-side
/// failures are logged with their whole cause chain and say nothing more.
impl<E: UseCaseError> From<E> for ApiError {
    fn from(error: E) -> Self {
        let failure = error.failure();
        let (status, title) = match failure.kind {
            FailureKind::Unauthenticated => {
                return Self::unauthenticated(
                    "This operation needs an access token (Authorization: Bearer) or a valid \
                     X-API-Key.",
                );
            }
            FailureKind::Forbidden => return Self::forbidden(),
            FailureKind::Rejected => {
                return Self::rejected_credentials(failure.code, error.to_string());
            }
            FailureKind::Unavailable => return Self::unavailable(&error),
            FailureKind::Internal => {
                return Self::internal("a use case failed", &anyhow::Error::new(error));
            }
            FailureKind::NotFound => (StatusCode::NOT_FOUND, "Not found"),
            FailureKind::Conflict => (StatusCode::CONFLICT, "Conflict"),
            FailureKind::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid request"),
        };
        let mut object = ErrorObject::new(status, failure.code, title, error.to_string());
        if let Some((name, id)) = failure.subject {
            object = object.about(name, id);
        }
        Self::from(match failure.field {
            None => object,
            Some(Field::Value(name)) => {
                object.at_pointer(format!("/data/attributes/{}", escape_pointer_token(name)))
            }
            Some(Field::Reference(name)) => object.at_pointer(format!(
                "/data/relationships/{}",
                escape_pointer_token(name)
            )),
            Some(Field::Item {
                list,
                index,
                member,
            }) => object.at_pointer(format!(
                "/data/attributes/{}/{index}/{}",
                escape_pointer_token(list),
                escape_pointer_token(member)
            )),
        })
    }
}

impl ApiError {
    /// An answer made of several client errors. The status is theirs when they agree,
    /// else the most general one of their class (400 for 4xx), as JSON:API asks.
    ///
    /// # Panics
    /// Never; an empty list gives a plain 400.
    pub fn from_objects(errors: Vec<ErrorObject>) -> Self {
        let status = match errors.split_first() {
            None => StatusCode::BAD_REQUEST,
            Some((first, rest)) if rest.iter().all(|e| e.status == first.status) => first.status,
            Some((first, _)) if first.status.is_server_error() => StatusCode::INTERNAL_SERVER_ERROR,
            Some(_) => StatusCode::BAD_REQUEST,
        };
        let errors = if errors.is_empty() {
            vec![ErrorObject::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "Bad request",
                "The request is not valid.",
            )]
        } else {
            errors
        };
        Self {
            status,
            errors,
            blame: Blame::Client,
            www_authenticate: None,
            retry_after: None,
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error objects.
    pub fn errors(&self) -> &[ErrorObject] {
        &self.errors
    }

    /// `(status, code, source)` of each error object, the source as its pointer,
    /// parameter or header name: what tests compare.
    pub fn summary(&self) -> Vec<(u16, &'static str, String)> {
        self.errors
            .iter()
            .map(|error| {
                let source = match &error.source {
                    Some(ErrorSource::Pointer(pointer)) => pointer.clone(),
                    Some(ErrorSource::Parameter(parameter)) => parameter.clone(),
                    Some(ErrorSource::Header(header)) => (*header).to_owned(),
                    None => String::new(),
                };
                (error.status.as_u16(), error.code, source)
            })
            .collect()
    }

    /// 400: the request is wrong in a way no other code describes better.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ErrorObject {
        ErrorObject::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
    }

    /// 400 about a query parameter.
    pub fn bad_parameter(parameter: impl Into<String>, detail: impl Into<String>) -> ErrorObject {
        ErrorObject::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "Invalid query parameter",
            detail,
        )
        .at_parameter(parameter)
    }

    /// 401: writes need credentials (a bearer access token or the `X-API-Key`).
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        let mut error = Self::from(
            ErrorObject::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                detail,
            )
            .at_header("X-API-Key"),
        );
        error.www_authenticate = Some(WWW_AUTHENTICATE_CHALLENGES);
        error
    }

    /// 401: the bearer token is invalid, expired, or not an access token.
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        let mut error = Self::from(
            ErrorObject::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "Invalid access token",
                detail,
            )
            .at_header("Authorization"),
        );
        error.www_authenticate = Some(WWW_AUTHENTICATE_INVALID_TOKEN);
        error
    }

    /// 401 for credentials sent in the request document (log-in, refresh tokens):
    /// `code` and `detail` say what, the challenge says how to authenticate.
    pub fn rejected_credentials(code: &'static str, detail: impl Into<String>) -> Self {
        let mut error = Self::from(ErrorObject::new(
            StatusCode::UNAUTHORIZED,
            code,
            "Authentication failed",
            detail,
        ));
        error.www_authenticate = Some(WWW_AUTHENTICATE_CHALLENGES);
        error
    }

    /// 429: too many attempts; try again after `retry_after_seconds`.
    pub fn too_many_requests(retry_after_seconds: u32) -> Self {
        let mut error = Self::from(ErrorObject::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many requests",
            format!("Too many attempts; try again in {retry_after_seconds} s."),
        ));
        error.retry_after = Some(retry_after_seconds);
        error
    }

    /// 403: the caller is known but may not do this.
    pub fn forbidden() -> Self {
        Self::from(ErrorObject::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            "This account may not perform this operation.",
        ))
    }

    /// 404 for a resource that does not exist.
    pub fn not_found(resource: &str, id: impl fmt::Display) -> Self {
        Self::from(ErrorObject::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
            format!("There is no {resource} with id {id}."),
        ))
    }

    /// 404 for a URL that names no route.
    pub fn route_not_found() -> Self {
        Self::from(ErrorObject::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
            "There is nothing at this URL.",
        ))
    }

    /// 406: the `Accept` header rules out `application/vnd.api+json`.
    pub fn not_acceptable() -> Self {
        Self::from(
            ErrorObject::new(
                StatusCode::NOT_ACCEPTABLE,
                "not_acceptable",
                "Not acceptable",
                "This API answers only with application/vnd.api+json without media type \
                 parameters; the Accept header rules it out.",
            )
            .at_header("Accept"),
        )
    }

    /// 415: the body is not `application/vnd.api+json` without parameters.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::from(
            ErrorObject::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                detail,
            )
            .at_header("Content-Type"),
        )
    }

    /// 413: the body is larger than `limit` bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::from(ErrorObject::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
            format!("Request bodies may be at most {limit} bytes."),
        ))
    }

    /// 500: something failed on our side. The cause is logged here with the request
    /// id; the client gets only the id.
    pub fn internal(context: &str, error: &anyhow::Error) -> Self {
        tracing::error!(
            request_id = current_request_id().as_deref().unwrap_or("-"),
            error = format!("{error:#}"),
            "{context}"
        );
        Self::server(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error",
            "The server could not complete the request. Quote the request id when reporting this.",
        )
    }

    /// 503 with `Retry-After`: a dependency (database, cache, another service) could
    /// not be used. Logged with its cause chain, like [`ApiError::internal`]; the
    /// client learns only that it may retry.
    pub fn unavailable(error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::warn!(
            request_id = current_request_id().as_deref().unwrap_or("-"),
            error = %Chain(error),
            "a dependency is unavailable"
        );
        let mut answer = Self::server(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service unavailable",
            "A service this request needs is not available right now. Try again later.",
        );
        answer.retry_after = Some(RETRY_AFTER_SECONDS);
        answer
    }

    fn server(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            errors: vec![ErrorObject::new(status, code, title, detail)],
            blame: Blame::Server,
            www_authenticate: None,
            retry_after: None,
        }
    }

    /// The JSON:API error answer of any error poem or poem-openapi produced (routing,
    /// extractors, body reading) — and of our own, passed through unchanged.
    pub fn from_poem(error: poem::Error) -> Self {
        use poem::error::{MethodNotAllowedError, NotFoundError, ReadBodyError, SizedLimitError};
        use poem_openapi::error::{ContentTypeError, ParseParamError, ParseRequestPayloadError};

        if error.is::<ApiError>() {
            return match error.downcast::<ApiError>() {
                Ok(api) => api,
                Err(other) => Self::internal("unreadable error", &anyhow::anyhow!("{other}")),
            };
        }
        if error.is::<NotFoundError>() {
            return Self::route_not_found();
        }
        if error.is::<MethodNotAllowedError>() {
            return Self::method_not_allowed();
        }
        if let Some(param) = error.downcast_ref::<ParseParamError>() {
            if let Some(header) = HEADER_PARAMETERS
                .iter()
                .find(|header| header.eq_ignore_ascii_case(param.name))
            {
                return Self::from(
                    ErrorObject::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_header",
                        "Invalid header",
                        format!(
                            "{header} must be 1 to 255 visible ASCII characters ({}).",
                            param.reason
                        ),
                    )
                    .at_header(header),
                );
            }
            return Self::from(Self::bad_parameter(param.name, param.reason.clone()));
        }
        if let Some(content) = error.downcast_ref::<ContentTypeError>() {
            return Self::unsupported_media_type(content.to_string());
        }
        if error.is::<ParseRequestPayloadError>() {
            return Self::from(
                Self::bad_request("malformed_json", "The request body is not valid JSON.")
                    .at_pointer(""),
            );
        }
        if let Some(ReadBodyError::PayloadTooLarge) = error.downcast_ref::<ReadBodyError>() {
            return Self::payload_too_large(super::MAX_BODY_BYTES);
        }
        if let Some(SizedLimitError::PayloadTooLarge) = error.downcast_ref::<SizedLimitError>() {
            return Self::payload_too_large(super::MAX_BODY_BYTES);
        }
        let status = error.status();
        if status.is_server_error() {
            return Self::internal("request failed", &anyhow::anyhow!("{error}"));
        }
        Self::from_status(status)
    }

    /// A generic error for a status produced outside our handlers (used when a
    /// non-JSON:API error response must be rewritten).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::route_not_found(),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(),
            StatusCode::PAYLOAD_TOO_LARGE => Self::payload_too_large(super::MAX_BODY_BYTES),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::unsupported_media_type(
                "Request bodies must be application/vnd.api+json without media type parameters.",
            ),
            StatusCode::NOT_ACCEPTABLE => Self::not_acceptable(),
            StatusCode::UNAUTHORIZED => Self::unauthenticated("A valid X-API-Key is required."),
            StatusCode::FORBIDDEN => Self::forbidden(),
            status if status.is_server_error() => Self::server(
                status,
                "internal_error",
                "Internal server error",
                "The server could not complete the request. Quote the request id when reporting this.",
            ),
            status => Self::from(ErrorObject::new(
                status,
                "bad_request",
                "Bad request",
                status
                    .canonical_reason()
                    .unwrap_or("The request was refused.")
                    .to_owned(),
            )),
        }
    }

    /// 405: the route exists but not with this method.
    pub fn method_not_allowed() -> Self {
        Self::from(ErrorObject::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
            "This URL does not support this HTTP method.",
        ))
    }

    /// The JSON:API error document for this error, with `request_id` in `meta` when the
    /// server is to blame.
    pub fn to_response_with(&self, request_id: Option<&str>) -> Response {
        let document = ErrorDocument {
            errors: &self.errors,
            request_id: match self.blame {
                Blame::Server => request_id,
                Blame::Client => None,
            },
        };
        let body = serde_json::to_vec(&document).unwrap_or_else(|_| {
            br#"{"errors":[{"status":"500","code":"internal_error","title":"Internal server error"}]}"#
                .to_vec()
        });
        let mut response = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, JSON_API)
            .body(body);
        if let Some(challenge) = self.www_authenticate {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        self.to_response_with(current_request_id().as_deref())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.as_response()
    }
}

/// `{"errors": [...], "meta": {"requestId": ...}}`.
struct ErrorDocument<'a> {
    errors: &'a [ErrorObject],
    request_id: Option<&'a str>,
}

impl Serialize for ErrorDocument<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let errors: Vec<ErrorObjectJson<'_>> = self
            .errors
            .iter()
            .map(|error| ErrorObjectJson {
                error,
                request_id: self.request_id,
            })
            .collect();
        map.serialize_entry("errors", &errors)?;
        if let Some(id) = self.request_id {
            map.serialize_entry("meta", &RequestIdMeta { request_id: id })?;
        }
        map.end()
    }
}

struct ErrorObjectJson<'a> {
    error: &'a ErrorObject,
    request_id: Option<&'a str>,
}

impl Serialize for ErrorObjectJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let error = self.error;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("status", error.status.as_str())?;
        map.serialize_entry("code", error.code)?;
        map.serialize_entry("title", error.title)?;
        map.serialize_entry("detail", &error.detail)?;
        if let Some(source) = &error.source {
            let (key, value) = match source {
                ErrorSource::Pointer(pointer) => ("pointer", pointer.as_str()),
                ErrorSource::Parameter(parameter) => ("parameter", parameter.as_str()),
                ErrorSource::Header(header) => ("header", *header),
            };
            map.serialize_entry("source", &Source(key, value))?;
        }
        if self.request_id.is_some() || error.subject.is_some() {
            map.serialize_entry(
                "meta",
                &ErrorMeta {
                    request_id: self.request_id,
                    subject: error.subject.as_deref(),
                },
            )?;
        }
        map.end()
    }
}

/// An error object's `meta`: the request id, and the resource at fault.
struct ErrorMeta<'a> {
    request_id: Option<&'a str>,
    subject: Option<&'a (&'static str, String)>,
}

impl Serialize for ErrorMeta<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(id) = self.request_id {
            map.serialize_entry("requestId", id)?;
        }
        if let Some((name, value)) = self.subject {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A one-member `source` object.
struct Source<'a>(&'static str, &'a str);

impl Serialize for Source<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, self.1)?;
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestIdMeta<'a> {
    request_id: &'a str,
}

/// Escapes one JSON Pointer reference token (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn escape_pointer_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(error: &ApiError, request_id: Option<&str>) -> serde_json::Value {
        let response = error.to_response_with(request_id);
        let bytes = futures::executor::block_on(response.into_body().into_vec()).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn client_errors_carry_source_and_no_request_id() {
        let error = ApiError::from(
            ErrorObject::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                "Invalid value",
                "price must be greater than 0",
            )
            .at_pointer("/data/attributes/price"),
        );
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let json = body(&error, Some("req-1"));
        assert_eq!(
            json,
            serde_json::json!({"errors": [{
                "status": "422", "code": "invalid_value", "title": "Invalid value",
                "detail": "price must be greater than 0",
                "source": {"pointer": "/data/attributes/price"}
            }]})
        );
    }

    #[test]
    fn internal_errors_hide_the_cause_and_carry_the_request_id() {
        let error = ApiError::internal(
            "listing",
            &anyhow::anyhow!("connection refused to 10.0.0.7"),
        );
        let json = body(&error, Some("req-42"));
        let text = json.to_string();
        assert!(!text.contains("10.0.0.7"));
        assert_eq!(json["meta"]["requestId"], "req-42");
        assert_eq!(json["errors"][0]["meta"]["requestId"], "req-42");
        assert_eq!(json["errors"][0]["status"], "500");
    }

    #[test]
    fn mixed_statuses_become_the_general_class_code() {
        let error = ApiError::from_objects(vec![
            ErrorObject::new(StatusCode::UNPROCESSABLE_ENTITY, "a", "A", "a"),
            ErrorObject::new(StatusCode::FORBIDDEN, "b", "B", "b"),
        ]);
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        let same = ApiError::from_objects(vec![
            ErrorObject::new(StatusCode::UNPROCESSABLE_ENTITY, "a", "A", "a"),
            ErrorObject::new(StatusCode::UNPROCESSABLE_ENTITY, "b", "B", "b"),
        ]);
        assert_eq!(same.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn poem_errors_become_json_api_errors() {
        let not_found = ApiError::from_poem(poem::error::NotFoundError.into());
        assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
        let method = ApiError::from_poem(poem::error::MethodNotAllowedError.into());
        assert_eq!(method.status(), StatusCode::METHOD_NOT_ALLOWED);
        let too_large = ApiError::from_poem(poem::error::ReadBodyError::PayloadTooLarge.into());
        assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let ours = ApiError::from_poem(ApiError::not_acceptable().into());
        assert_eq!(ours, ApiError::not_acceptable());
        let response = ApiError::from_poem(poem::Error::from_status(StatusCode::CONFLICT))
            .to_response_with(None);
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.content_type(), Some(JSON_API));
    }

    #[test]
    fn unauthenticated_answers_say_how_to_authenticate() {
        let response = ApiError::unauthenticated("missing key").to_response_with(None);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            WWW_AUTHENTICATE_CHALLENGES
        );
        let response = ApiError::invalid_token("expired").to_response_with(None);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            WWW_AUTHENTICATE_INVALID_TOKEN
        );
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
        assert_eq!(escape_pointer_token("plain"), "plain");
    }
}
