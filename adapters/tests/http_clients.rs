//! The HTTP catalog and stock lookups against a real HTTP server (poem on an
//! ephemeral port) that serves scripted JSON:API answers and records every request.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use emporium_adapters::http::{HttpClientConfig, HttpProductCatalog, HttpProductStock};
use emporium_adapters::request_context::REQUEST_ID;
use emporium_domain::catalog::{
    CatalogError, CategoryId, Description, ImageUrl, Price, Product, ProductCatalog, ProductId,
    ProductName, ProductStock, ProductStockError, Sku, StockRemoval,
};
use emporium_domain::inventory::Quantity;
use poem::http::StatusCode;
use poem::listener::TcpAcceptor;
use poem::web::Data;
use poem::{EndpointExt, Request, Response, Route, Server, handler};
use serde_json::{Value, json};
use uuid::Uuid;

const API_KEY: &str = "test-service-key";
const JSON_API: &str = "application/vnd.api+json";

// ---------------------------------------------------------------------------------
// The test server.

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: StatusCode,
    body: String,
    delay: Duration,
    location: Option<String>,
}

impl Reply {
    fn json(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: body.to_string(),
            delay: Duration::ZERO,
            location: None,
        }
    }

    fn ok(body: Value) -> Self {
        Self::json(StatusCode::OK, body)
    }

    fn status(status: StatusCode) -> Self {
        Self::json(
            status,
            json!({"errors": [{"status": status.as_u16().to_string(), "title": "scripted"}]}),
        )
    }

    fn raw(status: StatusCode, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            delay: Duration::ZERO,
            location: None,
        }
    }

    fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    api_key: Option<String>,
    request_id: Option<String>,
    accept: Option<String>,
    peer: String,
}

struct State {
    script: Mutex<VecDeque<Reply>>,
    otherwise: Reply,
    seen: Mutex<Vec<Seen>>,
}

/// A real HTTP server on 127.0.0.1: answers with `script` in order, then with
/// `otherwise` forever.
struct TestServer {
    address: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

#[handler]
async fn serve(request: &Request, state: Data<&Arc<State>>) -> Response {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    state.seen.lock().unwrap().push(Seen {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        api_key: header("x-api-key"),
        request_id: header("x-request-id"),
        accept: header("accept"),
        peer: request.remote_addr().to_string(),
    });
    let reply = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| state.otherwise.clone());
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder()
        .status(reply.status)
        .content_type(JSON_API);
    if let Some(location) = reply.location {
        response = response.header("location", location);
    }
    response.body(reply.body)
}

