//! Request and response payloads in `application/vnd.api+json`.
//!
//! poem-openapi's `Json<T>` is fixed to `application/json`, so JSON:API needs its own
//! payload types. They implement poem-openapi's traits so the OpenAPI document still
//! describes every route, with the JSON:API media type and schemas derived from the
//! resource descriptions:
//!
//! - [`JsonApiBody<W>`]: the request document of the write operation `W`, checked for
//!   media type (415) and size (413) and parsed as raw JSON (400 when malformed), then
//!   read member by member with [`JsonApiBody::read`].
//! - [`JsonApi<S>`] (200), [`Created<S>`] (201 + `Location`), [`NoContent`] (204):
//!   answers whose body is serialised once, straight from the resource objects; the
//!   constructors tie the schema `S` to the resource type of the data.

use std::marker::PhantomData;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Request, RequestBody, Response};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaRequest, MetaResponse, MetaResponses, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions};
use serde::Serialize;

use super::body::{Reader, RequestDocument, Write};
use super::document::{Document, ListDocument, SingleDocument};
use super::error::{ApiError, ErrorObject};
use super::media_type::{JSON_API, check_content_type};
use super::query::ListLinks;
use super::query::{Fields, ParsedQuery};
use super::resource::{Includable, Resource, ResourceObject};
use super::schema::{ErrorDocumentSchema, Schema};
use super::strict_json;
use emporium_domain::Page;

/// The largest request body accepted: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A refused body that declares at most this many bytes is read and dropped before
/// the 413 goes out (see [`drain`]); a larger one is not.
const MAX_DRAINED_BYTES: u64 = 8 * 1024 * 1024;
/// How long draining a refused body may take.
const MAX_DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// The request document of the write operation `W`, parsed as raw JSON.
pub struct JsonApiBody<W> {
    value: serde_json::Value,
    _write: PhantomData<fn() -> W>,
}

impl<W: Write> JsonApiBody<W> {
    /// Wraps an already parsed document (tests and internal callers).
    pub fn from_value(value: serde_json::Value) -> Self {
        Self {
            value,
            _write: PhantomData,
        }
    }

    /// Starts reading the document as `W` describes it; `url_id` is the id in the URL
    /// of an update.
    pub fn read(&self, url_id: Option<uuid::Uuid>) -> Result<Reader<'_, W>, ApiError> {
        Reader::new(&self.value, url_id)
    }
}

type BodySchema<W> = Schema<RequestDocument<W>>;

impl<W: Write> Payload for JsonApiBody<W> {
    const CONTENT_TYPE: &'static str = JSON_API;

    fn check_content_type(content_type: &str) -> bool {
        check_content_type(content_type).is_ok()
    }

    fn schema_ref() -> MetaSchemaRef {
        BodySchema::<W>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        BodySchema::<W>::register(registry);
    }
}

impl<W: Write> ParsePayload for JsonApiBody<W> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        read_document(request, body)
            .await
            .map(Self::from_value)
            .map_err(Into::into)
    }
}

impl<'a, W: Write> ApiExtractor<'a> for JsonApiBody<W> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        BodySchema::<W>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: Some("A JSON:API document (application/vnd.api+json, at most 1 MiB)."),
            content: vec![MetaMediaType {
                content_type: JSON_API,
                schema: BodySchema::<W>::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.headers().get(header::CONTENT_TYPE) {
            None => {
                return Err(ApiError::unsupported_media_type(format!(
                    "Send the request body with Content-Type: {JSON_API}."
                ))
                .into());
            }
            Some(value) => {
                let value = value.to_str().unwrap_or("");
                if let Err(reason) = check_content_type(value) {
                    return Err(ApiError::unsupported_media_type(reason).into());
                }
            }
        }
        <Self as ParsePayload>::from_request(request, body).await
    }
}

/// The optional request document of an action route (`/cancel`, …): no body at all
/// (no `Content-Type`, nothing sent) is `None`; anything else must be a document of
/// `W`, checked as [`JsonApiBody`] checks it.
pub struct OptionalBody<W>(pub Option<JsonApiBody<W>>);

