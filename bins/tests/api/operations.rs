//! Request ids, probes, the OpenAPI document, shutdown.

use reqwest::StatusCode;

use crate::helpers::{client, spawn_app};

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/v1/products"))
        .header("X-Request-ID", "trace-abc_123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-abc_123");
    let response = app
        .client
        .get(app.url("/nowhere"))
        .header("X-Request-ID", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(generated, "bad id with spaces");
    assert!(uuid::Uuid::parse_str(&generated).is_ok());
    let long = "a".repeat(129);
    let response = app
        .client
        .get(app.url("/health"))
        .header("X-Request-ID", &long)
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], long.as_str());
    app.shutdown().await;
}

#[tokio::test]
async fn probes_report_dependencies() {
    let app = spawn_app().await;
    let health = app.get("/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["meta"]["status"], "ok");
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["meta"]["status"], "ready");
    assert_eq!(ready.body["meta"]["checks"][0]["name"], "database");
    assert_eq!(ready.body["meta"]["checks"][0]["status"], "up");
    app.shutdown().await;
}

#[tokio::test]
async fn openapi_document_and_docs_are_served() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/v1/products",
        "/v1/products/{id}",
        "/v1/categories",
        "/v1/categories/{id}",
        "/v1/inventory",
        "/v1/inventory/{product_id}",
        "/health",
        "/ready",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let create = &spec["paths"]["/v1/products"]["post"];
    assert!(create["requestBody"]["content"]["application/vnd.api+json"].is_object());
    assert!(create["responses"]["201"]["content"]["application/vnd.api+json"].is_object());
    // Either credential will do: an admin bearer token or the API key.
    let security = create["security"].as_array().unwrap();
    for scheme in ["Bearer", "ApiKey"] {
        assert!(
            security.iter().any(|s| s[scheme] == serde_json::json!([])),
            "{security:?}"
        );
    }
    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
    app.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_the_listener() {
    let app = spawn_app().await;
    let url = app.url("/health");
    assert_eq!(
        client().get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    app.shutdown().await;
    assert!(client().get(&url).send().await.is_err());
}