impl TestServer {
    async fn start(script: Vec<Reply>, otherwise: Reply) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(State {
            script: Mutex::new(script.into()),
            otherwise,
            seen: Mutex::new(Vec::new()),
        });
        let app = Route::new().at("/*path", serve).data(Arc::clone(&state));
        let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
        let task = tokio::spawn(async move {
            Server::new_with_acceptor(acceptor).run(app).await.unwrap();
        });
        Self {
            address,
            state,
            task,
        }
    }

    /// Always answers `reply`.
    async fn always(reply: Reply) -> Self {
        Self::start(Vec::new(), reply).await
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Fast retries so the tests stay quick; the policy is the same as the default one.
fn config(base_url: String) -> HttpClientConfig {
    HttpClientConfig {
        timeout: Duration::from_millis(500),
        max_retries: 3,
        initial_backoff: Duration::from_millis(20),
        ..HttpClientConfig::new(base_url, API_KEY)
    }
}

fn catalog(server: &TestServer) -> HttpProductCatalog {
    HttpProductCatalog::new(config(server.base_url())).unwrap()
}

fn stock(server: &TestServer) -> HttpProductStock {
    HttpProductStock::new(config(server.base_url())).unwrap()
}

// ---------------------------------------------------------------------------------
// Documents.

fn product_id() -> ProductId {
    ProductId(Uuid::parse_str("0190f2a0-0000-7000-8000-000000000001").unwrap())
}

fn category_id() -> Uuid {
    Uuid::parse_str("0190f2a0-0000-7000-8000-0000000000c1").unwrap()
}

/// A product document as the catalog serves it.
fn product_document(id: ProductId) -> Value {
    json!({
        "data": {
            "type": "products",
            "id": id.to_string(),
            "attributes": {
                "name": "Espresso cup",
                "description": "90 ml, porcelain",
                "price": "12.50",
                "sku": "CUP-090",
                "images": ["https://img.example/cup.jpg", "https://img.example/cup-side.jpg"],
                "active": true,
                "createdAt": "2026-01-02T03:04:05.123456Z",
                "updatedAt": "2026-01-03T10:00:00+02:00"
            },
            "relationships": {
                "category": {"data": {"type": "categories", "id": category_id().to_string()}}
            },
            "links": {"self": format!("/v1/products/{id}")}
        },
        "links": {"self": format!("/v1/products/{id}")}
    })
}

fn expected_product(id: ProductId) -> Product {
    Product {
        id,
        name: ProductName::new("Espresso cup").unwrap(),
        description: Description::new("90 ml, porcelain").unwrap(),
        price: Price::parse("12.50").unwrap(),
        sku: Sku::new("CUP-090").unwrap(),
        images: vec![
            ImageUrl::new("https://img.example/cup.jpg").unwrap(),
            ImageUrl::new("https://img.example/cup-side.jpg").unwrap(),
        ],
        active: true,
        category_id: Some(CategoryId(category_id())),
        created_at: Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .unwrap()
            .checked_add_signed(chrono::Duration::microseconds(123_456))
            .unwrap(),
        updated_at: Utc.with_ymd_and_hms(2026, 1, 3, 8, 0, 0).unwrap(),
    }
}

fn inventory_document(id: ProductId, on_hand: i64, reserved: i64) -> Value {
    json!({
        "data": {
            "type": "inventory",
            "id": id.to_string(),
            "attributes": {
                "onHand": on_hand,
                "reserved": reserved,
                "available": on_hand - reserved,
                "updatedAt": "2026-01-02T03:04:05Z"
            },
            "relationships": {"product": {"data": {"type": "products", "id": id.to_string()}}},
            "links": {"self": format!("/v1/inventory/{id}")}
        }
    })
}

fn unavailable(error: CatalogError) -> String {
    let CatalogError::Unavailable(error) = error;
    format!("{error:#}")
}

fn stock_unavailable(error: ProductStockError) -> String {
    let ProductStockError::Unavailable(error) = error;
    format!("{error:#}")
}

// ---------------------------------------------------------------------------------
// Product catalog.

#[tokio::test]
async fn a_found_product_is_parsed_exactly() {
    init();
    let id = product_id();
    let server = TestServer::always(Reply::ok(product_document(id))).await;
    let product = catalog(&server).find_product(id).await.unwrap();
    assert_eq!(product, Some(expected_product(id)));
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, format!("/v1/products/{id}"));
}

#[tokio::test]
async fn optional_parts_of_a_product_may_be_absent_or_null() {
    init();
    let id = product_id();
    let mut document = product_document(id);
    let data = document["data"].as_object_mut().unwrap();
    data["relationships"]["category"]["data"] = Value::Null;
    data["attributes"]["images"] = json!([]);
    data["attributes"]["description"] = json!("");
    // A number is accepted for the price too.
    data["attributes"]["price"] = json!(7.5);
    let server = TestServer::always(Reply::ok(document.clone())).await;
    let product = catalog(&server).find_product(id).await.unwrap().unwrap();
    assert_eq!(product.category_id, None);
    assert!(product.images.is_empty());
    assert_eq!(product.description.as_str(), "");
    assert_eq!(product.price.to_string(), "7.50");

    // No relationships member at all: no category.
    document["data"]
        .as_object_mut()
        .unwrap()
        .remove("relationships");
    let server = TestServer::always(Reply::ok(document)).await;
    let product = catalog(&server).find_product(id).await.unwrap().unwrap();
    assert_eq!(product.category_id, None);
}

