//! Credentials: writes need the API key or an admin bearer token, reads are public,
//! wrong credentials are always refused.

use emporium_domain::accounts::{RefreshClaims, TokenIssuer};
use emporium_domain::{Role, UserId};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{JSON_API, TestApp, product_doc, spawn_app};

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
            .is_some_and(|v| v.contains("X-API-Key") && v.starts_with("Bearer "))
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

async fn create_with_bearer(app: &TestApp, sku: &str, token: &str) -> crate::helpers::Answer {
    app.request_with(
        Method::POST,
        "/v1/products",
        Some(&product_doc(sku, "1.00", None)),
        &[("Authorization", &format!("Bearer {token}"))],
    )
    .await
}

#[tokio::test]
async fn an_admin_token_may_write_a_customer_token_may_not() {
    let app = spawn_app().await;
    let admin = app.access_token(Role::Admin);
    let created = create_with_bearer(&app, "ADM-1", &admin).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let customer = app.access_token(Role::Customer);
    let refused = create_with_bearer(&app, "CUS-1", &customer).await;
    refused.assert_error(403, "forbidden", None);
    // A customer learns nothing from validation either.
    let invalid = app
        .request_with(
            Method::POST,
            "/v1/categories",
            Some(&json!({})),
            &[("Authorization", &format!("Bearer {customer}"))],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::FORBIDDEN);
    // Reads with a valid token are fine.
    let read = app
        .request_with(
            Method::GET,
            "/v1/products",
            None,
            &[("Authorization", &format!("Bearer {customer}"))],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(app.all_products().await.as_array().unwrap().len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn bad_bearer_tokens_are_refused_with_a_challenge() {
    let app = spawn_app().await;
    let admin = app.access_token(Role::Admin);
    let mut tampered = admin.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let expired = app.access_token_at(Role::Admin, chrono::Utc::now() - chrono::Duration::hours(2));
    let refresh = app
        .tokens()
        .issue_refresh(
            RefreshClaims {
                user_id: UserId(uuid::Uuid::now_v7()),
                token_id: uuid::Uuid::now_v7(),
            },
            chrono::Utc::now(),
        )
        .unwrap()
        .token;
    let other_secret = {
        let other = spawn_app().await;
        let token = other.access_token(Role::Admin);
        other.shutdown().await;
        token
    };
    for (name, token) in [
        ("tampered", tampered.as_str()),
        ("expired", expired.as_str()),
        ("refresh", refresh.as_str()),
        ("other secret", other_secret.as_str()),
        ("garbage", "not-a-jwt"),
    ] {
        for method in [Method::GET, Method::POST] {
            let body = product_doc("BAD-1", "1.00", None);
            let answer = app
                .request_with(
                    method.clone(),
                    "/v1/products",
                    (method == Method::POST).then_some(&body),
                    &[("Authorization", &format!("Bearer {token}"))],
                )
                .await;
            answer.assert_error(401, "invalid_token", None);
            assert_eq!(
                answer.header("www-authenticate"),
                Some(r#"Bearer realm="emporium", error="invalid_token""#),
                "{name}"
            );
        }
    }
    let basic = app
        .request_with(
            Method::GET,
            "/v1/products",
            None,
            &[("Authorization", "Basic dXNlcjpwYXNz")],
        )
        .await;
    basic.assert_error(401, "invalid_token", None);
    // Both kinds of credentials at once are ambiguous.
    let both = app
        .request_with(
            Method::POST,
            "/v1/products",
            Some(&product_doc("TWO-1", "1.00", None)),
            &[
                ("Authorization", &format!("Bearer {admin}")),
                ("X-API-Key", &app.key),
            ],
        )
        .await;
    both.assert_error(400, "ambiguous_credentials", None);
    assert_eq!(app.all_products().await, json!([]));
    app.shutdown().await;
}
