//! The edge of the server end to end, each behaviour as a client sees it:
//!
//! - admin power follows the account as stored now (a demoted admin's old token no
//!   longer administers; a deactivated account's token is refused everywhere);
//! - the auth routes are limited per client address only: failed log-ins never lock
//!   the account's owner out, and refresh and log-out share the budget;
//! - security headers on every answer; `GET /v1/users/{id}`; 405 with `Allow` and
//!   `OPTIONS`; CORS for the configured origins only;
//! - deleting a product removes its stock record (all-in-one, production adapters,
//!   split services); categories are renamed and deleted;
//! - NUL characters are refused as bad input, never a 500 (SQLite and PostgreSQL);
//! - idle connections are closed, and connections over the cap wait.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::helpers::{
    JSON_API, Reply, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD, TestApp, access_token_of, client_from,
    credentials, embedded_config, external_config, free_port, install_crypto,
    postgres_redis_config, product_document, refresh_document, register_document, send, spawn_app,
    with_admin,
};

/// The password of every account registered here.
const PASSWORD: &str = "correct horse battery";
/// A client address other than the default 127.0.0.1.
const OTHER_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Registers `email` and logs in: (user id, access token).
async fn signed_up(app: &TestApp, email: &str) -> (String, String) {
    let registered = app.register(email, PASSWORD).await;
    registered.expect_status(201);
    let token = access_token_of(&app.log_in(email, PASSWORD).await);
    (registered.id(), token)
}

/// `GET /v1/users/me` with `token`, which must succeed.
async fn me(app: &TestApp, token: &str) -> Reply {
    let reply = app.bearer(Method::GET, "/v1/users/me", token, None).await;
    reply.expect_status(200);
    reply
}

/// `PATCH /v1/users/{id}` with `attributes`, as the holder of `token`.
async fn change_user(app: &TestApp, token: &str, id: &str, attributes: Value) -> Reply {
    let document = json!({"data": {"type": "users", "id": id, "attributes": attributes}});
    app.bearer(
        Method::PATCH,
        &format!("/v1/users/{id}"),
        token,
        Some(&document),
    )
    .await
}

