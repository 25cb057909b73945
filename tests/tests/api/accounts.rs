//! Accounts end to end over HTTP: the all-in-one server on SQLite and on PostgreSQL,
//! and `serve users` as a service of its own (on SQLite, and on PostgreSQL with the
//! products and inventory services accepting its tokens: each checks tokens itself
//! with the shared signing secret). Also: the start-up administrator, over-long
//! passwords, and the rate limit on log-in and registration.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use emporium_domain::Role;
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Reply, TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD, TestApp, access_token_of, credentials,
    embedded_config, free_port, postgres_redis_config, product_document, refresh_document,
    register_document, spawn_app, token_pair, with_admin,
};

/// Concurrent refreshes with one token in the race test.
const RACERS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_server_runs_the_accounts_flow() {
    let dir = TempDir::new();
    let mut app = TestApp::spawn(with_admin(embedded_config(&dir)), ServiceSet::All).await;
    accounts_flow(&app, &app).await;
    a_refresh_race_has_one_winner_and_revokes_the_family(&app).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_runs_the_accounts_flow() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let mut app = TestApp::spawn(with_admin(config), ServiceSet::All).await;
    accounts_flow(&app, &app).await;
    a_refresh_race_has_one_winner_and_revokes_the_family(&app).await;
    app.shutdown().await;
}

/// `serve users`, `serve products` and `serve inventory` on one PostgreSQL database
/// with one API key and one signing secret: the users service signs in, the others
/// accept its tokens; a service with another secret refuses them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_service_issues_tokens_the_other_services_accept() {
    let dir = TempDir::new();
    let Some(shared) = postgres_redis_config(&dir).await else {
        return;
    };
    let inventory_addr: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");
    let mut products = TestApp::spawn(
        Config {
            inventory_url: Some(format!("http://{inventory_addr}")),
            ..shared.clone()
        },
        ServiceSet::Products,
    )
    .await;
    let mut inventory = TestApp::spawn_on(
        Config {
            products_url: Some(products.base.clone()),
            redis_url: None,
            ..shared.clone()
        },
        ServiceSet::Inventory,
        inventory_addr,
    )
    .await;
    let mut users = TestApp::spawn(
        with_admin(Config {
            redis_url: None,
            ..shared.clone()
        }),
        ServiceSet::Users,
    )
    .await;

    // Each service serves its own routes only. The users service publishes account
    // changes on the bus's Redis.
    serves_accounts_alone(&users, &["database", "account-changes"]).await;
    products
        .anonymous(
            Method::POST,
            "/v1/auth/login",
            Some(&credentials(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)),
        )
        .await
        .expect_error(404, None);

    accounts_flow(&users, &products).await;
    a_refresh_race_has_one_winner_and_revokes_the_family(&users).await;

    // The inventory service takes the same tokens.
    let admin = access_token_of(&users.log_in(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD).await);
    let product = products.create_product("Saucer", "4.00", None).await;
    let stock = json!({"data": {"type": "inventory", "attributes": {"onHand": 7},
        "relationships": {"product": {"data": {"type": "products", "id": product}}}}});
    let created = inventory
        .bearer(Method::POST, "/v1/inventory", &admin, Some(&stock))
        .await;
    created.expect_status(201);
    assert_eq!(created.attributes()["onHand"], 7);

    // A service signing with another secret accepts none of them.
    let stranger_dir = TempDir::new();
    let mut stranger = TestApp::spawn(
        Config {
            jwt_secret: Some(emporium_adapters::security::generate_secret()),
            inventory_url: Some(inventory.base.clone()),
            ..embedded_config(&stranger_dir)
        },
        ServiceSet::Products,
    )
    .await;
    let refused = stranger
        .bearer(
            Method::POST,
            "/v1/products",
            &admin,
            Some(&product_document("Mug", "9.00", None)),
        )
        .await;
    refused.expect_error(401, Some("invalid_token"));
    assert!(
        refused
            .header("www-authenticate")
            .is_some_and(|value| value.contains(r#"error="invalid_token""#)),
        "{:?}",
        refused.headers
    );

    stranger.shutdown().await;
    users.shutdown().await;
    inventory.shutdown().await;
    products.shutdown().await;
}

/// `serve users` on SQLite runs accounts alone: registration and log-in work, the
/// catalog and inventory routes are not there, and `/ready` checks the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_service_runs_accounts_alone() {
    let dir = TempDir::new();
    let mut users = TestApp::spawn(embedded_config(&dir), ServiceSet::Users).await;
    serves_accounts_alone(&users, &["database"]).await;
    let (_, access, _) = register_and_log_in(&users, "solo@example.com").await;
    let me = users
        .bearer(Method::GET, "/v1/users/me", &access, None)
        .await;
    me.expect_status(200);
    assert_eq!(me.attributes()["email"], "solo@example.com", "{}", me.text);
    users.shutdown().await;
}