#[tokio::test]
async fn a_missing_product_is_none_without_retries() {
    init();
    let server = TestServer::always(Reply::status(StatusCode::NOT_FOUND)).await;
    assert_eq!(
        catalog(&server).find_product(product_id()).await.unwrap(),
        None
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn api_key_accept_and_a_fresh_request_id_are_sent() {
    init();
    let id = product_id();
    let server = TestServer::always(Reply::ok(product_document(id))).await;
    let catalog = catalog(&server);
    catalog.find_product(id).await.unwrap();
    catalog.find_product(id).await.unwrap();
    let seen = server.seen();
    for request in &seen {
        assert_eq!(request.api_key.as_deref(), Some(API_KEY));
        assert_eq!(request.accept.as_deref(), Some(JSON_API));
        let request_id = request.request_id.as_deref().expect("X-Request-ID sent");
        Uuid::parse_str(request_id).expect("a generated request id is a uuid");
    }
    // Outside a request, each lookup gets its own id.
    assert_ne!(seen[0].request_id, seen[1].request_id);
}

#[tokio::test]
async fn the_scoped_request_id_is_forwarded_on_every_attempt() {
    init();
    let id = product_id();
    let server = TestServer::start(
        vec![Reply::status(StatusCode::SERVICE_UNAVAILABLE)],
        Reply::ok(product_document(id)),
    )
    .await;
    let catalog = catalog(&server);
    let found = REQUEST_ID
        .scope("req-abc-123".to_owned(), catalog.find_product(id))
        .await
        .unwrap();
    assert!(found.is_some());
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.request_id.as_deref(), Some("req-abc-123"));
    }
}

#[tokio::test]
async fn a_generated_request_id_is_the_same_on_every_attempt() {
    init();
    let id = product_id();
    let server = TestServer::start(
        vec![Reply::status(StatusCode::BAD_GATEWAY)],
        Reply::ok(product_document(id)),
    )
    .await;
    catalog(&server).find_product(id).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].request_id, seen[1].request_id);
}

