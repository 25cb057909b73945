//! Split mode against real local servers: products asking a remote inventory, and
//! inventory asking a remote (or dead) products service.

use std::time::{Duration, Instant};

use emporium::config::{Config, ServiceSet};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Route, Server, get, handler, web::Path};
use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_with};

/// A stand-in inventory service answering `reserved` units for every product.
async fn fake_inventory(reserved: i64) -> String {
    #[handler]
    fn record(Path(id): Path<String>, reserved: poem::web::Data<&i64>) -> poem::Response {
        let body = serde_json::json!({"data": {"type": "inventory", "id": id,
            "attributes": {"onHand": 10, "reserved": *reserved.0, "available": 10 - *reserved.0,
                           "updatedAt": "2026-01-01T00:00:00Z"}}});
        poem::Response::builder()
            .content_type("application/vnd.api+json")
            .body(body.to_string())
    }
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = Route::new()
        .at("/v1/inventory/:id", get(record))
        .at("/health", get(poem::endpoint::make_sync(|_| "ok")))
        .data(reserved);
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    format!("http://{addr}")
}

#[tokio::test]
async fn products_alone_ask_remote_inventory_before_delete() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::embedded(dir.path().to_path_buf());
    config.inventory_url = Some(fake_inventory(3).await);
    let app = spawn_with(config, ServiceSet::Products, dir).await;
    let id = app.create_product("CUP-1", "1.00", None).await;
    app.delete(&format!("/v1/products/{id}"))
        .await
        .assert_error(409, "stock_reserved", None);
    assert_eq!(
        app.get(&format!("/v1/products/{id}")).await.status,
        StatusCode::OK
    );
    // Inventory routes do not run here.
    app.get("/v1/inventory")
        .await
        .assert_error(404, "not_found", None);
    let ready = app.get("/ready").await;
    let names: Vec<_> = ready.body["meta"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![
            serde_json::json!("database"),
            serde_json::json!("inventory-service")
        ]
    );
    assert_eq!(ready.status, StatusCode::OK);
    app.shutdown().await;
}

#[tokio::test]
async fn inventory_alone_reports_a_dead_catalog_quickly() {
    // A port that was free a moment ago: nothing listens there.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::embedded(dir.path().to_path_buf());
    config.products_url = Some(dead);
    let app = spawn_with(config, ServiceSet::Inventory, dir).await;
    let product = uuid::Uuid::now_v7().to_string();
    let started = Instant::now();
    let answer = app.create_inventory(&product, 5).await;
    answer.assert_error(503, "service_unavailable", None);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(answer.body["errors"][0]["meta"]["requestId"].is_string());
    assert!(answer.header("retry-after").is_some());
    assert_eq!(app.get("/v1/inventory").await.body["meta"]["total"], 0);
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["meta"]["status"], "unavailable");
    app.shutdown().await;
}

#[tokio::test]
async fn inventory_and_products_as_two_services() {
    let catalog_side = spawn_app().await;
    let product = catalog_side.create_product("CUP-1", "4.20", None).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::embedded(dir.path().to_path_buf());
    config.api_key = Some(catalog_side.key.clone());
    config.products_url = Some(catalog_side.base.clone());
    let inventory_side = spawn_with(config, ServiceSet::Inventory, dir).await;
    let created = inventory_side.create_inventory(&product, 7).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let with_product = inventory_side
        .get(&format!("/v1/inventory/{product}?include=product"))
        .await;
    assert_eq!(
        with_product.body["included"][0]["attributes"]["price"],
        "4.20"
    );
    inventory_side.shutdown().await;
    catalog_side.shutdown().await;
}

/// `serve users` without the shared signing secret stops at once, naming the
/// setting: with a secret of its own, no other service would accept its tokens.
#[tokio::test]
async fn the_users_service_refuses_to_start_without_the_shared_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_emporium"))
        .args(["serve", "users", "--addr", "127.0.0.1:0"])
        .env("EMPORIUM_DATA_DIR", dir.path())
        .env("EMPORIUM_API_KEY", "a-shared-service-key-0123")
        .env_remove("EMPORIUM_DATABASE_URL")
        .env_remove("EMPORIUM_JWT_SECRET")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{printed}");
    assert!(printed.contains("EMPORIUM_JWT_SECRET"), "{printed}");
    assert!(
        !dir.path().join("jwt-secret").exists(),
        "no secret of its own is generated"
    );
}

/// `serve users` runs accounts alone: registration and sign-in work, the catalog
/// and inventory routes are not there, and `/ready` checks the database.
#[tokio::test]
async fn the_users_service_runs_accounts_alone() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::embedded(dir.path().to_path_buf());
    let app = spawn_with(config, ServiceSet::Users, dir).await;
    // Registration and log-in answer (the helper asserts 201 and 200).
    let (_, access, _) = crate::accounts::register_and_log_in(&app, "solo@example.com").await;
    let me = crate::accounts::with_token(&app, reqwest::Method::GET, "/v1/users/me", &access).await;
    assert_eq!(me.body["data"]["attributes"]["email"], "solo@example.com");
    for path in ["/v1/products", "/v1/categories", "/v1/inventory"] {
        app.get(path).await.assert_error(404, "not_found", None);
    }
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["meta"]["checks"][0]["name"], "database");
    let health = app.get("/health").await;
    assert_eq!(health.body["meta"]["services"], "users");
    app.shutdown().await;
}
