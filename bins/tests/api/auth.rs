//! The API key: writes need it, reads are public, a wrong key is always refused.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{JSON_API, product_doc, spawn_app};

#[tokio::test]
async fn writes_need_the_key() {
    let app = spawn_app().await;
    let body = product_doc("CUP-1", "1.00", None).to_string().into_bytes();
    let without = app
        .request(
            Method::POST,
            "/v1/products",
            Some((JSON_API, body.clone())),
            None,
        )
        .await;
    without.assert_error(401, "unauthenticated", None);
    assert!(
        without
            .header("www-authenticate")
            .is_some_and(|v| v.contains("X-API-Key"))
    );
    let wrong = app
        .request(
            Method::POST,
            "/v1/products",
            Some((JSON_API, body.clone())),
            Some("wrong-key-wrong-key"),
        )
        .await;
    wrong.assert_error(401, "unauthenticated", None);
    // Unauthenticated callers learn nothing from validation.
    let invalid = app
        .request(
            Method::POST,
            "/v1/products",
            Some((JSON_API, b"{".to_vec())),
            None,
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNAUTHORIZED);
    for (method, path) in [
        (
            Method::DELETE,
            "/v1/products/01a202f6-1757-70e0-a32e-481ae3e960f2",
        ),
        (Method::POST, "/v1/categories"),
        (Method::POST, "/v1/inventory"),
    ] {
        let answer = app
            .request(method, path, Some((JSON_API, b"{}".to_vec())), None)
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(app.all_products().await, json!([]));
    let with = app
        .request(
            Method::POST,
            "/v1/products",
            Some((JSON_API, body)),
            Some(&app.key),
        )
        .await;
    assert_eq!(with.status, StatusCode::CREATED);
    app.shutdown().await;
}

#[tokio::test]
async fn reads_are_public_but_a_wrong_key_is_refused() {
    let app = spawn_app().await;
    assert_eq!(app.get("/v1/products").await.status, StatusCode::OK);
    let wrong = app
        .request(
            Method::GET,
            "/v1/products",
            None,
            Some("not-the-key-at-all"),
        )
        .await;
    wrong.assert_error(401, "unauthenticated", None);
    let right = app
        .request(Method::GET, "/v1/products", None, Some(&app.key))
        .await;
    assert_eq!(right.status, StatusCode::OK);
    app.shutdown().await;
}