/// What `serve users` answers besides accounts: no catalog or inventory routes, a
/// `/ready` that checks `dependencies` only (its database first), a `/health` that
/// names it.
async fn serves_accounts_alone(users: &TestApp, dependencies: &[&str]) {
    for path in ["/v1/products", "/v1/categories", "/v1/inventory"] {
        users.get(path).await.expect_error(404, Some("not_found"));
    }
    let ready = users.get("/ready").await;
    ready.expect_status(200);
    let checks = ready.body["meta"]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {}", ready.text));
    let names: Vec<&str> = checks
        .iter()
        .filter_map(|check| check["name"].as_str())
        .collect();
    assert_eq!(names, dependencies, "{}", ready.text);
    assert!(
        checks.iter().all(|check| check["status"] == "up"),
        "{}",
        ready.text
    );
    let health = users.get("/health").await;
    assert_eq!(health.body["meta"]["services"], "users", "{}", health.text);
}

/// An account that already has the start-up administrator's address is left alone:
/// its password and role stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_account_is_left_alone_at_start_up() {
    let dir = TempDir::new();
    let mut first = TestApp::spawn(embedded_config(&dir), ServiceSet::All).await;
    register_and_log_in(&first, "taken@example.com").await;
    first.shutdown().await;
    let config = Config {
        bootstrap_admin: Some(("taken@example.com".into(), "other password".into())),
        ..embedded_config(&dir)
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    let (access, _) = token_pair(&app.log_in("taken@example.com", "correct horse").await);
    let me = app.bearer(Method::GET, "/v1/users/me", &access, None).await;
    assert_eq!(me.attributes()["role"], "customer", "{}", me.text);
    app.log_in("taken@example.com", "other password")
        .await
        .assert_error(401, "invalid_credentials", None);
    app.shutdown().await;
}

/// A 10 000-character password is refused (422, never echoed) before any hashing:
/// registration and log-in both answer at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_passwords_are_refused_without_hashing() {
    let mut app = spawn_app().await;
    let long = "p".repeat(10_000);
    let started = Instant::now();
    let registered = app.register("long@example.com", &long).await;
    registered.assert_error(422, "invalid_value", Some("/data/attributes/password"));
    assert!(!registered.body.to_string().contains("pppppppp"));
    let login = app.log_in("long@example.com", &long).await;
    assert_eq!(login.status.as_u16(), 401, "{}", login.text);
    assert!(started.elapsed() < Duration::from_secs(2));
    app.shutdown().await;
}

