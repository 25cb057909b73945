//! A dependency that goes away, end to end: the server talks to the real PostgreSQL
//! or Redis through a TCP [`Proxy`] this test cuts. Without its database the server
//! answers 503 `service_unavailable` (with `Retry-After` and the request id), never
//! 500, and `/ready` says the database is down; without Redis (an optional cache) it
//! keeps answering from the database, quickly, and `/ready` says `degraded`.

use std::time::{Duration, Instant};

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::{Proxy, TempDir, address_of, through};
use serde_json::Value;

use crate::helpers::{JSON_API, Reply, TestApp, postgres_redis_config, product_document};

/// PostgreSQL's port when a URL names none.
const POSTGRES_PORT: u16 = 5432;
/// Redis's port when a URL names none.
const REDIS_PORT: u16 = 6379;

/// The check named `name` in a `/ready` answer.
fn check<'a>(ready: &'a Reply, name: &str) -> &'a Value {
    ready.body["meta"]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {}", ready.text))
        .iter()
        .find(|check| check["name"] == name)
        .unwrap_or_else(|| panic!("/ready does not check {name}: {}", ready.text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_database_the_server_answers_503() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let proxy = Proxy::start(address_of(&config.database_url, POSTGRES_PORT)).await;
    let config = Config {
        database_url: through(&config.database_url, proxy.address),
        ..config
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    app.create_product("Espresso cup", "12.50", None).await;
    app.get("/v1/products").await.expect_status(200);

    proxy.cut();
    let listed = app.get("/v1/products").await;
    let created = app
        .post("/v1/products", &product_document("Saucer", "4.00", None))
        .await;
    for reply in [&listed, &created] {
        reply.expect_error(503, Some("service_unavailable"));
        let retry: u64 = reply
            .header("retry-after")
            .unwrap_or_else(|| panic!("a 503 says when to retry: {:?}", reply.headers))
            .parse()
            .expect("Retry-After in seconds");
        assert!(retry >= 1, "{retry}");
        assert!(
            reply.body["meta"]["requestId"].is_string(),
            "a server-side error carries the request id: {}",
            reply.text
        );
        assert_eq!(
            reply.body["meta"]["requestId"].as_str(),
            reply.header("x-request-id"),
            "{}",
            reply.text
        );
    }

    let ready = app.get("/ready").await;
    assert_eq!(ready.status.as_u16(), 503, "{}", ready.text);
    assert_eq!(ready.header("content-type"), Some(JSON_API));
    assert_eq!(
        ready.body["meta"]["status"], "unavailable",
        "{}",
        ready.text
    );
    let database = check(&ready, "database");
    assert_eq!(database["status"], "down", "{}", ready.text);
    assert_eq!(database["required"], true, "{}", ready.text);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_server_reads_from_the_database_quickly() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let redis_url = config
        .redis_url
        .clone()
        .expect("postgres_redis_config names Redis");
    let proxy = Proxy::start(address_of(&redis_url, REDIS_PORT)).await;
    let config = Config {
        redis_url: Some(through(&redis_url, proxy.address)),
        ..config
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    let id = app.create_product("Espresso cup", "12.50", None).await;
    let path = format!("/v1/products/{id}");
    for _ in 0..2 {
        let read = app.get(&path).await;
        read.expect_status(200);
        assert_eq!(read.id(), id);
    }
    let ready = app.get("/ready").await;
    ready.expect_status(200);
    assert_eq!(
        check(&ready, "redis-cache")["status"],
        "up",
        "{}",
        ready.text
    );

    proxy.cut();
    let started = Instant::now();
    for _ in 0..20 {
        let read = app.get(&path).await;
        read.expect_status(200);
        assert_eq!(read.id(), id);
        assert_eq!(read.attributes()["name"], "Espresso cup", "{}", read.text);
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "20 reads without Redis took {elapsed:?}"
    );

    let ready = app.get("/ready").await;
    ready.expect_status(200);
    assert_eq!(ready.body["meta"]["status"], "degraded", "{}", ready.text);
    let redis = check(&ready, "redis-cache");
    assert_eq!(redis["status"], "down", "{}", ready.text);
    assert_eq!(redis["required"], false, "{}", ready.text);
    assert_eq!(check(&ready, "database")["status"], "up", "{}", ready.text);
    app.shutdown().await;
}
