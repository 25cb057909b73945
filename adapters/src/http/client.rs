//! The client and retry policy both HTTP lookups share: one pooled reqwest client per
//! adapter, headers, per-attempt timeout, retries with backoff, status handling and a
//! bounded body read; plus the JSON:API document envelope both parse.

use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, anyhow, bail};
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use uuid::Uuid;

use super::HttpClientConfig;
use crate::request_context::current_request_id;

/// The JSON:API media type, sent as `Accept`.
const JSON_API: &str = "application/vnd.api+json";
/// The header carrying the service API key.
static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
/// The header carrying the request id across services.
static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The largest response body accepted; lookups answer with one small resource.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much of an error answer's body is quoted in the error message.
const ERROR_BODY_QUOTE_CHARS: usize = 300;

/// A client for one service: base URL, credentials, a pooled connection and the retry
/// policy.
pub(super) struct ServiceClient {
    http: reqwest::Client,
    base_url: String,
    api_key: HeaderValue,
    backoff: ExponentialBuilder,
}

impl ServiceClient {
    /// Validates `config` and builds the client (once: it pools connections).
    pub(super) fn new(config: &HttpClientConfig) -> anyhow::Result<Self> {
        let base_url = config.base_url.trim().trim_end_matches('/').to_owned();
        let parsed = Url::parse(&base_url)
            .with_context(|| format!("invalid service base URL {:?}", config.base_url))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!(
                "service base URL {:?} must start with http:// or https://",
                config.base_url
            );
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            bail!(
                "service base URL {:?} must not have a query or fragment",
                config.base_url
            );
        }
        if config.api_key.is_empty() {
            bail!("the service API key must not be empty");
        }
        let mut api_key = HeaderValue::from_str(&config.api_key)
            .context("the service API key must be visible ASCII (it is sent as a header)")?;
        api_key.set_sensitive(true);
        if config.timeout.is_zero() {
            bail!("the service call timeout must be greater than zero");
        }

        // reqwest is built with `rustls-no-provider`: make sure a provider exists.
        // Fails only when another one was installed first, which is fine too.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("emporium/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(config.initial_backoff)
            .with_factor(2.0)
            .with_max_delay(config.max_backoff())
            .with_max_times(usize::try_from(config.max_retries).unwrap_or(usize::MAX))
            .with_jitter();
        Ok(Self {
            http,
            base_url,
            api_key,
            backoff,
        })
    }

    /// `GET {base}{path}`: the body of a 200 answer, `None` for a 404, an error for
    /// anything else once retries are exhausted or not allowed.
    pub(super) async fn get(&self, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let (status, body) = self
            .call(Method::GET, path, &[StatusCode::OK, StatusCode::NOT_FOUND])
            .await?;
        Ok((status == StatusCode::OK).then_some(body))
    }

    /// `{method} {base}{path}` (an idempotent method: attempts may repeat): the status
    /// and body of the first answer whose status is one of `expected`; an error for
    /// any other answer once retries are exhausted or not allowed.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        expected: &[StatusCode],
    ) -> anyhow::Result<(StatusCode, Vec<u8>)> {
        self.send(method, path, None, expected).await
    }

    /// Like [`call`](Self::call), with `body` (a JSON:API document) sent on every
    /// attempt. Only for calls that are idempotent: a retried attempt may repeat one
    /// whose answer was lost.
    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        expected: &[StatusCode],
    ) -> anyhow::Result<(StatusCode, Vec<u8>)> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .context("encoding the request body")?;
        let url = Url::parse(&format!("{}{path}", self.base_url))
            .with_context(|| format!("building the URL for {path}"))?;
        let request_id = request_id_header();
        let attempts = AtomicU32::new(0);
        let outcome = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(&method, &url, &request_id, body.as_deref(), expected)
                .await
        })
        .retry(self.backoff)
        .sleep(tokio::time::sleep)
        .when(|error: &AttemptError| error.retryable)
        .notify(|error: &AttemptError, wait| {
            tracing::warn!(
                %url,
                error = format!("{:#}", error.error),
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "service call failed, retrying"
            );
        })
        .await;
        outcome.map_err(|error| {
            let attempts = attempts.load(Ordering::Relaxed);
            let why = if error.retryable {
                "retries exhausted"
            } else {
                "not retryable"
            };
            error.error.context(format!(
                "{method} {url} failed after {attempts} attempt(s), {why}"
            ))
        })
    }

    /// One request and its answer.
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        request_id: &HeaderValue,
        body: Option<&[u8]>,
        expected: &[StatusCode],
    ) -> Result<(StatusCode, Vec<u8>), AttemptError> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(ACCEPT, HeaderValue::from_static(JSON_API))
            .header(&X_API_KEY, self.api_key.clone())
            .header(&X_REQUEST_ID, request_id.clone());
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static(JSON_API))
                .body(body.to_vec());
        }
        let response = request
            .send()
            .await
            .map_err(|error| AttemptError::transport(error, "sending the request"))?;
        let status = response.status();
        if expected.contains(&status) {
            return read_body(response)
                .await
                .map(|body| (status, body))
                .map_err(|error| error.context("reading the answer"));
        }
        if status.is_server_error() {
            return Err(AttemptError {
                error: anyhow!("service answered {status}{}", quote_body(response).await),
                retryable: true,
            });
        }
        Err(AttemptError {
            error: anyhow!(
                "service answered {status} (not retried){}",
                quote_body(response).await
            ),
            retryable: false,
        })
    }
}

