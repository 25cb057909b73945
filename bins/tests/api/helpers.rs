//! `spawn_app()` and request helpers.

use std::net::SocketAddr;

use emporium::config::{Config, ServiceSet};
use emporium::server::{RunningServer, spawn};
use emporium_adapters::security::{JwtSettings, JwtTokenIssuer};
use emporium_domain::accounts::{AccessClaims, TokenIssuer};
use emporium_domain::{Role, UserId};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const JSON_API: &str = "application/vnd.api+json";

/// A running server on its own database.
pub struct TestApp {
    pub server: Option<RunningServer>,
    pub base: String,
    pub key: String,
    /// The server's token signing secret (tests mint tokens with it).
    pub jwt_secret: Option<String>,
    pub client: reqwest::Client,
    /// Keeps the database directory until the test ends.
    pub _dir: TempDir,
}

fn init_logs() {
    static LOGS: std::sync::OnceLock<emporium::telemetry::LogGuard> = std::sync::OnceLock::new();
    if std::env::var_os("TEST_LOG").is_some() {
        LOGS.get_or_init(emporium::telemetry::init);
    }
}

pub fn client() -> reqwest::Client {
    emporium::server::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// The all-in-one server on a fresh embedded configuration.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::embedded(dir.path().to_path_buf());
    spawn_with(config, ServiceSet::All, dir).await
}

/// A server for `services` on `config`.
pub async fn spawn_with(config: Config, services: ServiceSet, dir: TempDir) -> TestApp {
    init_logs();
    let key = config.api_key.clone().expect("tests configure an API key");
    let jwt_secret = config.jwt_secret.clone();
    let server = spawn(config, services, local())
        .await
        .expect("server starts");
    TestApp {
        base: format!("http://{}", server.addr),
        server: Some(server),
        key,
        jwt_secret,
        client: client(),
        _dir: dir,
    }
}

/// A parsed answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn from(response: Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes))
            })
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// Asserts one error with this status, code and `source.pointer`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, pointer: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.content_type(), Some(JSON_API));
        let errors = self.body["errors"].as_array().expect("an error document");
        let found = errors.iter().any(|error| {
            error["code"] == code
                && error["status"].as_str().and_then(|s| s.parse::<u16>().ok()) == Some(status)
                && pointer.is_none_or(|p| error["source"]["pointer"] == p)
        });
        assert!(
            found,
            "no error {status} {code} {pointer:?} in {}",
            self.body
        );
        assert!(self.body.get("data").is_none());
    }

    /// Asserts an error about query parameter `parameter`.
    #[track_caller]
    pub fn assert_parameter_error(&self, status: u16, parameter: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.body["errors"][0]["source"]["parameter"], parameter,
            "{}",
            self.body
        );
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        key: Option<&str>,
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        if let Some((content_type, bytes)) = body {
            if !content_type.is_empty() {
                request = request.header("Content-Type", content_type);
            }
            request = request.body(bytes);
        }
        Answer::from(request.send().await.unwrap()).await
    }

    /// A request with these extra headers (`Authorization`, …).
    pub async fn request_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", JSON_API)
                .body(body.to_string());
        }
        Answer::from(request.send().await.unwrap()).await
    }

    /// The server's token issuer (same secret, default lifetimes).
    pub fn tokens(&self) -> JwtTokenIssuer {
        let secret = self
            .jwt_secret
            .clone()
            .expect("tests configure a JWT secret");
        JwtTokenIssuer::new(JwtSettings::new(secret.into_bytes())).unwrap()
    }

    /// A valid access token for a made-up user with `role`.
    pub fn access_token(&self, role: Role) -> String {
        self.access_token_at(role, chrono::Utc::now())
    }

    /// An access token issued at `now` (in the past for an expired one).
    pub fn access_token_at(&self, role: Role, now: chrono::DateTime<chrono::Utc>) -> String {
        let claims = AccessClaims {
            user_id: UserId(uuid::Uuid::now_v7()),
            role,
        };
        self.tokens().issue_access(claims, now).unwrap().token
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.request(
            Method::POST,
            path,
            Some((JSON_API, body.to_string().into_bytes())),
            Some(&self.key),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        self.request(
            Method::PATCH,
            path,
            Some((JSON_API, body.to_string().into_bytes())),
            Some(&self.key),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.request(Method::DELETE, path, None, Some(&self.key))
            .await
    }

    pub async fn create_category(&self, name: &str) -> String {
        let answer = self
            .post(
                "/v1/categories",
                &json!({"data": {"type": "categories", "attributes": {"name": name}}}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body["data"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn create_product(&self, sku: &str, price: &str, category: Option<&str>) -> String {
        let answer = self
            .post("/v1/products", &product_doc(sku, price, category))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body["data"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn create_inventory(&self, product: &str, on_hand: i64) -> Answer {
        self.post(
            "/v1/inventory",
            &json!({"data": {"type": "inventory", "attributes": {"onHand": on_hand},
                "relationships": {"product": {"data": {"type": "products", "id": product}}}}}),
        )
        .await
    }

    /// Every product, as stored.
    pub async fn all_products(&self) -> Value {
        let answer = self.get("/v1/products?page%5Bsize%5D=100").await;
        assert_eq!(answer.status, StatusCode::OK);
        answer.body["data"].clone()
    }

    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

pub fn product_doc(sku: &str, price: &str, category: Option<&str>) -> Value {
    let mut doc = json!({"data": {"type": "products", "attributes": {
        "name": format!("Product {sku}"), "description": "A thing", "price": price, "sku": sku,
        "images": ["https://img.example/p.jpg"], "active": true}}});
    if let Some(category) = category {
        doc["data"]["relationships"] =
            json!({"category": {"data": {"type": "categories", "id": category}}});
    }
    doc
}