impl<W: Write> OptionalBody<W> {
    /// Checks a document of an action that takes no members: when one was sent, it
    /// must be a valid `W` document for `url_id` (the id of the URL).
    pub fn check(&self, url_id: uuid::Uuid) -> Result<(), ApiError> {
        match &self.0 {
            Some(body) => body.read(Some(url_id))?.finish(|| Some(())),
            None => Ok(()),
        }
    }
}

impl<'a, W: Write> ApiExtractor<'a> for OptionalBody<W> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        BodySchema::<W>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: Some(
                "Optional: nothing, or a JSON:API document (application/vnd.api+json).",
            ),
            content: vec![MetaMediaType {
                content_type: JSON_API,
                schema: BodySchema::<W>::schema_ref(),
            }],
            required: false,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let headers = request.headers();
        let declared_empty = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_none_or(|length| length.trim() == "0");
        let chunked = headers.contains_key(header::TRANSFER_ENCODING);
        if !headers.contains_key(header::CONTENT_TYPE) && declared_empty && !chunked {
            return Ok(Self(None));
        }
        <JsonApiBody<W> as ApiExtractor>::from_request(request, body, param_opts)
            .await
            .map(|document| Self(Some(document)))
    }
}

/// Reads and drops a refused body that the client is still sending, so that it reads
/// the 413 rather than a reset connection (closing a socket that holds unread data
/// resets it, often before the client has read the answer). Bounded by
/// [`MAX_DRAINED_BYTES`] and [`MAX_DRAIN_TIME`]; past either the connection just
/// closes.
async fn drain(body: &mut RequestBody) {
    use futures::StreamExt;
    let Ok(body) = body.take() else {
        return;
    };
    let mut chunks = body.into_bytes_stream();
    let discard = async {
        let mut read = 0u64;
        while let Some(Ok(chunk)) = chunks.next().await {
            read += chunk.len() as u64;
            if read > MAX_DRAINED_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(MAX_DRAIN_TIME, discard).await;
}

/// Reads at most [`MAX_BODY_BYTES`] and parses them as JSON.
async fn read_document(
    request: &Request,
    body: &mut RequestBody,
) -> Result<serde_json::Value, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let Some(length) = declared.filter(|length| *length > MAX_BODY_BYTES as u64) {
        if length <= MAX_DRAINED_BYTES {
            drain(body).await;
        }
        return Err(ApiError::payload_too_large(MAX_BODY_BYTES));
    }
    let body = body.take().map_err(|_| {
        ApiError::from(
            ApiError::bad_request("missing_body", "A request document is required.").at_pointer(""),
        )
    })?;
    let bytes = body
        .into_bytes_limit(MAX_BODY_BYTES)
        .await
        .map_err(|error| match error {
            poem::error::ReadBodyError::PayloadTooLarge => {
                ApiError::payload_too_large(MAX_BODY_BYTES)
            }
            _ => ApiError::from(
                ApiError::bad_request("unreadable_body", "The request body could not be read.")
                    .at_pointer(""),
            ),
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::from(
            ApiError::bad_request("missing_body", "A request document is required.").at_pointer(""),
        ));
    }
    strict_json::from_slice(&bytes).map_err(|error| {
        let problem = if error.is_data() {
            ErrorObject::new(
                StatusCode::BAD_REQUEST,
                "duplicate_member",
                "Duplicate member",
                format!("The request document is ambiguous: {error}."),
            )
        } else {
            ErrorObject::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "Malformed JSON",
                format!("The request body is not valid JSON: {error}."),
            )
        };
        ApiError::from(problem.at_pointer(""))
    })
}

/// Serialises a document, mapping the (never expected) failure to a 500.
fn to_body(document: &impl Serialize) -> Result<Vec<u8>, ApiError> {
    // Most documents fit: one allocation instead of a growing vector.
    let mut body = Vec::with_capacity(1024);
    serde_json::to_writer(&mut body, document)
        .map_err(|error| ApiError::internal("serialising a response document", &error.into()))?;
    Ok(body)
}