/// Log-in and registration share a per-client-address limit: past it, 429 with a
/// `Retry-After` of 1 to 60 s, whatever the address tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_and_registration_are_rate_limited() {
    let dir = TempDir::new();
    let config = Config {
        auth_rate_per_minute: NonZeroU32::new(3).expect("not zero"),
        ..embedded_config(&dir)
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    for _ in 0..3 {
        app.log_in("victim@example.com", "guess guess")
            .await
            .assert_error(401, "invalid_credentials", None);
    }
    let limited = app.log_in("victim@example.com", "guess guess").await;
    limited.assert_error(429, "too_many_requests", None);
    let retry: u64 = limited
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // The client address is limited too, whatever the address it tries.
    app.register("other@example.com", "correct horse")
        .await
        .assert_error(429, "too_many_requests", None);
    app.shutdown().await;
}

/// Registers `email` (password "correct horse") and logs in: (id, access token,
/// refresh token).
async fn register_and_log_in(users: &TestApp, email: &str) -> (String, String, String) {
    let created = users.register(email, "correct horse").await;
    created.expect_status(201);
    let id = created.id();
    let (access, refresh) = token_pair(&users.log_in(email, "correct horse").await);
    (id, access, refresh)
}

/// The number of products the catalog lists.
async fn product_count(catalog: &TestApp) -> u64 {
    let listed = catalog.get("/v1/products").await;
    listed.expect_status(200);
    listed.body["meta"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("no meta.total: {}", listed.text))
}

