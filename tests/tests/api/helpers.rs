//! Test support: servers started in-process on `127.0.0.1:0`, an HTTP client that
//! speaks JSON:API, and assertions on the shape of every answer.

use std::net::SocketAddr;
use std::time::Duration;

use emporium::config::{Config, ServiceSet};
use emporium::server::RunningServer;
use emporium_adapters::testing::{self, TempDir};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use uuid::Uuid;

/// The JSON:API media type.
pub const JSON_API: &str = "application/vnd.api+json";

/// How long any one request may take before the test fails (a hang is a bug).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Installs the rustls provider (reqwest is built without one).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The embedded configuration (SQLite, in-process cache and lookups) in `dir`.
pub fn embedded_config(dir: &TempDir) -> Config {
    Config::embedded(dir.path().to_path_buf())
}

/// PostgreSQL (a fresh database, also holding inventory) and Redis for the cache.
/// `None` (after a SKIP line) when a server is not configured.
pub async fn postgres_redis_config(dir: &TempDir) -> Option<Config> {
    let database_url = testing::postgres_database().await?;
    let redis_url = testing::redis_url()?;
    Some(Config {
        database_url,
        redis_url: Some(redis_url),
        ..embedded_config(dir)
    })
}

/// The production configuration: a fresh PostgreSQL database, a fresh MongoDB
/// database for inventory and Redis for the cache. `None` (after a SKIP line) when a
/// server is not configured.
pub async fn external_config(dir: &TempDir) -> Option<Config> {
    let (mongo_url, mongo_database) = testing::mongo_database()?;
    let config = postgres_redis_config(dir).await?;
    Some(Config {
        mongo_url: Some(mongo_url),
        mongo_database,
        ..config
    })
}

/// A free port on 127.0.0.1 (for a server whose address another one must know before
/// it starts).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("local address").port()
}

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The API key writes need.
    pub api_key: String,
    /// The configuration it runs with.
    pub config: Config,
    client: reqwest::Client,
    server: Option<RunningServer>,
}

impl TestApp {
    /// Starts `services` with `config` on a free port.
    pub async fn spawn(config: Config, services: ServiceSet) -> TestApp {
        Self::spawn_on(config, services, "127.0.0.1:0".parse().expect("address")).await
    }

    /// Starts `services` with `config` on `addr`.
    pub async fn spawn_on(config: Config, services: ServiceSet, addr: SocketAddr) -> TestApp {
        install_crypto();
        let api_key = config
            .api_key
            .clone()
            .expect("test configurations carry their API key");
        let server = emporium::server::spawn(config.clone(), services, addr)
            .await
            .unwrap_or_else(|error| panic!("starting the {services} server: {error:#}"));
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("building the HTTP client");
        TestApp {
            base: format!("http://{}", server.addr),
            api_key,
            config,
            client,
            server: Some(server),
        }
    }

    /// Stops the server and waits until its listener is closed.
    pub async fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// A request to `path` that accepts JSON:API; nothing else set.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.bare_request(method, path).header("Accept", JSON_API)
    }

    /// A request to `path` without any header (`RequestBuilder::header` appends, so
    /// tests of headers start from here).
    pub fn bare_request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// A write carrying the API key and, when given, a JSON:API document.
    pub fn write(&self, method: Method, path: &str, document: Option<&Value>) -> RequestBuilder {
        let request = self
            .request(method, path)
            .header("X-API-Key", &self.api_key);
        with_document(request, document)
    }

    /// A request without credentials, carrying `document` when given.
    pub async fn anonymous(&self, method: Method, path: &str, document: Option<&Value>) -> Reply {
        send(with_document(self.request(method, path), document)).await
    }

    /// A request with `Authorization: Bearer token`, carrying `document` when given.
    pub async fn bearer(
        &self,
        method: Method,
        path: &str,
        token: &str,
        document: Option<&Value>,
    ) -> Reply {
        let request = self
            .request(method, path)
            .header("Authorization", format!("Bearer {token}"));
        send(with_document(request, document)).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        send(self.request(Method::GET, path)).await
    }

    /// `POST path` with the API key.
    pub async fn post(&self, path: &str, document: &Value) -> Reply {
        send(self.write(Method::POST, path, Some(document))).await
    }

    /// `PATCH path` with the API key.
    pub async fn patch(&self, path: &str, document: &Value) -> Reply {
        send(self.write(Method::PATCH, path, Some(document))).await
    }

    /// `DELETE path` with the API key.
    pub async fn delete(&self, path: &str) -> Reply {
        send(self.write(Method::DELETE, path, None)).await
    }

    /// Creates a category; returns its id.
    pub async fn create_category(&self, name: &str) -> String {
        let reply = self
            .post(
                "/v1/categories",
                &json!({"data": {"type": "categories", "attributes": {"name": name}}}),
            )
            .await;
        reply.expect_status(201);
        reply.id()
    }

    /// Creates a product (optionally in `category`); returns its id.
    pub async fn create_product(&self, name: &str, price: &str, category: Option<&str>) -> String {
        let reply = self
            .post("/v1/products", &product_document(name, price, category))
            .await;
        reply.expect_status(201);
        reply.id()
    }

    /// Creates the stock record of `product` with `on_hand` units.
    pub async fn create_inventory(&self, product: &str, on_hand: i64) -> Reply {
        self.post("/v1/inventory", &inventory_document(product, on_hand))
            .await
    }

    /// Adjusts the stock of `product` by `delta`.
    pub async fn adjust(&self, product: &str, delta: Value) -> Reply {
        self.patch(
            &format!("/v1/inventory/{product}"),
            &adjust_document(product, delta),
        )
        .await
    }

    /// The on-hand quantity of `product`'s stock record (which must exist).
    pub async fn on_hand(&self, product: &str) -> i64 {
        let reply = self.get(&format!("/v1/inventory/{product}")).await;
        reply.expect_status(200);
        reply.body["data"]["attributes"]["onHand"]
            .as_i64()
            .unwrap_or_else(|| panic!("onHand is not an integer: {}", reply.text))
    }

    /// Runs `sql` directly on the server's SQL database (behind its back, e.g. to
    /// prove that a read came from the cache).
    pub async fn execute_sql(&self, sql: &str) {
        let db = Database::connect(self.config.database_url.as_str())
            .await
            .unwrap_or_else(|e| panic!("connecting to the server's database: {e}"));
        db.execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("running {sql:?}: {e}"));
        db.close().await.ok();
    }
}