fn json_api_response(status: StatusCode, body: Vec<u8>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, HeaderValue::from_static(JSON_API))
        .body(body)
}

fn media_types<S: Type>() -> Vec<MetaMediaType> {
    vec![MetaMediaType {
        content_type: JSON_API,
        schema: S::schema_ref(),
    }]
}

/// A 200 answer with a JSON:API document described by `S`.
pub struct JsonApi<S> {
    body: Vec<u8>,
    _schema: PhantomData<fn() -> S>,
}

impl<S> JsonApi<S> {
    /// Serialises `document`.
    pub fn new(document: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Self {
            body: to_body(document)?,
            _schema: PhantomData,
        })
    }
}

impl<R: Resource> JsonApi<SingleDocument<R>> {
    /// A document holding `object`.
    pub fn single(object: ResourceObject<'_, R>) -> Result<Self, ApiError> {
        Self::new(&Document::<_, ()>::new(object, Vec::new()))
    }

    /// The bytes of a document holding `object`, showing every field: what
    /// [`rendered`](Self::rendered) answers later.
    pub fn render(object: ResourceObject<'_, R>) -> anyhow::Result<Vec<u8>> {
        let mut body = Vec::with_capacity(1024);
        serde_json::to_writer(&mut body, &Document::<_, ()>::new(object, Vec::new()))?;
        Ok(body)
    }

    /// A document [`render`](Self::render) made, maybe on an earlier request.
    pub fn rendered(body: Vec<u8>) -> Self {
        Self {
            body,
            _schema: PhantomData,
        }
    }

    /// A document holding `object` and the resources it `included` (of the types
    /// `R::Included` names).
    pub fn compound<'f>(
        object: ResourceObject<'f, R>,
        included: Vec<<R::Included as Includable>::Item<'f>>,
    ) -> Result<Self, ApiError> {
        Self::new(&Document::new(object, included))
    }
}

impl<R: Resource> JsonApi<ListDocument<R>> {
    /// Every item of a short, unpaged list at `path` (an order's audit trail).
    pub fn all(items: Vec<R::Model>, path: &str) -> Result<Self, ApiError> {
        let total = items.len() as u64;
        let data: Vec<ResourceObject<'_, R>> = items
            .into_iter()
            .map(|model| R::object(model, Fields::ALL))
            .collect();
        let links = ListLinks {
            self_: path.to_owned(),
            first: path.to_owned(),
            prev: None,
            next: None,
            last: path.to_owned(),
        };
        Self::new(&Document::<_, ()>::page(data, Vec::new(), links, total))
    }

    /// `page` of a list, showing the fields `query` asks for, with links to the other
    /// pages (keeping the query's other parameters) and the resources its items
    /// `include`.
    pub fn list<I: Serialize>(
        page: Page<R::Model>,
        included: Vec<I>,
        query: &ParsedQuery,
    ) -> Result<Self, ApiError> {
        let links = query.list_links(R::PATH.unwrap_or_default(), &page);
        let fields = query.fields_of::<R>();
        let total = page.total;
        let data: Vec<ResourceObject<'_, R>> = page
            .items
            .into_iter()
            .map(|model| R::object(model, fields))
            .collect();
        Self::new(&Document::page(data, included, links, total))
    }
}

impl<S: Type> IntoResponse for JsonApi<S> {
    fn into_response(self) -> Response {
        json_api_response(StatusCode::OK, self.body)
    }
}

impl<S: Type> ApiResponse for JsonApi<S> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "OK",
                status: Some(200),
                status_range: None,
                content: media_types::<S>(),
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        S::register(registry);
    }
}

/// A 201 answer: the created resource, with `Location` equal to its `links.self`.
pub struct Created<S> {
    body: Vec<u8>,
    location: String,
    _schema: PhantomData<fn() -> S>,
}