/// Registers `email`, has `admin` promote it, then logs it in: (id, access token,
/// which says "admin").
async fn promoted_admin(app: &TestApp, admin: &str, email: &str) -> (String, String) {
    let registered = app.register(email, PASSWORD).await;
    registered.expect_status(201);
    let id = registered.id();
    let promoted = change_user(app, admin, &id, json!({"role": "admin"})).await;
    promoted.expect_status(200);
    assert_eq!(promoted.attributes()["role"], "admin", "{}", promoted.text);
    let token = access_token_of(&app.log_in(email, PASSWORD).await);
    (id, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_power_follows_the_account_as_stored_now() {
    let dir = TempDir::new();
    let mut app = TestApp::spawn(with_admin(embedded_config(&dir)), ServiceSet::All).await;
    let root = access_token_of(&app.log_in(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD).await);
    let root_id = me(&app, &root).await.id();
    let cup = product_document("Espresso cup", "12.50", None);

    // B is made an admin, and its token works as one.
    let (b, b_token) = promoted_admin(&app, &root, "b@example.com").await;
    app.bearer(Method::POST, "/v1/products", &b_token, Some(&cup))
        .await
        .expect_status(201);
    // The root demotes B: B's old token (still saying "admin") administers nothing.
    change_user(&app, &root, &b, json!({"role": "customer"}))
        .await
        .expect_status(200);
    change_user(&app, &b_token, &b, json!({"role": "admin"}))
        .await
        .expect_error(403, Some("forbidden"));
    change_user(&app, &b_token, &root_id, json!({"active": false}))
        .await
        .expect_error(403, Some("forbidden"));
    app.bearer(Method::POST, "/v1/products", &b_token, Some(&cup))
        .await
        .expect_error(403, Some("forbidden"));
    let b_seen = me(&app, &b_token).await;
    assert_eq!(b_seen.attributes()["role"], "customer", "{}", b_seen.text);
    let root_seen = me(&app, &root).await;
    assert_eq!(
        root_seen.attributes()["role"],
        "admin",
        "{}",
        root_seen.text
    );
    assert_eq!(root_seen.attributes()["active"], true, "{}", root_seen.text);

    // The other order: D demotes C first (allowed, D is an admin); then C's old token
    // can neither demote D nor restore C's own role.
    let (c, c_token) = promoted_admin(&app, &root, "c@example.com").await;
    let (d, d_token) = promoted_admin(&app, &root, "d@example.com").await;
    let demoted = change_user(&app, &d_token, &c, json!({"role": "customer"})).await;
    demoted.expect_status(200);
    assert_eq!(demoted.attributes()["role"], "customer", "{}", demoted.text);
    change_user(&app, &c_token, &d, json!({"role": "customer"}))
        .await
        .expect_error(403, Some("forbidden"));
    change_user(&app, &c_token, &c, json!({"role": "admin"}))
        .await
        .expect_error(403, Some("forbidden"));
    let d_seen = me(&app, &d_token).await;
    assert_eq!(d_seen.attributes()["role"], "admin", "{}", d_seen.text);
    let c_seen = me(&app, &c_token).await;
    assert_eq!(c_seen.attributes()["role"], "customer", "{}", c_seen.text);

    // A deactivated admin's old token is refused wherever a token is read.
    let (e, e_token) = promoted_admin(&app, &root, "e@example.com").await;
    change_user(&app, &root, &e, json!({"active": false}))
        .await
        .expect_status(200);
    for (method, path, document) in [
        (Method::GET, "/v1/users/me", None),
        (Method::POST, "/v1/products", Some(&cup)),
        (Method::GET, "/v1/products", None),
    ] {
        let refused = app.bearer(method.clone(), path, &e_token, document).await;
        refused.expect_error(401, Some("invalid_token"));
        assert!(
            refused
                .header("www-authenticate")
                .is_some_and(|value| value.contains("invalid_token")),
            "{method} {path}: {:?}",
            refused.headers
        );
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_log_ins_never_lock_the_owner_out() {
    const VICTIM: &str = "victim@example.com";
    let dir = TempDir::new();
    let config = Config {
        auth_rate_per_minute: NonZeroU32::new(10).expect("not zero"),
        ..embedded_config(&dir)
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    let owner = client_from(OTHER_CLIENT);
    app.anonymous_from(
        &owner,
        Method::POST,
        "/v1/auth/register",
        Some(&register_document(VICTIM, PASSWORD)),
    )
    .await
    .expect_status(201);

    // Someone guesses from 127.0.0.1: refused ten times, then stopped by the limit
    // of that client address. (Should the guesses be slow enough for the limit to
    // refill one attempt, one more 401 may come before the 429.)
    for _ in 0..10 {
        app.log_in(VICTIM, "wrong guess")
            .await
            .assert_error(401, "invalid_credentials", None);
    }
    let mut limited = None;
    for _ in 0..3 {
        let reply = app.log_in(VICTIM, "wrong guess").await;
        if reply.status.as_u16() == 429 {
            limited = Some(reply);
            break;
        }
        reply.assert_error(401, "invalid_credentials", None);
    }
    let limited = limited.expect("the guessing client address is limited");
    limited.assert_error(429, "too_many_requests", None);
    assert!(limited.header("retry-after").is_some(), "{limited:?}");

    // The owner, from another client address, still logs in.
    let session = app
        .anonymous_from(
            &owner,
            Method::POST,
            "/v1/auth/login",
            Some(&credentials(VICTIM, PASSWORD)),
        )
        .await;
    let token = access_token_of(&session);
    assert!(
        session.attributes()["refreshToken"].is_string(),
        "{}",
        session.text
    );
    let seen = me(&app, &token).await;
    assert_eq!(seen.attributes()["email"], VICTIM, "{}", seen.text);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_and_log_out_are_rate_limited_per_client_address() {
    let dir = TempDir::new();
    let config = Config {
        auth_rate_per_minute: NonZeroU32::new(3).expect("not zero"),
        ..embedded_config(&dir)
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    let bad = refresh_document("not-a-refresh-token");
    let retry_after = |reply: &Reply| -> u64 {
        reply
            .header("retry-after")
            .unwrap_or_else(|| panic!("no Retry-After: {:?}", reply.headers))
            .parse()
            .expect("Retry-After in seconds")
    };

    // From 127.0.0.1: three refreshes are answered, the fourth is limited, and so is
    // a log-out (one budget for both).
    for _ in 0..3 {
        app.anonymous(Method::POST, "/v1/auth/refresh", Some(&bad))
            .await
            .assert_error(401, "invalid_token", None);
    }
    let limited = app
        .anonymous(Method::POST, "/v1/auth/refresh", Some(&bad))
        .await;
    limited.assert_error(429, "too_many_requests", None);
    assert!((1..=60).contains(&retry_after(&limited)), "{limited:?}");
    app.anonymous(Method::POST, "/v1/auth/logout", Some(&bad))
        .await
        .assert_error(429, "too_many_requests", None);

    // Another client address has a budget of its own, spent by log-outs here.
    let other = client_from(OTHER_CLIENT);
    for _ in 0..3 {
        app.anonymous_from(&other, Method::POST, "/v1/auth/logout", Some(&bad))
            .await
            .assert_error(401, "invalid_token", None);
    }
    let limited = app
        .anonymous_from(&other, Method::POST, "/v1/auth/logout", Some(&bad))
        .await;
    limited.assert_error(429, "too_many_requests", None);
    assert!((1..=60).contains(&retry_after(&limited)), "{limited:?}");
    app.anonymous_from(&other, Method::POST, "/v1/auth/refresh", Some(&bad))
        .await
        .assert_error(429, "too_many_requests", None);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let dir = TempDir::new();
    let mut app = TestApp::spawn(with_admin(embedded_config(&dir)), ServiceSet::All).await;
    let nosniff = |reply: &Reply| {
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{} answer: {:?}",
            reply.status,
            reply.headers
        );
    };

    let listed = app.get("/v1/products").await;
    listed.expect_status(200);
    nosniff(&listed);
    let missing = app.get(&format!("/v1/products/{}", Uuid::new_v4())).await;
    missing.expect_error(404, Some("not_found"));
    nosniff(&missing);
    let anonymous = app
        .anonymous(
            Method::POST,
            "/v1/products",
            Some(&product_document("Cup", "1.00", None)),
        )
        .await;
    anonymous.expect_error(401, Some("unauthenticated"));
    nosniff(&anonymous);

    // Sessions and accounts are never kept by a cache.
    app.register("private@example.com", PASSWORD)
        .await
        .expect_status(201);
    let session = app.log_in("private@example.com", PASSWORD).await;
    let token = access_token_of(&session);
    nosniff(&session);
    assert_eq!(
        session.header("cache-control"),
        Some("no-store"),
        "{:?}",
        session.headers
    );
    let seen = me(&app, &token).await;
    nosniff(&seen);
    assert_eq!(
        seen.header("cache-control"),
        Some("no-store"),
        "{:?}",
        seen.headers
    );
    let account = app
        .bearer(
            Method::GET,
            &format!("/v1/users/{}", seen.id()),
            &token,
            None,
        )
        .await;
    account.expect_status(200);
    assert_eq!(account.header("cache-control"), Some("no-store"));
    let refresh_token = session.attributes()["refreshToken"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let refreshed = app
        .anonymous(
            Method::POST,
            "/v1/auth/refresh",
            Some(&refresh_document(&refresh_token)),
        )
        .await;
    refreshed.expect_status(200);
    assert_eq!(refreshed.header("cache-control"), Some("no-store"));

    // The documentation page may not be framed.
    let docs = app
        .bare_request(Method::GET, "/docs")
        .send()
        .await
        .expect("GET /docs");
    assert_eq!(docs.status().as_u16(), 200);
    let header = |name: &str| {
        docs.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    let policy = header("content-security-policy").unwrap_or_default();
    assert!(
        policy.contains("frame-ancestors 'none'"),
        "Content-Security-Policy: {policy:?}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_user_is_at_its_location() {
    let dir = TempDir::new();
    let mut app = TestApp::spawn(with_admin(embedded_config(&dir)), ServiceSet::All).await;
    let registered = app.register("ada@example.com", PASSWORD).await;
    registered.expect_status(201);
    let id = registered.id();
    let location = registered
        .header("location")
        .unwrap_or_else(|| panic!("no Location: {:?}", registered.headers))
        .to_owned();
    assert_eq!(
        registered.body["data"]["links"]["self"].as_str(),
        Some(location.as_str()),
        "{}",
        registered.text
    );
    let ada = access_token_of(&app.log_in("ada@example.com", PASSWORD).await);

    // The user themself and an admin read it.
    let own = app.bearer(Method::GET, &location, &ada, None).await;
    own.expect_status(200);
    assert_eq!(own.id(), id);
    assert_eq!(own.body["data"]["type"], "users", "{}", own.text);
    assert_eq!(own.attributes()["email"], "ada@example.com", "{}", own.text);
    assert!(!own.text.contains(PASSWORD), "{}", own.text);
    let admin = access_token_of(&app.log_in(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD).await);
    let by_admin = app.bearer(Method::GET, &location, &admin, None).await;
    by_admin.expect_status(200);
    assert_eq!(by_admin.id(), id);
    assert_eq!(
        by_admin.attributes()["role"],
        "customer",
        "{}",
        by_admin.text
    );

    // Another customer learns nothing; nobody must sign in.
    let (_, bob) = signed_up(&app, "bob@example.com").await;
    app.bearer(Method::GET, &location, &bob, None)
        .await
        .expect_error(404, Some("not_found"));
    app.get(&location)
        .await
        .assert_error(401, "unauthenticated", None);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_a_route_lacks_answer_405_with_allow_and_options_lists_them() {
    let mut app = spawn_app().await;
    let allow = |reply: &Reply| -> Vec<String> {
        reply
            .header("allow")
            .unwrap_or_else(|| panic!("no Allow on a {} answer: {:?}", reply.status, reply.headers))
            .split(',')
            .map(|method| method.trim().to_owned())
            .collect()
    };

    let put = send(app.request(Method::PUT, "/v1/products")).await;
    put.expect_error(405, Some("method_not_allowed"));
    let methods = allow(&put);
    for method in ["GET", "POST"] {
        assert!(methods.iter().any(|m| m == method), "{methods:?}");
    }
    assert!(!methods.iter().any(|m| m == "PUT"), "{methods:?}");

    let delete = send(app.request(Method::DELETE, "/v1/users/me")).await;
    delete.expect_error(405, Some("method_not_allowed"));
    let methods = allow(&delete);
    assert!(methods.iter().any(|m| m == "GET"), "{methods:?}");
    assert!(!methods.iter().any(|m| m == "DELETE"), "{methods:?}");

    let options =
        send(app.request(Method::OPTIONS, &format!("/v1/products/{}", Uuid::new_v4()))).await;
    options.expect_status(204);
    let methods = allow(&options);
    for method in ["GET", "PATCH", "DELETE", "OPTIONS"] {
        assert!(methods.iter().any(|m| m == method), "{methods:?}");
    }

    send(app.request(Method::OPTIONS, "/v1/nowhere"))
        .await
        .assert_error(404, "not_found", None);
    app.shutdown().await;
}

/// Deletes a product with unreserved stock on `products`: its stock record on
/// `inventory` goes with it.
async fn deleting_a_product_removes_its_stock(products: &TestApp, inventory: &TestApp) {
    let id = products.create_product("Espresso cup", "12.50", None).await;
    inventory.create_inventory(&id, 5).await.expect_status(201);
    assert_eq!(inventory.on_hand(&id).await, 5);

    products
        .delete(&format!("/v1/products/{id}"))
        .await
        .expect_status(204);
    products
        .get(&format!("/v1/products/{id}"))
        .await
        .expect_error(404, Some("not_found"));
    inventory
        .get(&format!("/v1/inventory/{id}"))
        .await
        .expect_error(404, Some("not_found"));
    inventory
        .adjust(&id, json!(1))
        .await
        .expect_error(404, Some("not_found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_delete_of_a_product_removes_its_stock() {
    let mut app = spawn_app().await;
    deleting_a_product_removes_its_stock(&app, &app).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_mongodb_redis_delete_of_a_product_removes_its_stock() {
    let dir = TempDir::new();
    let Some(config) = external_config(&dir).await else {
        return;
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    deleting_a_product_removes_its_stock(&app, &app).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_services_delete_of_a_product_removes_its_stock() {
    let key = emporium::config::generate_api_key();
    let secret = emporium_adapters::security::generate_secret();
    let inventory_addr: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");
    let products_dir = TempDir::new();
    let mut products = TestApp::spawn(
        Config {
            inventory_url: Some(format!("http://{inventory_addr}")),
            api_key: Some(key.clone()),
            jwt_secret: Some(secret.clone()),
            ..embedded_config(&products_dir)
        },
        ServiceSet::Products,
    )
    .await;
    let inventory_dir = TempDir::new();
    let mut inventory = TestApp::spawn_on(
        Config {
            products_url: Some(products.base.clone()),
            api_key: Some(key),
            jwt_secret: Some(secret),
            ..embedded_config(&inventory_dir)
        },
        ServiceSet::Inventory,
        inventory_addr,
    )
    .await;
    deleting_a_product_removes_its_stock(&products, &inventory).await;
    inventory.shutdown().await;
    products.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn categories_are_renamed_and_deleted() {
    let dir = TempDir::new();
    let mut app = TestApp::spawn(with_admin(embedded_config(&dir)), ServiceSet::All).await;
    let cups = app.create_category("Cups").await;
    let plates = app.create_category("Plates").await;
    let product = app
        .create_product("Espresso cup", "12.50", Some(&cups))
        .await;
    let rename = |id: &str, name: &str| json!({"data": {"type": "categories", "id": id, "attributes": {"name": name}}});
    let cups_path = format!("/v1/categories/{cups}");
    let plates_path = format!("/v1/categories/{plates}");

    // Callers who may not manage the catalog change nothing.
    let (_, customer) = signed_up(&app, "shopper@example.com").await;
    app.bearer(
        Method::PATCH,
        &cups_path,
        &customer,
        Some(&rename(&cups, "Mugs")),
    )
    .await
    .expect_error(403, Some("forbidden"));
    app.bearer(Method::DELETE, &plates_path, &customer, None)
        .await
        .expect_error(403, Some("forbidden"));
    app.anonymous(Method::PATCH, &cups_path, Some(&rename(&cups, "Mugs")))
        .await
        .expect_error(401, Some("unauthenticated"));
    app.anonymous(Method::DELETE, &plates_path, None)
        .await
        .expect_error(401, Some("unauthenticated"));
    let unchanged = app.get(&cups_path).await;
    unchanged.expect_status(200);
    assert_eq!(unchanged.attributes()["name"], "Cups", "{}", unchanged.text);

    // A rename keeps the slug.
    let renamed = app.patch(&cups_path, &rename(&cups, "Mugs")).await;
    renamed.expect_status(200);
    assert_eq!(renamed.id(), cups);
    assert_eq!(renamed.attributes()["name"], "Mugs", "{}", renamed.text);
    assert_eq!(renamed.attributes()["slug"], "cups", "{}", renamed.text);
    let read = app.get(&cups_path).await;
    read.expect_status(200);
    assert_eq!(read.attributes()["name"], "Mugs", "{}", read.text);
    assert_eq!(read.attributes()["slug"], "cups", "{}", read.text);

    // Names stay unique.
    app.patch(&cups_path, &rename(&cups, "Plates"))
        .await
        .assert_error(409, "duplicate_name", Some("/data/attributes/name"));
    let read = app.get(&cups_path).await;
    assert_eq!(read.attributes()["name"], "Mugs", "{}", read.text);

    // A category a product belongs to stays, and so does the product's link to it.
    app.delete(&cups_path)
        .await
        .assert_error(409, "category_in_use", None);
    app.get(&cups_path).await.expect_status(200);
    let kept = app.get(&format!("/v1/products/{product}")).await;
    kept.expect_status(200);
    assert_eq!(
        kept.body["data"]["relationships"]["category"]["data"]["id"],
        json!(cups),
        "{}",
        kept.text
    );

    // An empty one goes.
    app.delete(&plates_path).await.expect_status(204);
    app.get(&plates_path)
        .await
        .expect_error(404, Some("not_found"));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_the_configured_origins_only() {
    const SHOP: &str = "https://shop.example";
    let dir = TempDir::new();
    let config = Config {
        cors_origins: vec![SHOP.into()],
        ..embedded_config(&dir)
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    let allowed_origin = |reply: &Reply| {
        reply
            .header("access-control-allow-origin")
            .map(str::to_owned)
    };

    let preflight = app
        .with_headers(
            Method::OPTIONS,
            "/v1/products",
            None,
            &[("Origin", SHOP), ("Access-Control-Request-Method", "POST")],
        )
        .await;
    assert!(
        preflight.status.is_success(),
        "{} {:?}",
        preflight.status,
        preflight.headers
    );
    assert_eq!(allowed_origin(&preflight).as_deref(), Some(SHOP));

    let from_shop = send(
        app.request(Method::GET, "/v1/products")
            .header("Origin", SHOP),
    )
    .await;
    from_shop.expect_status(200);
    assert_eq!(allowed_origin(&from_shop).as_deref(), Some(SHOP));

    let from_elsewhere = send(
        app.request(Method::GET, "/v1/products")
            .header("Origin", "https://evil.example"),
    )
    .await;
    from_elsewhere.expect_status(200);
    assert_eq!(
        allowed_origin(&from_elsewhere),
        None,
        "{:?}",
        from_elsewhere.headers
    );
    let preflight_elsewhere = app
        .with_headers(
            Method::OPTIONS,
            "/v1/products",
            None,
            &[
                ("Origin", "https://evil.example"),
                ("Access-Control-Request-Method", "POST"),
            ],
        )
        .await;
    assert_eq!(
        allowed_origin(&preflight_elsewhere),
        None,
        "{:?}",
        preflight_elsewhere.headers
    );
    app.shutdown().await;

    // Without configured origins, no CORS headers at all.
    let mut plain = spawn_app().await;
    let reply = send(
        plain
            .request(Method::GET, "/v1/products")
            .header("Origin", SHOP),
    )
    .await;
    reply.expect_status(200);
    assert_eq!(allowed_origin(&reply), None, "{:?}", reply.headers);
    plain.shutdown().await;
}

/// NUL characters, which PostgreSQL cannot store, are bad input: a search for one is a
/// 400 about the parameter, a description with one a 422, and nothing is created.
async fn nul_characters_are_bad_input(app: &TestApp) {
    let searched = app.get("/v1/products?filter%5Bq%5D=%00").await;
    searched.assert_parameter_error(400, "filter[q]");
    searched.expect_error(400, None);

    let total = |reply: &Reply| reply.body["meta"]["total"].as_u64();
    let before = app.get("/v1/products").await;
    before.expect_status(200);
    let mut document = product_document("Espresso cup", "12.50", None);
    document["data"]["attributes"]["description"] = json!("90 ml\u{0000}porcelain");
    app.post("/v1/products", &document).await.assert_error(
        422,
        "invalid_value",
        Some("/data/attributes/description"),
    );
    let after = app.get("/v1/products").await;
    after.expect_status(200);
    assert_eq!(total(&after), total(&before), "{}", after.text);
    assert!(total(&after).is_some(), "{}", after.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_nul_characters_are_bad_input() {
    let mut app = spawn_app().await;
    nul_characters_are_bad_input(&app).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nul_characters_are_bad_input() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    nul_characters_are_bad_input(&app).await;
    app.shutdown().await;
}

/// The server's `host:port`.
fn address(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Reads `stream` until the server closes it or `patience` runs out: whether it was
/// closed in time, and everything read.
async fn read_until_closed(stream: &mut TcpStream, patience: Duration) -> (bool, String) {
    let deadline = tokio::time::Instant::now() + patience;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let closed = loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => break false,
            Ok(Ok(0) | Err(_)) => break true,
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
        }
    };
    (closed, String::from_utf8_lossy(&received).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed() {
    let dir = TempDir::new();
    let config = Config {
        idle_timeout: 1,
        ..embedded_config(&dir)
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    let patience = Duration::from_secs(4);

    // A client that connects and never sends anything.
    let mut silent = TcpStream::connect(address(&app)).await.expect("connecting");
    let (closed, received) = read_until_closed(&mut silent, patience).await;
    assert!(
        closed,
        "a silent connection was still open after {patience:?}"
    );
    assert!(received.is_empty(), "{received}");

    // A kept-alive connection after one complete request.
    let mut kept = TcpStream::connect(address(&app)).await.expect("connecting");
    kept.write_all(
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/vnd.api+json\r\n\r\n",
    )
    .await
    .expect("sending a request");
    let (closed, received) = read_until_closed(&mut kept, patience).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    assert!(
        closed,
        "an idle kept-alive connection was still open after {patience:?}"
    );
    app.shutdown().await;
}

/// `GET /health` on a new connection, waiting at most `patience`: the status, or the
/// error (a timeout when no answer came).
async fn health_within(app: &TestApp, patience: Duration) -> Result<u16, reqwest::Error> {
    install_crypto();
    let client = reqwest::Client::builder()
        .timeout(patience)
        .build()
        .expect("building the HTTP client");
    client
        .get(app.url("/health"))
        .header("Accept", JSON_API)
        .send()
        .await
        .map(|response| response.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_until_one_closes() {
    let dir = TempDir::new();
    let config = Config {
        max_connections: 2,
        idle_timeout: 60,
        ..embedded_config(&dir)
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    assert_eq!(
        health_within(&app, Duration::from_secs(5)).await.ok(),
        Some(200),
        "the server answers while under its cap"
    );

    // Two idle connections take both slots: a third client is not served.
    let first = TcpStream::connect(address(&app)).await.expect("connecting");
    let second = TcpStream::connect(address(&app)).await.expect("connecting");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = health_within(&app, Duration::from_secs(1)).await;
    assert!(
        waiting.is_err(),
        "a third connection was served past the cap of two: {waiting:?}"
    );

    // One of them leaves: new clients are served again.
    drop(first);
    let started = Instant::now();
    loop {
        match health_within(&app, Duration::from_secs(1)).await {
            Ok(200) => break,
            other => assert!(
                started.elapsed() < Duration::from_secs(5),
                "not served 5 s after a slot was freed: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(second);
    app.shutdown().await;
}