#[tokio::test]
async fn two_503s_then_200_succeeds_after_retries() {
    init();
    let id = product_id();
    let server = TestServer::start(
        vec![
            Reply::status(StatusCode::SERVICE_UNAVAILABLE),
            Reply::status(StatusCode::SERVICE_UNAVAILABLE),
        ],
        Reply::ok(product_document(id)),
    )
    .await;
    let product = catalog(&server).find_product(id).await.unwrap();
    assert_eq!(product, Some(expected_product(id)));
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_500_forever_is_unavailable_after_one_plus_max_retries_attempts() {
    init();
    let server = TestServer::always(Reply::status(StatusCode::INTERNAL_SERVER_ERROR)).await;
    for max_retries in [0, 1, 3] {
        let before = server.seen().len();
        let catalog = HttpProductCatalog::new(HttpClientConfig {
            max_retries,
            ..config(server.base_url())
        })
        .unwrap();
        let error = catalog.find_product(product_id()).await.unwrap_err();
        let message = unavailable(error);
        assert!(message.contains("500"), "{message}");
        assert!(
            message.contains(&format!("{} attempt(s)", 1 + max_retries)),
            "{message}"
        );
        assert_eq!(server.seen().len() - before, 1 + max_retries as usize);
    }
}

#[tokio::test]
async fn client_errors_are_not_retried_and_name_the_status() {
    init();
    for status in [
        StatusCode::UNAUTHORIZED,
        StatusCode::FORBIDDEN,
        StatusCode::BAD_REQUEST,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let server = TestServer::always(Reply::status(status)).await;
        let error = catalog(&server)
            .find_product(product_id())
            .await
            .unwrap_err();
        let message = unavailable(error);
        assert!(message.contains(&status.as_u16().to_string()), "{message}");
        assert_eq!(server.seen().len(), 1, "{status} was retried");
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    init();
    let id = product_id();
    // Following would send the API key wherever the redirect points.
    let target = TestServer::always(Reply::ok(product_document(id))).await;
    let mut redirect = Reply::raw(StatusCode::TEMPORARY_REDIRECT, "");
    redirect.location = Some(format!("{}/v1/products/{id}", target.base_url()));
    let server = TestServer::always(redirect).await;
    let error = catalog(&server).find_product(id).await.unwrap_err();
    assert!(unavailable(error).contains("307"));
    assert_eq!(server.seen().len(), 1);
    assert!(target.seen().is_empty());
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_unavailable_within_the_bound() {
    init();
    let server =
        TestServer::always(Reply::ok(product_document(product_id())).after(Duration::from_secs(5)))
            .await;
    let config = HttpClientConfig {
        timeout: Duration::from_millis(200),
        max_retries: 2,
        initial_backoff: Duration::from_millis(50),
        ..HttpClientConfig::new(server.base_url(), API_KEY)
    };
    let bound = config.worst_case_duration();
    assert_eq!(bound, Duration::from_millis(3 * 200 + 2 * (50 + 100)));
    let catalog = HttpProductCatalog::new(config).unwrap();
    let started = Instant::now();
    let error = catalog.find_product(product_id()).await.unwrap_err();
    let elapsed = started.elapsed();
    let message = unavailable(error);
    assert!(message.contains("timed out"), "{message}");
    assert!(elapsed >= Duration::from_millis(3 * 200), "{elapsed:?}");
    assert!(elapsed < bound + Duration::from_millis(500), "{elapsed:?}");
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_quickly() {
    init();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let catalog = HttpProductCatalog::new(config(format!("http://127.0.0.1:{port}"))).unwrap();
    let started = Instant::now();
    let error = catalog.find_product(product_id()).await.unwrap_err();
    let elapsed = started.elapsed();
    let message = unavailable(error);
    assert!(message.contains("connection failed"), "{message}");
    // Four refused attempts and three short backoffs (20, 40, 80 ms, doubled at most).
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

#[tokio::test]
async fn malformed_or_invalid_bodies_are_unavailable_without_retries() {
    init();
    let id = product_id();
    let with = |pointer: &str, value: Value| {
        let mut document = product_document(id);
        *document.pointer_mut(pointer).unwrap() = value;
        Reply::ok(document)
    };
    let cases = [
        (
            Reply::raw(StatusCode::OK, "<html>not json</html>"),
            "JSON:API",
        ),
        (Reply::ok(json!({"errors": []})), "JSON:API"),
        (with("/data/attributes/price", json!("-1.00")), "price"),
        (with("/data/attributes/price", json!("12.505")), "price"),
        (with("/data/attributes/name", json!("  ")), "name"),
        (with("/data/attributes/sku", json!("BAD SKU")), "sku"),
        (
            with("/data/attributes/images", json!(["ftp://x/y"])),
            "images[0]",
        ),
        (
            with("/data/attributes/createdAt", json!("yesterday")),
            "JSON:API",
        ),
        (with("/data/type", json!("categories")), "products"),
        (
            with("/data/id", json!(Uuid::nil().to_string())),
            "asked for",
        ),
        (
            with(
                "/data/relationships/category/data",
                json!({"type": "users", "id": category_id().to_string()}),
            ),
            "category",
        ),
    ];
    for (reply, expected) in cases {
        let server = TestServer::always(reply).await;
        let error = catalog(&server).find_product(id).await.unwrap_err();
        let message = unavailable(error);
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message}"
        );
        assert_eq!(server.seen().len(), 1, "{message}: retried");
    }
}

#[tokio::test]
async fn one_pooled_connection_serves_successive_lookups() {
    init();
    let id = product_id();
    let server = TestServer::always(Reply::ok(product_document(id))).await;
    let catalog = catalog(&server);
    for _ in 0..3 {
        catalog.find_product(id).await.unwrap();
    }
    let seen = server.seen();
    assert!(
        seen.iter().all(|request| request.peer == seen[0].peer),
        "{seen:?}"
    );
}

#[tokio::test]
async fn the_base_url_may_carry_a_path_and_a_trailing_slash() {
    init();
    let id = product_id();
    let server = TestServer::always(Reply::ok(product_document(id))).await;
    let catalog =
        HttpProductCatalog::new(config(format!("{}/catalog/", server.base_url()))).unwrap();
    catalog.find_product(id).await.unwrap().unwrap();
    assert_eq!(server.seen()[0].path, format!("/catalog/v1/products/{id}"));
}

#[tokio::test]
async fn invalid_configurations_are_refused() {
    init();
    let cases = [
        HttpClientConfig::new("not a url", API_KEY),
        HttpClientConfig::new("ftp://catalog", API_KEY),
        HttpClientConfig::new("http://catalog?x=1", API_KEY),
        HttpClientConfig::new("http://catalog", ""),
        HttpClientConfig::new("http://catalog", "line\nbreak"),
        HttpClientConfig {
            timeout: Duration::ZERO,
            ..HttpClientConfig::new("http://catalog", API_KEY)
        },
    ];
    for config in cases {
        let described = format!("{config:?}");
        assert!(
            HttpProductCatalog::new(config.clone()).is_err(),
            "{described}"
        );
        assert!(HttpProductStock::new(config).is_err(), "{described}");
    }
}

#[test]
fn defaults_and_debug_output() {
    let config = HttpClientConfig::new("http://catalog:8080", "s3cret-key");
    assert_eq!(config.timeout, Duration::from_secs(2));
    assert_eq!(config.max_retries, 3);
    assert_eq!(config.initial_backoff, Duration::from_millis(100));
    // 4 attempts of 2 s, backoffs 100/200/400 ms each at most doubled by jitter.
    assert_eq!(config.worst_case_duration(), Duration::from_millis(9_400));
    assert!(!format!("{config:?}").contains("s3cret-key"));
}

// ---------------------------------------------------------------------------------
// Stock removal.

#[tokio::test]
async fn a_removed_record_is_deleted_with_the_key_and_a_request_id() {
    init();
    let id = product_id();
    let server = TestServer::always(Reply::status(StatusCode::NO_CONTENT)).await;
    assert_eq!(
        stock(&server).remove(id).await.unwrap(),
        StockRemoval::Removed
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "DELETE");
    assert_eq!(seen[0].path, format!("/v1/inventory/{id}"));
    assert_eq!(seen[0].api_key.as_deref(), Some(API_KEY));
    assert_eq!(seen[0].accept.as_deref(), Some(JSON_API));
    assert!(seen[0].request_id.is_some());
}

#[tokio::test]
async fn a_missing_record_is_no_record() {
    init();
    let server = TestServer::always(Reply::status(StatusCode::NOT_FOUND)).await;
    assert_eq!(
        stock(&server).remove(product_id()).await.unwrap(),
        StockRemoval::NoRecord
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_refused_removal_reads_the_reserved_quantity() {
    init();
    let id = product_id();
    let server = TestServer::start(
        vec![Reply::status(StatusCode::CONFLICT)],
        Reply::ok(inventory_document(id, 20, 7)),
    )
    .await;
    assert_eq!(
        stock(&server).remove(id).await.unwrap(),
        StockRemoval::Reserved(Quantity::new(7).unwrap())
    );
    let methods: Vec<String> = server.seen().into_iter().map(|seen| seen.method).collect();
    assert_eq!(methods, ["DELETE", "GET"]);
}

#[tokio::test]
async fn stock_retries_5xx_and_forwards_the_scoped_request_id() {
    init();
    let id = product_id();
    let server = TestServer::start(
        vec![
            Reply::status(StatusCode::SERVICE_UNAVAILABLE),
            Reply::status(StatusCode::INTERNAL_SERVER_ERROR),
        ],
        Reply::status(StatusCode::NO_CONTENT),
    )
    .await;
    let removal = REQUEST_ID
        .scope("req-stock".to_owned(), stock(&server).remove(id))
        .await
        .unwrap();
    assert_eq!(removal, StockRemoval::Removed);
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|r| r.request_id.as_deref() == Some("req-stock"))
    );
}

#[tokio::test]
async fn stock_failures_are_unavailable() {
    init();
    let id = product_id();
    // 5xx forever: 1 + max_retries attempts.
    let server = TestServer::always(Reply::status(StatusCode::SERVICE_UNAVAILABLE)).await;
    let message = stock_unavailable(stock(&server).remove(id).await.unwrap_err());
    assert!(message.contains("503"), "{message}");
    assert_eq!(server.seen().len(), 4);
    // 401: once.
    let server = TestServer::always(Reply::status(StatusCode::UNAUTHORIZED)).await;
    let message = stock_unavailable(stock(&server).remove(id).await.unwrap_err());
    assert!(message.contains("401"), "{message}");
    assert_eq!(server.seen().len(), 1);
    // A refusal whose record reads back invalid or as another resource: not retried.
    for (document, expected) in [
        (inventory_document(id, 1, -1), "reserved"),
        (
            inventory_document(ProductId(Uuid::nil()), 1, 0),
            "asked for",
        ),
    ] {
        let server = TestServer::start(
            vec![Reply::status(StatusCode::CONFLICT)],
            Reply::ok(document),
        )
        .await;
        let message = stock_unavailable(stock(&server).remove(id).await.unwrap_err());
        assert!(message.contains(expected), "{message}");
        assert_eq!(server.seen().len(), 2);
    }
    // Nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let removal = HttpProductStock::new(config(format!("http://127.0.0.1:{port}"))).unwrap();
    let started = Instant::now();
    assert!(removal.remove(id).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(1));
}
