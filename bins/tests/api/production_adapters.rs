//! The production adapters chosen from configuration: PostgreSQL, Redis and MongoDB
//! (real servers named by `EMPORIUM_TEST_*_URL`, as `scripts/test` provides; skipped
//! with a SKIP line when they are not configured, unless `EMPORIUM_REQUIRE_SERVICES=1`).

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_with;

#[tokio::test]
async fn postgres_redis_and_mongodb() {
    let Some(database_url) = testing::postgres_database().await else {
        return;
    };
    let Some(redis_url) = testing::redis_url() else {
        return;
    };
    let Some((mongo_url, mongo_database)) = testing::mongo_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url,
        redis_url: Some(redis_url),
        mongo_url: Some(mongo_url),
        mongo_database,
        ..Config::embedded(dir.path().to_path_buf())
    };
    let app = spawn_with(config, ServiceSet::All, dir).await;

    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    let mut names: Vec<String> = ready.body["meta"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["database", "mongodb", "redis"]);

    let category = app.create_category("Cups").await;
    let product = app.create_product("CUP-PG", "12.50", Some(&category)).await;
    // Read twice (the second from Redis), change, read again: never stale.
    for _ in 0..2 {
        let read = app.get(&format!("/v1/products/{product}")).await;
        assert_eq!(read.body["data"]["attributes"]["price"], "12.50");
    }
    let changed = app
        .patch(
            &format!("/v1/products/{product}"),
            &json!({"data": {"type": "products", "id": product, "attributes": {"price": "9.90"}}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let read = app.get(&format!("/v1/products/{product}")).await;
    assert_eq!(read.body["data"]["attributes"]["price"], "9.90");

    assert_eq!(
        app.create_inventory(&product, 20).await.status,
        StatusCode::CREATED
    );
    app.create_inventory(&product, 1).await.assert_error(
        409,
        "already_exists",
        Some("/data/relationships/product"),
    );
    let path = format!("/v1/inventory/{product}");
    let adjust = |delta: i64| json!({"data": {"type": "inventory", "id": product, "attributes": {"quantityDelta": delta}}});
    assert_eq!(app.patch(&path, &adjust(-5)).await.status, StatusCode::OK);
    app.patch(&path, &adjust(-16)).await.assert_error(
        422,
        "insufficient_stock",
        Some("/data/attributes/quantityDelta"),
    );
    let stock = app.get(&format!("{path}?include=product")).await;
    assert_eq!(stock.body["data"]["attributes"]["onHand"], 15);
    assert_eq!(stock.body["included"][0]["attributes"]["price"], "9.90");
    app.shutdown().await;
}