/// Why one attempt failed, and whether another may succeed.
#[derive(Debug)]
struct AttemptError {
    error: anyhow::Error,
    retryable: bool,
}

impl AttemptError {
    /// The same failure, with what was being done.
    fn context(self, doing: &'static str) -> Self {
        Self {
            error: self.error.context(doing),
            retryable: self.retryable,
        }
    }

    /// A reqwest failure: timeouts and connection-level failures are worth a retry;
    /// builder, redirect and decoding failures are not.
    fn transport(error: reqwest::Error, doing: &str) -> Self {
        let retryable =
            error.is_timeout() || error.is_connect() || error.is_request() || error.is_body();
        let kind = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "connection failed"
        } else {
            "transport error"
        };
        Self {
            error: anyhow::Error::new(error).context(format!("{doing}: {kind}")),
            retryable,
        }
    }
}

/// Reads the whole body, refusing one larger than [`MAX_BODY_BYTES`].
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, AttemptError> {
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
    {
        return Err(AttemptError {
            error: anyhow!("answer body larger than {MAX_BODY_BYTES} bytes"),
            retryable: false,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| AttemptError::transport(error, "reading the body"))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(AttemptError {
                error: anyhow!("answer body larger than {MAX_BODY_BYTES} bytes"),
                retryable: false,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of an error answer's body, for the error message (empty when there is
/// none or it cannot be read).
async fn quote_body(response: reqwest::Response) -> String {
    match read_body(response).await {
        Ok(body) if !body.is_empty() => {
            let text = String::from_utf8_lossy(&body);
            let quoted: String = text.chars().take(ERROR_BODY_QUOTE_CHARS).collect();
            format!(": {}", quoted.trim())
        }
        _ => String::new(),
    }
}

/// The id of the request being served, or a fresh one, as a header value. The same
/// value is sent on every attempt of one lookup.
fn request_id_header() -> HeaderValue {
    current_request_id()
        .and_then(|id| HeaderValue::from_str(&id).ok())
        .unwrap_or_else(|| {
            HeaderValue::from_str(&Uuid::new_v4().to_string())
                .expect("a uuid is a valid header value")
        })
}

/// A JSON:API document with primary data.
#[derive(Debug, Deserialize)]
pub(super) struct Document<T> {
    /// The primary data.
    pub(super) data: T,
}

/// Parses a JSON:API document whose primary data is one `T`.
pub(super) fn parse_document<T: serde::de::DeserializeOwned>(body: &[u8]) -> anyhow::Result<T> {
    let document: Document<T> =
        serde_json::from_slice(body).context("the answer is not the expected JSON:API document")?;
    Ok(document.data)
}

/// Checks that a resource object is the one asked for.
pub(super) fn check_identity(
    kind: &str,
    id: &str,
    expected_kind: &str,
    expected_id: Uuid,
) -> anyhow::Result<()> {
    if kind != expected_kind {
        bail!("expected a resource of type {expected_kind:?}, got {kind:?}");
    }
    let id = Uuid::parse_str(id).with_context(|| format!("resource id {id:?} is not a uuid"))?;
    if id != expected_id {
        bail!("asked for {expected_kind} {expected_id}, got {id}");
    }
    Ok(())
}
