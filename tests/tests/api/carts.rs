//! The cart over HTTP: snapshots, limits, ownership, bad input, restarts, and the
//! same flow on PostgreSQL + Redis (carts in Redis).

use emporium::config::ServiceSet;
use emporium_adapters::testing::TempDir;
use emporium_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, embedded_config, postgres_redis_config, product_document};

fn add_document(product: &str, quantity: Value) -> Value {
    json!({"data": {"type": "cart-items", "attributes": {"quantity": quantity},
        "relationships": {"product": {"data": {"type": "products", "id": product}}}}})
}

fn quantity_document(product: &str, quantity: i64) -> Value {
    json!({"data": {"type": "cart-items", "id": product, "attributes": {"quantity": quantity}}})
}

async fn add(app: &TestApp, token: &str, product: &str, quantity: i64) -> crate::helpers::Reply {
    app.bearer(
        Method::POST,
        "/v1/cart/items",
        token,
        Some(&add_document(product, json!(quantity))),
    )
    .await
}

async fn cart(app: &TestApp, token: &str) -> Value {
    let reply = app.bearer(Method::GET, "/v1/cart", token, None).await;
    reply.expect_status(200);
    reply.body["data"].clone()
}

/// The flow every backend runs: add, add again, change, remove, clear, with the
/// price snapshot kept until the line is added to again.
async fn cart_flow(app: &TestApp) {
    let customer = app.signed_in(Role::Customer).await;
    let cup = app.create_product("Espresso cup", "12.50", None).await;
    let pot = app.create_product("Moka pot", "40.00", None).await;

    let empty = cart(app, &customer).await;
    assert_eq!(empty["type"], "carts");
    assert_eq!(empty["attributes"]["items"], json!([]));
    assert_eq!(empty["attributes"]["total"], "0.00");
    assert_eq!(empty["attributes"]["currency"], "EUR");
    assert_eq!(empty["links"]["self"], "/v1/cart");

    let created = app
        .bearer(
            Method::POST,
            "/v1/cart/items?include=cart",
            &customer,
            Some(&add_document(&cup, json!(2))),
        )
        .await;
    created.expect_status(201);
    let self_link = format!("/v1/cart/items/{cup}");
    assert_eq!(created.header("location"), Some(self_link.as_str()));
    assert_eq!(created.body["data"]["type"], "cart-items");
    assert_eq!(created.body["data"]["id"], cup.as_str());
    assert_eq!(created.body["data"]["attributes"]["unitPrice"], "12.50");
    assert_eq!(created.body["data"]["attributes"]["lineTotal"], "25.00");
    let product = app.get(&format!("/v1/products/{cup}")).await;
    assert_eq!(
        created.body["data"]["attributes"]["sku"],
        product.body["data"]["attributes"]["sku"]
    );
    assert_eq!(created.body["data"]["attributes"]["name"], "Espresso cup");
    assert_eq!(created.body["included"][0]["type"], "carts");
    assert_eq!(created.body["included"][0]["attributes"]["total"], "25.00");

    // The catalog price changes; the line keeps its snapshot until added to again.
    app.patch(
        &format!("/v1/products/{cup}"),
        &json!({"data": {"type": "products", "id": cup, "attributes": {"price": "13.00"}}}),
    )
    .await
    .expect_status(200);
    assert_eq!(cart(app, &customer).await["attributes"]["total"], "25.00");
    let again = add(app, &customer, &cup, 1).await;
    again.expect_status(200);
    assert_eq!(again.body["data"]["attributes"]["quantity"], 3);
    assert_eq!(again.body["data"]["attributes"]["unitPrice"], "13.00");
    assert!(again.header("location").is_none());

    add(app, &customer, &pot, 1).await.expect_status(201);
    let both = cart(app, &customer).await;
    assert_eq!(both["attributes"]["total"], "79.00");
    let items = both["attributes"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["productId"],
        cup.as_str(),
        "lines keep their order"
    );
    assert_eq!(items[1]["lineTotal"], "40.00");

    let changed = app
        .bearer(
            Method::PATCH,
            &format!("/v1/cart/items/{pot}"),
            &customer,
            Some(&quantity_document(&pot, 5)),
        )
        .await;
    changed.expect_status(200);
    assert_eq!(changed.body["data"]["attributes"]["lineTotal"], "200.00");

    app.bearer(
        Method::DELETE,
        &format!("/v1/cart/items/{cup}"),
        &customer,
        None,
    )
    .await
    .expect_status(204);
    assert_eq!(cart(app, &customer).await["attributes"]["total"], "200.00");
    app.bearer(Method::DELETE, "/v1/cart", &customer, None)
        .await
        .expect_status(204);
    assert_eq!(cart(app, &customer).await["attributes"]["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_cart_flow() {
    let dir = TempDir::new();
    let app = TestApp::spawn(embedded_config(&dir), ServiceSet::All).await;
    cart_flow(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_redis_cart_flow() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let app = TestApp::spawn(config, ServiceSet::All).await;
    cart_flow(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carts_belong_to_their_owner() {
    let app = crate::helpers::spawn_app().await;
    let ada = app.signed_in(Role::Customer).await;
    let bob = app.signed_in(Role::Customer).await;
    let cup = app.create_product("Cup", "2.00", None).await;
    add(&app, &ada, &cup, 2).await.expect_status(201);

    // Bob sees his own (empty) cart, and cannot touch Ada's line.
    assert_eq!(cart(&app, &bob).await["attributes"]["items"], json!([]));
    app.bearer(
        Method::PATCH,
        &format!("/v1/cart/items/{cup}"),
        &bob,
        Some(&quantity_document(&cup, 9)),
    )
    .await
    .assert_error(404, "not_found", None);
    app.bearer(Method::DELETE, &format!("/v1/cart/items/{cup}"), &bob, None)
        .await
        .assert_error(404, "not_found", None);
    app.bearer(Method::DELETE, "/v1/cart", &bob, None)
        .await
        .expect_status(204);
    assert_eq!(cart(&app, &ada).await["attributes"]["total"], "4.00");

    // No cart without signing in.
    for (method, path) in [
        (Method::GET, "/v1/cart".to_owned()),
        (Method::DELETE, "/v1/cart".to_owned()),
        (Method::DELETE, format!("/v1/cart/items/{cup}")),
    ] {
        app.anonymous(method, &path, None)
            .await
            .assert_error(401, "unauthenticated", None);
    }
    app.anonymous(
        Method::POST,
        "/v1/cart/items",
        Some(&add_document(&cup, json!(1))),
    )
    .await
    .assert_error(401, "unauthenticated", None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_cart_input_is_refused_and_changes_nothing() {
    let app = crate::helpers::spawn_app().await;
    let customer = app.signed_in(Role::Customer).await;
    let cup = app.create_product("Cup", "2.00", None).await;
    let hidden = {
        let mut document = product_document("Hidden", "1.00", None);
        document["data"]["attributes"]["active"] = json!(false);
        let reply = app.post("/v1/products", &document).await;
        reply.expect_status(201);
        reply.body["data"]["id"].as_str().unwrap().to_owned()
    };
    add(&app, &customer, &cup, 98).await.expect_status(201);

    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            add_document(&cup, json!(2)),
            422,
            "too_many_units",
            "/data/attributes/quantity",
        ),
        (
            add_document(&cup, json!(0)),
            422,
            "invalid_value",
            "/data/attributes/quantity",
        ),
        (
            add_document(&cup, json!(100)),
            422,
            "invalid_value",
            "/data/attributes/quantity",
        ),
        (
            add_document(&cup, json!("1")),
            400,
            "invalid_type",
            "/data/attributes/quantity",
        ),
        (
            add_document(&hidden, json!(1)),
            422,
            "product_unavailable",
            "/data/relationships/product",
        ),
        (
            add_document(&Uuid::now_v7().to_string(), json!(1)),
            422,
            "product_unavailable",
            "/data/relationships/product",
        ),
        (
            {
                let mut document = add_document(&cup, json!(1));
                document["data"]["attributes"]["unitPrice"] = json!("0.01");
                document
            },
            403,
            "read_only_attribute",
            "/data/attributes/unitPrice",
        ),
        (
            json!({"data": {"type": "cart-items", "attributes": {"quantity": 1}}}),
            422,
            "required",
            "/data/relationships/product",
        ),
        (
            {
                let mut document = add_document(&cup, json!(1));
                document["data"]["id"] = json!(cup);
                document
            },
            403,
            "client_id_unsupported",
            "/data/id",
        ),
    ];
    for (document, status, code, pointer) in cases {
        let reply = app
            .bearer(Method::POST, "/v1/cart/items", &customer, Some(&document))
            .await;
        assert_eq!(reply.status.as_u16(), status, "{document}: {}", reply.text);
        assert_eq!(reply.body["errors"][0]["code"], code, "{}", reply.text);
        assert_eq!(
            reply.body["errors"][0]["source"]["pointer"], pointer,
            "{}",
            reply.text
        );
    }
    // A line that does not exist, an id that is not one, a mismatched id.
    app.bearer(
        Method::PATCH,
        &format!("/v1/cart/items/{hidden}"),
        &customer,
        Some(&quantity_document(&hidden, 1)),
    )
    .await
    .assert_error(404, "not_found", None);
    app.bearer(Method::DELETE, "/v1/cart/items/not-a-uuid", &customer, None)
        .await
        .assert_error(404, "not_found", None);
    app.bearer(
        Method::PATCH,
        &format!("/v1/cart/items/{cup}"),
        &customer,
        Some(&quantity_document(&hidden, 1)),
    )
    .await
    .assert_error(409, "id_mismatch", Some("/data/id"));

    let after = cart(&app, &customer).await;
    assert_eq!(after["attributes"]["items"].as_array().unwrap().len(), 1);
    assert_eq!(after["attributes"]["items"][0]["quantity"], 98);
}

/// Twenty concurrent additions of different products to one cart: none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_additions_to_one_cart_are_all_kept() {
    let app = crate::helpers::spawn_app().await;
    let customer = app.signed_in(Role::Customer).await;
    let mut products = Vec::new();
    for i in 0..20 {
        products.push(app.create_product(&format!("P{i}"), "1.00", None).await);
    }
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = products
        .iter()
        .cloned()
        .map(|product| {
            let app = app.clone();
            let customer = customer.clone();
            tokio::spawn(async move { add(&app, &customer, &product, 1).await.status.as_u16() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 201);
    }
    let cart = cart(&app, &customer).await;
    assert_eq!(cart["attributes"]["items"].as_array().unwrap().len(), 20);
    assert_eq!(cart["attributes"]["total"], "20.00");
}

/// The embedded cart is in the database file: it survives a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_cart_survives_a_restart() {
    let dir = TempDir::new();
    let mut app = TestApp::spawn(embedded_config(&dir), ServiceSet::All).await;
    let customer = app.signed_in(Role::Customer).await;
    let cup = app.create_product("Cup", "2.50", None).await;
    add(&app, &customer, &cup, 3).await.expect_status(201);
    let config = app.config.clone();
    app.shutdown().await;
    drop(app);
    let app = TestApp::spawn(config, ServiceSet::All).await;
    assert_eq!(cart(&app, &customer).await["attributes"]["total"], "7.50");
}

/// A shop's currency is recorded at first start; another one later stops start-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_currency_is_refused_at_start_up() {
    let dir = TempDir::new();
    let mut config = embedded_config(&dir);
    config.currency = emporium_domain::orders::Currency::new("GBP").unwrap();
    let mut app = TestApp::spawn(config.clone(), ServiceSet::All).await;
    let customer = app.signed_in(Role::Customer).await;
    assert_eq!(cart(&app, &customer).await["attributes"]["currency"], "GBP");
    app.shutdown().await;
    drop(app);
    config.currency = emporium_domain::orders::Currency::EUR;
    let error = match emporium::composition::build(&config, ServiceSet::All).await {
        Ok(_) => panic!("a changed currency was accepted"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("EMPORIUM_CURRENCY"), "{error}");
    assert!(error.contains("GBP") && error.contains("EUR"), "{error}");
}