/// Registration, log-in, roles on the catalog's writes, rotation and reuse of
/// refresh tokens, administration and log-out, with `users` answering `/v1/auth`
/// and `/v1/users` and `catalog` answering `/v1/products` (one server or two). Runs
/// first on a fresh database holding only the start-up administrator.
async fn accounts_flow(users: &TestApp, catalog: &TestApp) {
    let email = format!("ada-{}@example.com", Uuid::new_v4().simple());
    let password = "correct horse battery";

    // The start-up administrator (from the configuration) is an admin, and so far
    // the only account.
    let admin = access_token_of(&users.log_in(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD).await);
    let me = users
        .bearer(Method::GET, "/v1/users/me", &admin, None)
        .await;
    me.expect_status(200);
    assert_eq!(me.attributes()["role"], "admin", "{}", me.text);
    let listed = users.bearer(Method::GET, "/v1/users", &admin, None).await;
    listed.expect_status(200);
    assert_eq!(listed.body["meta"]["total"], 1, "{}", listed.text);

    // Registration: always a customer; no role from the body; one account per address.
    let mut escalation = register_document(&email, password);
    escalation["data"]["attributes"]["role"] = json!("admin");
    let refused = users
        .anonymous(Method::POST, "/v1/auth/register", Some(&escalation))
        .await;
    let error = refused.expect_error(403, Some("read_only_attribute"));
    assert_eq!(error["source"]["pointer"], "/data/attributes/role");
    users
        .log_in(&email, password)
        .await
        .expect_error(401, Some("invalid_credentials"));
    // An invalid address and a short password: both reported, the password never
    // echoed.
    let bad = users.register("not-an-address", "short").await;
    bad.assert_error(422, "invalid_value", Some("/data/attributes/email"));
    bad.assert_error(422, "invalid_value", Some("/data/attributes/password"));
    assert!(!bad.body.to_string().contains("\"short\""), "{}", bad.text);

    let registered = users.register(&email, password).await;
    registered.expect_status(201);
    let id = registered.id();
    assert_eq!(registered.body["data"]["type"], "users");
    assert_eq!(
        registered.header("location"),
        registered.body["data"]["links"]["self"].as_str(),
        "{}",
        registered.text
    );
    assert_eq!(
        registered.header("location"),
        Some(format!("/v1/users/{id}").as_str())
    );
    assert_eq!(registered.attributes()["role"], "customer");
    assert_eq!(registered.attributes()["active"], true);
    assert_eq!(registered.attributes()["email"], json!(email));
    assert!(registered.attributes().get("password").is_none());
    assert!(!registered.text.contains(password), "{}", registered.text);
    let duplicate = users
        .register(&email.to_uppercase(), "another password")
        .await;
    let error = duplicate.expect_error(409, Some("duplicate_email"));
    assert_eq!(error["source"]["pointer"], "/data/attributes/email");

    // Log-in failures look alike for an unknown address and a wrong password.
    let unknown = users.log_in("nobody@example.com", password).await;
    let wrong = users.log_in(&email, "wrong horse battery").await;
    unknown.expect_error(401, Some("invalid_credentials"));
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(
        unknown.header("www-authenticate"),
        wrong.header("www-authenticate")
    );

    let (customer, customer_refresh) = token_pair(&users.log_in(&email, password).await);
    let me = users
        .bearer(Method::GET, "/v1/users/me", &customer, None)
        .await;
    me.expect_status(200);
    assert_eq!(me.id(), id);
    assert_eq!(me.attributes()["email"], json!(email), "{}", me.text);
    // Without a token, /me is refused.
    users
        .get("/v1/users/me")
        .await
        .assert_error(401, "unauthenticated", None);
    // A refresh token is no access token.
    users
        .bearer(Method::GET, "/v1/users/me", &customer_refresh, None)
        .await
        .expect_error(401, Some("invalid_token"));

    // The catalog's writes: a customer is forbidden, nobody is unauthenticated, an
    // admin's token works; refusals change nothing.
    let before = product_count(catalog).await;
    let cup = product_document("Espresso cup", "12.50", None);
    catalog
        .bearer(Method::POST, "/v1/products", &customer, Some(&cup))
        .await
        .expect_error(403, Some("forbidden"));
    let anonymous = catalog
        .anonymous(Method::POST, "/v1/products", Some(&cup))
        .await;
    anonymous.expect_error(401, Some("unauthenticated"));
    assert!(
        anonymous
            .header("www-authenticate")
            .is_some_and(|value| value.starts_with("Bearer")),
        "{:?}",
        anonymous.headers
    );
    assert_eq!(product_count(catalog).await, before);
    catalog
        .bearer(Method::POST, "/v1/products", &admin, Some(&cup))
        .await
        .expect_status(201);
    assert_eq!(product_count(catalog).await, before + 1);

    // Refresh rotates; the spent token, presented again, revokes its whole family.
    let (rotated_access, rotated_refresh) = token_pair(&users.refresh(&customer_refresh).await);
    assert_ne!(rotated_refresh, customer_refresh);
    users
        .bearer(Method::GET, "/v1/users/me", &rotated_access, None)
        .await
        .expect_status(200);
    users
        .refresh(&customer_refresh)
        .await
        .expect_error(401, Some("invalid_token"));
    users
        .refresh(&rotated_refresh)
        .await
        .expect_error(401, Some("invalid_token"));

    // Administration: nobody and customers may not; an admin lists and changes
    // accounts.
    users
        .get("/v1/users")
        .await
        .assert_error(401, "unauthenticated", None);
    users
        .bearer(Method::GET, "/v1/users", &customer, None)
        .await
        .expect_error(403, Some("forbidden"));
    let listed = users
        .bearer(Method::GET, "/v1/users?page%5Bsize%5D=100", &admin, None)
        .await;
    listed.expect_status(200);
    let ids: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {}", listed.text))
        .iter()
        .filter_map(|user| user["id"].as_str())
        .collect();
    assert!(ids.contains(&id.as_str()), "{}", listed.text);
    assert_eq!(
        listed.body["meta"]["total"],
        json!(ids.len()),
        "{}",
        listed.text
    );
    assert!(!listed.text.contains("password"), "{}", listed.text);

    let (_, live_refresh) = token_pair(&users.log_in(&email, password).await);
    // A validly signed admin token for an account that does not exist is refused:
    // where the users store is at hand, the account's current state decides.
    let minted = users.access_token(Role::Admin);
    users
        .bearer(Method::GET, "/v1/users", &minted, None)
        .await
        .assert_error(401, "invalid_token", None);
    let user_path = format!("/v1/users/{id}");
    let patch =
        |attributes: Value| json!({"data": {"type": "users", "id": id, "attributes": attributes}});
    // Customers may not administer, not even themselves; checked before the body.
    users
        .bearer(
            Method::PATCH,
            &user_path,
            &customer,
            Some(&patch(json!({"role": "admin"}))),
        )
        .await
        .expect_error(403, Some("forbidden"));
    let garbage = users
        .bearer(Method::PATCH, &user_path, &customer, Some(&json!("{")))
        .await;
    assert_eq!(garbage.status.as_u16(), 403, "{}", garbage.text);
    users
        .bearer(
            Method::PATCH,
            &user_path,
            &admin,
            Some(&patch(json!({"role": "root"}))),
        )
        .await
        .assert_error(422, "invalid_value", Some("/data/attributes/role"));
    users
        .bearer(
            Method::PATCH,
            &user_path,
            &admin,
            Some(&patch(json!({"email": "x@example.com"}))),
        )
        .await
        .assert_error(403, "read_only_attribute", Some("/data/attributes/email"));
    let missing = Uuid::now_v7().to_string();
    let nobody = users
        .bearer(
            Method::PATCH,
            &format!("/v1/users/{missing}"),
            &admin,
            Some(
                &json!({"data": {"type": "users", "id": missing, "attributes": {"active": false}}}),
            ),
        )
        .await;
    assert_eq!(nobody.status.as_u16(), 404, "{}", nobody.text);
    let promoted = users
        .bearer(
            Method::PATCH,
            &user_path,
            &admin,
            Some(&patch(json!({"role": "admin"}))),
        )
        .await;
    promoted.expect_status(200);
    assert_eq!(promoted.attributes()["role"], "admin");
    let deactivated = users
        .bearer(
            Method::PATCH,
            &user_path,
            &admin,
            Some(&patch(json!({"active": false}))),
        )
        .await;
    deactivated.expect_status(200);
    assert_eq!(deactivated.attributes()["active"], false);
    // A deactivated account can neither log in nor refresh.
    users
        .log_in(&email, password)
        .await
        .expect_error(401, Some("invalid_credentials"));
    users
        .refresh(&live_refresh)
        .await
        .expect_error(401, Some("invalid_token"));

    // Log-out ends a session.
    let (_, admin_refresh) = token_pair(&users.log_in(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD).await);
    let out = users
        .anonymous(
            Method::POST,
            "/v1/auth/logout",
            Some(&refresh_document(&admin_refresh)),
        )
        .await;
    out.expect_status(204);
    users
        .refresh(&admin_refresh)
        .await
        .expect_error(401, Some("invalid_token"));
}

/// One refresh token sent by several clients at once: exactly one gets a new
/// session, and since the others replayed it, the family is revoked, so even the
/// winner's new refresh token is refused.
async fn a_refresh_race_has_one_winner_and_revokes_the_family(users: &TestApp) {
    let email = format!("racer-{}@example.com", Uuid::new_v4().simple());
    let password = "correct horse battery";
    users.register(&email, password).await.expect_status(201);
    let (_, token) = token_pair(&users.log_in(&email, password).await);

    let replies = join_all((0..RACERS).map(|_| users.refresh(&token))).await;
    let winners: Vec<&Reply> = replies
        .iter()
        .filter(|reply| reply.status.as_u16() == 200)
        .collect();
    assert_eq!(winners.len(), 1, "one refresh wins");
    for reply in replies.iter().filter(|reply| reply.status.as_u16() != 200) {
        reply.expect_error(401, Some("invalid_token"));
    }
    let (_, next) = token_pair(winners[0]);
    users
        .refresh(&next)
        .await
        .expect_error(401, Some("invalid_token"));
    // The account itself is fine: a new log-in starts a new family.
    let (_, fresh) = token_pair(&users.log_in(&email, password).await);
    token_pair(&users.refresh(&fresh).await);
}
