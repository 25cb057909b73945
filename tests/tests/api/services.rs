//! Products and inventory as two services talking HTTP with the API key: inventory
//! asks the products service about products (and copes with it refusing or gone),
//! and the products service asks a remote inventory before deleting a product.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use emporium::config::{Config, ServiceSet, generate_api_key};
use emporium_adapters::testing::TempDir;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Path};
use poem::{EndpointExt, Route, Server, get, handler};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, embedded_config, free_port};

/// How long inventory may take to report a dead products service.
const DEAD_DEPENDENCY_LIMIT: Duration = Duration::from_secs(5);

/// An inventory service on its own data directory that asks `products` over HTTP.
fn inventory_config(dir: &TempDir, products: &str, api_key: &str) -> Config {
    Config {
        products_url: Some(products.to_owned()),
        api_key: Some(api_key.to_owned()),
        ..embedded_config(dir)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_asks_the_products_service_over_http() {
    let key = generate_api_key();
    let inventory_addr: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");

    let products_dir = TempDir::new();
    let mut products = TestApp::spawn(
        Config {
            inventory_url: Some(format!("http://{inventory_addr}")),
            api_key: Some(key.clone()),
            ..embedded_config(&products_dir)
        },
        ServiceSet::Products,
    )
    .await;
    let inventory_dir = TempDir::new();
    let mut inventory = TestApp::spawn_on(
        inventory_config(&inventory_dir, &products.base, &key),
        ServiceSet::Inventory,
        inventory_addr,
    )
    .await;

    // Each service serves only its own routes.
    inventory.get("/v1/products").await.expect_error(404, None);
    products.get("/v1/inventory").await.expect_error(404, None);

    // A product on the products service; its stock on the inventory service, which
    // checks the product over HTTP.
    let cups = products.create_category("Cups").await;
    let product = products
        .create_product("Espresso cup", "12.50", Some(&cups))
        .await;
    let created = inventory.create_inventory(&product, 20).await;
    created.expect_status(201);
    assert_eq!(created.id(), product);
    assert_eq!(created.attributes()["onHand"], 20);

    // A product the catalog does not know: 404 pointing at the relationship.
    let unknown = Uuid::new_v4().to_string();
    let refused = inventory.create_inventory(&unknown, 5).await;
    let error = refused.expect_error(404, None);
    assert_eq!(
        error["source"]["pointer"], "/data/relationships/product",
        "{}",
        refused.text
    );
    inventory
        .get(&format!("/v1/inventory/{unknown}"))
        .await
        .expect_error(404, None);

    // include=product across services.
    let adjusted = inventory.adjust(&product, json!(-3)).await;
    adjusted.expect_status(200);
    assert_eq!(adjusted.attributes()["onHand"], 17);
    let compound = inventory
        .get(&format!("/v1/inventory/{product}?include=product"))
        .await;
    compound.expect_status(200);
    assert_eq!(compound.attributes()["onHand"], 17);
    let included = compound.body["included"]
        .as_array()
        .unwrap_or_else(|| panic!("no included: {}", compound.text));
    assert_eq!(included.len(), 1, "{}", compound.text);
    assert_eq!(included[0]["type"], "products");
    assert_eq!(included[0]["id"], json!(product));
    assert_eq!(included[0]["attributes"]["price"], "12.50");
    assert_eq!(included[0]["attributes"]["name"], "Espresso cup");

    // /ready on inventory checks the products service.
    let ready = inventory.get("/ready").await;
    ready.expect_status(200);
    let checks = ready.body["meta"]["checks"].as_array().expect("checks");
    assert!(
        checks
            .iter()
            .any(|check| check["name"] == "products-service" && check["status"] == "up"),
        "{}",
        ready.text
    );

    // An inventory service configured with another key than the catalog's: the
    // catalog refuses its calls, so stock cannot be created; that is the dependency
    // refusing (503), not a server bug (500), and nothing is stored.
    let wrong_dir = TempDir::new();
    let mut wrong_key = TestApp::spawn(
        inventory_config(&wrong_dir, &products.base, &generate_api_key()),
        ServiceSet::Inventory,
    )
    .await;
    let refused = wrong_key.create_inventory(&product, 5).await;
    let error = refused.expect_error(503, Some("service_unavailable"));
    assert!(
        !refused.text.contains(&key) && !refused.text.contains(&wrong_key.api_key),
        "an error never shows keys: {}",
        refused.text
    );
    assert!(error["detail"].is_string());
    wrong_key
        .get(&format!("/v1/inventory/{product}"))
        .await
        .expect_error(404, None);
    wrong_key.shutdown().await;

    // The products service goes away: inventory answers 503 quickly, never hangs or
    // fails with a 500, and keeps serving what it owns.
    products.shutdown().await;
    let other = Uuid::new_v4().to_string();
    let started = Instant::now();
    let refused = inventory.create_inventory(&other, 5).await;
    let elapsed = started.elapsed();
    refused.expect_error(503, Some("service_unavailable"));
    assert!(
        refused.header("retry-after").is_some(),
        "503 says when to retry"
    );
    assert!(
        refused.body["errors"][0]["meta"]["requestId"].is_string(),
        "a server-side error carries the request id: {}",
        refused.text
    );
    assert!(
        elapsed < DEAD_DEPENDENCY_LIMIT,
        "a dead products service took {elapsed:?} to report"
    );
    // Nothing was stored.
    inventory
        .get(&format!("/v1/inventory/{other}"))
        .await
        .expect_error(404, Some("not_found"));
    let listed = inventory.get("/v1/inventory").await;
    listed.expect_status(200);
    assert_eq!(listed.body["meta"]["total"], 1, "{}", listed.text);

    let started = Instant::now();
    let compound = inventory
        .get(&format!("/v1/inventory/{product}?include=product"))
        .await;
    compound.expect_error(503, Some("service_unavailable"));
    assert!(started.elapsed() < DEAD_DEPENDENCY_LIMIT);
    assert_eq!(
        inventory.on_hand(&product).await,
        17,
        "own data is still served"
    );
    let adjusted = inventory.adjust(&product, json!(-2)).await;
    adjusted.expect_status(200);
    assert_eq!(adjusted.attributes()["onHand"], 15);

    // /ready says which dependency is down (a meta document with 503).
    let ready = inventory.get("/ready").await;
    assert_eq!(ready.status.as_u16(), 503, "{}", ready.text);
    assert_eq!(ready.header("content-type"), Some(crate::helpers::JSON_API));
    assert_eq!(
        ready.body["meta"]["status"], "unavailable",
        "{}",
        ready.text
    );
    let checks = ready.body["meta"]["checks"].as_array().expect("checks");
    assert!(
        checks
            .iter()
            .any(|check| check["name"] == "products-service" && check["status"] == "down"),
        "{}",
        ready.text
    );
    inventory.shutdown().await;
}

/// A stand-in inventory service whose every stock record has `reserved` units
/// reserved; returns its base URL.
async fn fake_inventory(reserved: i64) -> String {
    #[handler]
    fn record(Path(id): Path<String>, reserved: Data<&i64>) -> poem::Response {
        let body = json!({"data": {"type": "inventory", "id": id,
            "attributes": {"onHand": 10, "reserved": *reserved.0, "available": 10 - *reserved.0,
                           "updatedAt": "2026-01-01T00:00:00Z"}}});
        poem::Response::builder()
            .content_type("application/vnd.api+json")
            .body(body.to_string())
    }
    /// Deletes the record unless units are reserved (409, as the real service).
    #[handler]
    fn remove(reserved: Data<&i64>) -> poem::Response {
        if *reserved.0 == 0 {
            return poem::Response::builder()
                .status(StatusCode::NO_CONTENT)
                .finish();
        }
        let body = json!({"errors": [{"status": "409", "code": "stock_reserved",
            "title": "Conflict", "detail": "units are reserved"}]});
        poem::Response::builder()
            .status(StatusCode::CONFLICT)
            .content_type("application/vnd.api+json")
            .body(body.to_string())
    }
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("binding the fake inventory service");
    let addr = *acceptor.local_addr()[0]
        .as_socket_addr()
        .expect("a socket address");
    let app = Route::new()
        .at("/v1/inventory/:id", get(record).delete(remove))
        .at("/health", get(poem::endpoint::make_sync(|_| "ok")))
        .data(reserved);
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    format!("http://{addr}")
}

/// `serve products` with a remote inventory: a product whose stock has reserved
/// units is not deleted (409), inventory routes are not served here, and `/ready`
/// checks the database and the inventory service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_alone_ask_remote_inventory_before_delete() {
    let dir = TempDir::new();
    let config = Config {
        inventory_url: Some(fake_inventory(3).await),
        ..embedded_config(&dir)
    };
    let mut app = TestApp::spawn(config, ServiceSet::Products).await;
    let id = app.create_product("Reserved cup", "1.00", None).await;
    app.delete(&format!("/v1/products/{id}"))
        .await
        .assert_error(409, "stock_reserved", None);
    app.get(&format!("/v1/products/{id}"))
        .await
        .expect_status(200);
    // Inventory routes do not run here.
    app.get("/v1/inventory")
        .await
        .assert_error(404, "not_found", None);
    let ready = app.get("/ready").await;
    ready.expect_status(200);
    let names: Vec<&Value> = ready.body["meta"]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {}", ready.text))
        .iter()
        .map(|check| &check["name"])
        .collect();
    assert_eq!(
        names,
        [&json!("database"), &json!("inventory-service")],
        "{}",
        ready.text
    );
    app.shutdown().await;
}

/// During a key rotation a service accepts its own key and the keys of
/// `EMPORIUM_API_KEYS`, and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_being_rotated_out_and_its_successor_both_work() {
    let dir = TempDir::new();
    let (old, new) = (generate_api_key(), generate_api_key());
    let app = TestApp::spawn(
        Config {
            api_key: Some(new.clone()),
            api_keys: vec![old.clone()],
            ..embedded_config(&dir)
        },
        ServiceSet::All,
    )
    .await;
    for (n, key) in [&old, &new].into_iter().enumerate() {
        let document =
            json!({"data": {"type": "categories", "attributes": {"name": format!("Cups {n}")}}});
        app.raw(
            reqwest::Method::POST,
            "/v1/categories",
            Some((crate::helpers::JSON_API, document.to_string().into_bytes())),
            Some(key),
        )
        .await
        .expect_status(201);
    }
    let document = json!({"data": {"type": "categories", "attributes": {"name": "Pots"}}});
    app.raw(
        reqwest::Method::POST,
        "/v1/categories",
        Some((crate::helpers::JSON_API, document.to_string().into_bytes())),
        Some(&generate_api_key()),
    )
    .await
    .expect_error(401, None);
}
