//! Test support, in the style of zero2prod's `spawn_app()` / `TestApp`: servers
//! started in-process on `127.0.0.1:0` ([`spawn_app`] for the embedded all-in-one
//! server on a fresh temporary directory, [`TestApp::spawn`] for any configuration
//! and service set), an HTTP client whose every request has a timeout, a request
//! builder ([`TestApp::request`] + [`send`]) with shortcuts, tokens minted with the
//! server's signing secret, and assertions on the shape of every answer ([`Reply`]).
//!
//! The server's logs are shown only when `TEST_LOG` is set (`TEST_LOG=1 cargo test`).
//!
//! Also: a client that connects from another loopback address ([`client_from`], for
//! the per-client-address limits). The TCP proxy that cuts a server's database is
//! `emporium_adapters::testing::Proxy`.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use emporium::config::{Config, ServiceSet};
use emporium::server::RunningServer;
use emporium_adapters::security::{JwtSettings, JwtTokenIssuer};
use emporium_adapters::testing::{self, TempDir};
use emporium_domain::accounts::{AccessClaims, TokenIssuer};
use emporium_domain::{Role, UserId};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use uuid::Uuid;

/// The JSON:API media type.
pub const JSON_API: &str = "application/vnd.api+json";

/// The administrator [`spawn_app`] creates at start-up ([`TestApp::signed_in`]).
pub const TEST_ADMIN_EMAIL: &str = "admin@shop.test";
/// The password of [`TEST_ADMIN_EMAIL`].
pub const TEST_ADMIN_PASSWORD: &str = "a test admin password";

/// Auth attempts per minute a server allows when the limit is not under test (more
/// than any test makes).
pub const GENEROUS_AUTH_RATE: NonZeroU32 = NonZeroU32::new(1_000).unwrap();

/// `config` with the start-up administrator ([`TEST_ADMIN_EMAIL`]) and room for a
/// test's log-ins.
pub fn with_admin(config: Config) -> Config {
    Config {
        bootstrap_admin: Some((TEST_ADMIN_EMAIL.to_owned(), TEST_ADMIN_PASSWORD.to_owned())),
        auth_rate_per_minute: GENEROUS_AUTH_RATE,
        ..config
    }
}

/// A registration document (display name "Ada").
pub fn register_document(email: &str, password: &str) -> Value {
    json!({"data": {"type": "users", "attributes":
        {"email": email, "password": password, "name": "Ada"}}})
}

/// A log-in document.
pub fn credentials(email: &str, password: &str) -> Value {
    json!({"data": {"type": "credentials", "attributes": {"email": email, "password": password}}})
}

/// A refresh (or log-out) document.
pub fn refresh_document(token: &str) -> Value {
    json!({"data": {"type": "tokens", "attributes": {"refreshToken": token}}})
}

/// The `tokens` resource of a successful log-in or refresh: (access token, refresh
/// token), checked to be bearer tokens of the default 15-minute lifetime.
pub fn token_pair(reply: &Reply) -> (String, String) {
    reply.expect_status(200);
    assert_eq!(reply.body["data"]["type"], "tokens", "{}", reply.text);
    let attributes = reply.attributes();
    assert_eq!(attributes["tokenType"], "Bearer");
    assert_eq!(attributes["expiresIn"], 900);
    let token = |name: &str| {
        attributes[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name}: {}", reply.text))
            .to_owned()
    };
    (token("accessToken"), token("refreshToken"))
}

/// The access token of a successful log-in or refresh ([`token_pair`]).
pub fn access_token_of(reply: &Reply) -> String {
    token_pair(reply).0
}

/// How long any one request may take before the test fails (a hang is a bug).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Installs the rustls provider (reqwest is built without one).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Shows the servers' logs when `TEST_LOG` is set (once per test binary); they are
/// silent otherwise.
fn init_logs() {
    static LOGS: OnceLock<emporium::telemetry::LogGuard> = OnceLock::new();
    if std::env::var_os("TEST_LOG").is_some() {
        LOGS.get_or_init(emporium::telemetry::init);
    }
}

/// A fresh HTTP client: every request times out after [`REQUEST_TIMEOUT`], redirects
/// are not followed.
pub fn client() -> reqwest::Client {
    install_crypto();
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("building the HTTP client")
}