/// `request` with `document` as its JSON:API body, when given.
fn with_document(request: RequestBuilder, document: Option<&Value>) -> RequestBuilder {
    match document {
        Some(document) => request
            .header("Content-Type", JSON_API)
            .body(serde_json::to_vec(document).expect("serialising a document")),
        None => request,
    }
}

/// A product create document with a unique SKU.
pub fn product_document(name: &str, price: &str, category: Option<&str>) -> Value {
    let sku = format!("SKU-{}", &Uuid::new_v4().simple().to_string()[..12]).to_uppercase();
    let mut document = json!({"data": {"type": "products", "attributes": {
        "name": name, "description": format!("{name}, porcelain"), "price": price, "sku": sku,
        "images": ["https://img.example/cup.jpg"], "active": true}}});
    if let Some(category) = category {
        document["data"]["relationships"] =
            json!({"category": {"data": {"type": "categories", "id": category}}});
    }
    document
}

/// A stock record create document.
pub fn inventory_document(product: &str, on_hand: i64) -> Value {
    json!({"data": {"type": "inventory", "attributes": {"onHand": on_hand},
        "relationships": {"product": {"data": {"type": "products", "id": product}}}}})
}

/// A stock adjustment document.
pub fn adjust_document(product: &str, delta: Value) -> Value {
    json!({"data": {"type": "inventory", "id": product, "attributes": {"quantityDelta": delta}}})
}

/// Sends `request` and reads the whole answer.
pub async fn send(request: RequestBuilder) -> Reply {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e:#}"));
    let status = response.status();
    let headers = response.headers().clone();
    let text = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("reading the body: {e:#}"));
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("the {status} answer is not JSON ({e}): {text}");
        })
    };
    Reply {
        status,
        headers,
        text,
        body,
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub text: String,
    /// The body as JSON (`null` when empty).
    pub body: Value,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Panics (showing the body) unless the status is `expected`; also checks the
    /// shape every answer shares (media type, request id, `data` xor `errors`).
    pub fn expect_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "expected {expected}, got {}: {}",
            self.status,
            self.text
        );
        self.expect_common_shape();
        self
    }

    /// Media type, `X-Request-ID`, and a JSON:API top level (unless 204).
    pub fn expect_common_shape(&self) {
        let request_id = self.header("x-request-id").unwrap_or("");
        assert!(
            !request_id.is_empty(),
            "no X-Request-ID on a {} answer",
            self.status
        );
        if self.status == StatusCode::NO_CONTENT {
            assert!(
                self.text.is_empty(),
                "a 204 answer has a body: {}",
                self.text
            );
            return;
        }
        assert_eq!(
            self.header("content-type"),
            Some(JSON_API),
            "content type of a {} answer: {}",
            self.status,
            self.text
        );
        let top = self
            .body
            .as_object()
            .unwrap_or_else(|| panic!("not a document: {}", self.text));
        assert!(
            !(top.contains_key("data") && top.contains_key("errors")),
            "a document has both data and errors: {}",
            self.text
        );
        if self.status.is_client_error() || self.status.is_server_error() {
            assert!(
                top.contains_key("errors"),
                "an error answer without errors: {}",
                self.text
            );
        }
    }

    /// The first error object of an error document answered with `status`; checks
    /// that `errors[0].status` agrees and that `code` (when given) matches.
    pub fn expect_error(&self, status: u16, code: Option<&str>) -> &Value {
        self.expect_status(status);
        let errors = self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("errors is not an array: {}", self.text));
        assert!(!errors.is_empty(), "an empty errors array: {}", self.text);
        let first = &errors[0];
        assert_eq!(
            first["status"],
            json!(status.to_string()),
            "errors[0].status (a string) must be the HTTP status: {}",
            self.text
        );
        assert!(
            first["title"].is_string(),
            "errors[0].title missing: {}",
            self.text
        );
        if let Some(code) = code {
            assert_eq!(first["code"], json!(code), "error code: {}", self.text);
        }
        first
    }

    /// The id of the primary resource.
    pub fn id(&self) -> String {
        self.body["data"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no data.id: {}", self.text))
            .to_owned()
    }

    /// `data.attributes`.
    pub fn attributes(&self) -> &Value {
        &self.body["data"]["attributes"]
    }
}