impl<R: Resource> Created<SingleDocument<R>> {
    /// A document holding the new `object`; `Location` is its `links.self`.
    pub fn new(object: ResourceObject<'_, R>) -> Result<Self, ApiError> {
        let location = object.self_link().unwrap_or_default();
        Ok(Self {
            body: to_body(&Document::<_, ()>::new(object, Vec::new()))?,
            location,
            _schema: PhantomData,
        })
    }
}

impl<R: Resource> Created<SingleDocument<R>> {
    /// A document holding the new `object` and the resources it `included` (of the
    /// types `R::Included` names).
    pub fn compound<'f>(
        object: ResourceObject<'f, R>,
        included: Vec<<R::Included as Includable>::Item<'f>>,
    ) -> Result<Self, ApiError> {
        let location = object.self_link().unwrap_or_default();
        Ok(Self {
            body: to_body(&Document::new(object, included))?,
            location,
            _schema: PhantomData,
        })
    }
}

/// What a write that creates or changes answers: 201 with `Location` when it made a
/// new resource, 200 when it changed an existing one.
pub enum Saved<S> {
    /// A new resource.
    Created(Created<S>),
    /// An existing resource, changed.
    Updated(JsonApi<S>),
}

impl<S: Type> IntoResponse for Saved<S> {
    fn into_response(self) -> Response {
        match self {
            Self::Created(created) => created.into_response(),
            Self::Updated(updated) => updated.into_response(),
        }
    }
}

impl<S: Type> ApiResponse for Saved<S> {
    fn meta() -> MetaResponses {
        let mut responses = Created::<S>::meta().responses;
        responses.extend(JsonApi::<S>::meta().responses);
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        S::register(registry);
    }
}

impl<S: Type> IntoResponse for Created<S> {
    fn into_response(self) -> Response {
        let mut response = json_api_response(StatusCode::CREATED, self.body);
        if let Ok(location) = HeaderValue::from_str(&self.location) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

impl<S: Type> ApiResponse for Created<S> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Created; `Location` is the new resource's `links.self`.",
                status: Some(201),
                status_range: None,
                content: media_types::<S>(),
                headers: vec![MetaHeader {
                    name: "Location".to_owned(),
                    description: Some("The URL of the new resource.".to_owned()),
                    required: true,
                    deprecated: false,
                    schema: String::schema_ref(),
                }],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        S::register(registry);
    }
}

/// A 202 answer: the request was taken, and what came of it is not told (a
/// password reset answers alike whether or not the address has an account).
pub struct Accepted;

/// The document of a 202 answer.
#[derive(serde::Serialize, poem_openapi::Object)]
#[oai(rename = "AcceptedDocument")]
pub struct AcceptedDocument {
    /// `{"status": "accepted"}`.
    pub meta: AcceptedMeta,
}

/// The `meta` of a 202 answer.
#[derive(serde::Serialize, poem_openapi::Object)]
#[oai(rename = "AcceptedMeta")]
pub struct AcceptedMeta {
    /// Always `accepted`.
    pub status: String,
}

impl IntoResponse for Accepted {
    fn into_response(self) -> Response {
        Response::builder()
            .status(StatusCode::ACCEPTED)
            .content_type(JSON_API)
            .body(r#"{"meta":{"status":"accepted"}}"#)
    }
}

impl ApiResponse for Accepted {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Accepted; what came of it is not told.",
                status: Some(202),
                status_range: None,
                content: media_types::<AcceptedDocument>(),
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        AcceptedDocument::register(registry);
    }
}

/// A 204 answer without a body.
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        Response::builder().status(StatusCode::NO_CONTENT).finish()
    }
}

impl ApiResponse for NoContent {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Done; nothing to return.",
                status: Some(204),
                status_range: None,
                content: vec![],
                headers: vec![],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "A JSON:API error document: `status`, `code`, `title`, `detail` and \
                              `source` per error; server-side failures carry `meta.requestId`.",
                status: None,
                status_range: None,
                content: media_types::<ErrorDocumentSchema>(),
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        ErrorDocumentSchema::register(registry);
    }
}