/// A client like [`client`] whose connections come from `ip`: another client
/// address than 127.0.0.1 (Linux routes all of 127.0.0.0/8 to the loopback
/// interface, so `127.0.0.2` reaches a server listening on `127.0.0.1`).
pub fn client_from(ip: IpAddr) -> reqwest::Client {
    install_crypto();
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip)
        .build()
        .expect("building the HTTP client")
}

/// The all-in-one server on the embedded configuration in a fresh temporary
/// directory (removed when the [`TestApp`] is dropped).
pub async fn spawn_app() -> TestApp {
    let dir = TempDir::new();
    let config = Config {
        bootstrap_admin: Some((TEST_ADMIN_EMAIL.to_owned(), TEST_ADMIN_PASSWORD.to_owned())),
        ..embedded_config(&dir)
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    app._dir = Some(dir);
    app
}

/// The embedded configuration (SQLite, in-process cache and lookups) in `dir`.
pub fn embedded_config(dir: &TempDir) -> Config {
    Config::embedded(dir.path().to_path_buf())
}

/// PostgreSQL (a fresh database, also holding inventory) and Redis for the cache, the
/// carts and the event bus (under a key prefix of its own).
/// `None` (after a SKIP line) when a server is not configured.
pub async fn postgres_redis_config(dir: &TempDir) -> Option<Config> {
    let database_url = testing::postgres_database().await?;
    let redis_url = testing::redis_url()?;
    Some(Config {
        database_url,
        redis_url: Some(redis_url.clone()),
        cart_redis_url: Some(redis_url.clone()),
        bus_redis_url: Some(redis_url),
        // Tests share one Redis: each server's streams are its own.
        redis_prefix: testing::unique_prefix(),
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
    /// The configuration it runs with (`config.jwt_secret` signs its tokens).
    pub config: Config,
    client: reqwest::Client,
    server: Option<RunningServer>,
    /// The data directory [`spawn_app`] made (dropped last, after the server).
    _dir: Option<TempDir>,
}

impl TestApp {
    /// Starts `services` with `config` on a free port.
    pub async fn spawn(config: Config, services: ServiceSet) -> TestApp {
        Self::spawn_on(config, services, "127.0.0.1:0".parse().expect("address")).await
    }

    /// Starts `services` with `config` on `addr`.
    pub async fn spawn_on(config: Config, services: ServiceSet, addr: SocketAddr) -> TestApp {
        init_logs();
        install_crypto();
        let api_key = config
            .api_key
            .clone()
            .expect("test configurations carry their API key");
        let server = emporium::server::spawn(config.clone(), services, addr)
            .await
            .unwrap_or_else(|error| panic!("starting the {services} server: {error:#}"));
        TestApp {
            base: format!("http://{}", server.addr),
            api_key,
            config,
            client: client(),
            server: Some(server),
            _dir: None,
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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
        self.client.request(method, self.url(path))
    }

    /// A request without any header but these: `X-API-Key: key` when given, and
    /// `body` as `(content type, bytes)` when given (an empty content type sends no
    /// `Content-Type` header).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        key: Option<&str>,
    ) -> Reply {
        let mut request = self.bare_request(method, path);
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        if let Some((content_type, bytes)) = body {
            if !content_type.is_empty() {
                request = request.header("Content-Type", content_type);
            }
            request = request.body(bytes);
        }
        send(request).await
    }

    /// A request with just these headers (`Authorization`, …) and, when given,
    /// `document` as its JSON:API body.
    pub async fn with_headers(
        &self,
        method: Method,
        path: &str,
        document: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.bare_request(method, path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        send(with_document(request, document)).await
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

    /// A request without credentials sent by `client` (e.g. one from [`client_from`]),
    /// accepting JSON:API and carrying `document` when given.
    pub async fn anonymous_from(
        &self,
        client: &reqwest::Client,
        method: Method,
        path: &str,
        document: Option<&Value>,
    ) -> Reply {
        let request = client
            .request(method, self.url(path))
            .header("Accept", JSON_API);
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

    /// Creates a product with this SKU (named `Product <sku>`; see
    /// [`sku_product_document`]); returns its id.
    pub async fn create_product_with_sku(
        &self,
        sku: &str,
        price: &str,
        category: Option<&str>,
    ) -> String {
        let reply = self
            .post("/v1/products", &sku_product_document(sku, price, category))
            .await;
        reply.expect_status(201);
        reply.id()
    }

    /// Every product (up to 100), as listed.
    pub async fn all_products(&self) -> Value {
        let reply = self.get("/v1/products?page%5Bsize%5D=100").await;
        reply.expect_status(200);
        reply.body["data"].clone()
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

impl TestApp {
    /// A token issuer with the server's signing secret (default lifetimes).
    pub fn tokens(&self) -> JwtTokenIssuer {
        let secret = self
            .config
            .jwt_secret
            .clone()
            .expect("test configurations carry their signing secret");
        JwtTokenIssuer::new(JwtSettings::new(secret.into_bytes()))
            .expect("a token issuer for the server's secret")
    }

    /// An access token of a real account with `role`, from `POST /v1/auth/login`:
    /// the start-up administrator for [`Role::Admin`] (the configuration must have
    /// one, as [`spawn_app`]'s has), a newly registered customer otherwise.
    pub async fn signed_in(&self, role: Role) -> String {
        let (email, password) = match role {
            Role::Admin => self
                .config
                .bootstrap_admin
                .clone()
                .expect("signing in as an admin needs a start-up administrator"),
            Role::Customer => {
                let email = format!("customer-{}@example.com", Uuid::now_v7().simple());
                let password = "a customer password".to_owned();
                self.register(&email, &password).await.expect_status(201);
                (email, password)
            }
        };
        access_token_of(&self.log_in(&email, &password).await)
    }

    /// `POST /v1/auth/register` for `email` with `password` (display name "Ada").
    pub async fn register(&self, email: &str, password: &str) -> Reply {
        let document = register_document(email, password);
        self.anonymous(Method::POST, "/v1/auth/register", Some(&document))
            .await
    }

    /// `POST /v1/auth/login` with `email` and `password`.
    pub async fn log_in(&self, email: &str, password: &str) -> Reply {
        let document = credentials(email, password);
        self.anonymous(Method::POST, "/v1/auth/login", Some(&document))
            .await
    }

    /// `POST /v1/auth/refresh` with the refresh token `token`.
    pub async fn refresh(&self, token: &str) -> Reply {
        let document = refresh_document(token);
        self.anonymous(Method::POST, "/v1/auth/refresh", Some(&document))
            .await
    }

    /// A validly signed access token for a made-up user (no such account) with
    /// `role`: what services without the users store accept, and what a server with
    /// it refuses.
    pub fn access_token(&self, role: Role) -> String {
        self.access_token_at(role, Utc::now())
    }

    /// An access token for a made-up user with `role`, issued at `now` (in the past
    /// for an expired one).
    pub fn access_token_at(&self, role: Role, now: DateTime<Utc>) -> String {
        let claims = AccessClaims {
            user_id: UserId(Uuid::now_v7()),
            role,
            email: None,
        };
        self.tokens()
            .issue_access(claims, now)
            .expect("issuing an access token")
            .token
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

/// A product create document with this SKU, named `Product <sku>`.
pub fn sku_product_document(sku: &str, price: &str, category: Option<&str>) -> Value {
    let mut document = json!({"data": {"type": "products", "attributes": {
        "name": format!("Product {sku}"), "description": "A thing", "price": price, "sku": sku,
        "images": ["https://img.example/p.jpg"], "active": true}}});
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

    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// Panics unless the answer has `status`, is a JSON:API error document (media
    /// type, no `data`), and one of its errors has this status (as a string), `code`
    /// and, when given, `source.pointer`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, pointer: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.content_type(), Some(JSON_API), "{}", self.text);
        let errors = self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("not an error document: {}", self.text));
        let found = errors.iter().any(|error| {
            error["code"] == code
                && error["status"].as_str().and_then(|s| s.parse::<u16>().ok()) == Some(status)
                && pointer.is_none_or(|p| error["source"]["pointer"] == p)
        });
        assert!(
            found,
            "no error {status} {code} {pointer:?} in {}",
            self.text
        );
        assert!(self.body.get("data").is_none(), "{}", self.text);
    }

    /// Panics unless the answer has `status` and its first error is about query
    /// parameter `parameter` (`source.parameter`).
    #[track_caller]
    pub fn assert_parameter_error(&self, status: u16, parameter: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.body["errors"][0]["source"]["parameter"], parameter,
            "{}",
            self.text
        );
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
