//! Credentials on the embedded server: writes need the API key or an admin bearer
//! token, reads are public, wrong or bad credentials are always refused (with a
//! challenge), and a refused caller learns nothing from validation.

use chrono::{Duration, Utc};
use emporium_domain::accounts::{RefreshClaims, TokenIssuer};
use emporium_domain::{Role, UserId};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{JSON_API, Reply, TestApp, sku_product_document, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_the_key() {
    let mut app = spawn_app().await;
    let body = sku_product_document("CUP-1", "1.00", None)
        .to_string()
        .into_bytes();
    let without = app
        .raw(
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
            .is_some_and(|v| v.contains("X-API-Key") && v.starts_with("Bearer ")),
        "{:?}",
        without.headers
    );
    let wrong = app
        .raw(
            Method::POST,
            "/v1/products",
            Some((JSON_API, body.clone())),
            Some("wrong-key-wrong-key"),
        )
        .await;
    wrong.assert_error(401, "unauthenticated", None);
    // Unauthenticated callers learn nothing from validation.
    let invalid = app
        .raw(
            Method::POST,
            "/v1/products",
            Some((JSON_API, b"{".to_vec())),
            None,
        )
        .await;
    assert_eq!(invalid.status.as_u16(), 401, "{}", invalid.text);
    for (method, path) in [
        (
            Method::DELETE,
            "/v1/products/01a202f6-1757-70e0-a32e-481ae3e960f2",
        ),
        (Method::POST, "/v1/categories"),
        (Method::POST, "/v1/inventory"),
    ] {
        let reply = app
            .raw(method, path, Some((JSON_API, b"{}".to_vec())), None)
            .await;
        assert_eq!(reply.status.as_u16(), 401, "{path}: {}", reply.text);
    }
    assert_eq!(app.all_products().await, json!([]));
    let with = app
        .raw(
            Method::POST,
            "/v1/products",
            Some((JSON_API, body)),
            Some(&app.api_key),
        )
        .await;
    assert_eq!(with.status.as_u16(), 201, "{}", with.text);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_public_but_a_wrong_key_is_refused() {
    let mut app = spawn_app().await;
    app.get("/v1/products").await.expect_status(200);
    let wrong = app
        .raw(
            Method::GET,
            "/v1/products",
            None,
            Some("not-the-key-at-all"),
        )
        .await;
    wrong.assert_error(401, "unauthenticated", None);
    let right = app
        .raw(Method::GET, "/v1/products", None, Some(&app.api_key))
        .await;
    assert_eq!(right.status.as_u16(), 200, "{}", right.text);
    app.shutdown().await;
}

/// `POST /v1/products` (SKU `sku`) with `Authorization: Bearer token`.
async fn create_with_bearer(app: &TestApp, sku: &str, token: &str) -> Reply {
    app.with_headers(
        Method::POST,
        "/v1/products",
        Some(&sku_product_document(sku, "1.00", None)),
        &[("Authorization", &format!("Bearer {token}"))],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_token_may_write_a_customer_token_may_not() {
    let mut app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let created = create_with_bearer(&app, "ADM-1", &admin).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    let customer = app.signed_in(Role::Customer).await;
    let refused = create_with_bearer(&app, "CUS-1", &customer).await;
    refused.assert_error(403, "forbidden", None);
    // A customer learns nothing from validation either.
    let invalid = app
        .with_headers(
            Method::POST,
            "/v1/categories",
            Some(&json!({})),
            &[("Authorization", &format!("Bearer {customer}"))],
        )
        .await;
    assert_eq!(invalid.status.as_u16(), 403, "{}", invalid.text);
    // Reads with a valid token are fine.
    let read = app
        .with_headers(
            Method::GET,
            "/v1/products",
            None,
            &[("Authorization", &format!("Bearer {customer}"))],
        )
        .await;
    assert_eq!(read.status.as_u16(), 200, "{}", read.text);
    assert_eq!(
        app.all_products()
            .await
            .as_array()
            .expect("a product list")
            .len(),
        1
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bearer_tokens_are_refused_with_a_challenge() {
    let mut app = spawn_app().await;
    let admin = app.signed_in(Role::Admin).await;
    let mut tampered = admin.clone();
    let last = tampered.pop().expect("a token");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let expired = app.access_token_at(Role::Admin, Utc::now() - Duration::hours(2));
    let refresh = app
        .tokens()
        .issue_refresh(
            RefreshClaims {
                user_id: UserId(Uuid::now_v7()),
                token_id: Uuid::now_v7(),
            },
            Utc::now(),
        )
        .expect("issuing a refresh token")
        .token;
    let no_such_account = app.access_token(Role::Admin);
    let other_secret = {
        let mut other = spawn_app().await;
        let token = other.access_token(Role::Admin);
        other.shutdown().await;
        token
    };
    for (name, token) in [
        ("tampered", tampered.as_str()),
        ("expired", expired.as_str()),
        ("refresh", refresh.as_str()),
        ("other secret", other_secret.as_str()),
        // Well signed, but for an account this server does not have: the users store
        // is at hand, so the account's current state decides.
        ("no such account", no_such_account.as_str()),
        ("garbage", "not-a-jwt"),
    ] {
        for method in [Method::GET, Method::POST] {
            let body = sku_product_document("BAD-1", "1.00", None);
            let reply = app
                .with_headers(
                    method.clone(),
                    "/v1/products",
                    (method == Method::POST).then_some(&body),
                    &[("Authorization", &format!("Bearer {token}"))],
                )
                .await;
            reply.assert_error(401, "invalid_token", None);
            assert_eq!(
                reply.header("www-authenticate"),
                Some(r#"Bearer realm="emporium", error="invalid_token""#),
                "{name}"
            );
        }
    }
    let basic = app
        .with_headers(
            Method::GET,
            "/v1/products",
            None,
            &[("Authorization", "Basic dXNlcjpwYXNz")],
        )
        .await;
    basic.assert_error(401, "invalid_token", None);
    // Both kinds of credentials at once are ambiguous.
    let both = app
        .with_headers(
            Method::POST,
            "/v1/products",
            Some(&sku_product_document("TWO-1", "1.00", None)),
            &[
                ("Authorization", &format!("Bearer {admin}")),
                ("X-API-Key", &app.api_key),
            ],
        )
        .await;
    both.assert_error(400, "ambiguous_credentials", None);
    assert_eq!(app.all_products().await, json!([]));
    app.shutdown().await;
}
