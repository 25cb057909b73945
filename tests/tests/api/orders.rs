//! Orders over HTTP: the flow to cancellation on every backend, exact stock under
//! racing checkouts, idempotent retries, expiry, the pending-order cap, another
//! customer's orders, and bad input.

use std::sync::Arc;
use std::time::{Duration, Instant};

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use emporium_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    JSON_API, Reply, TestApp, embedded_config, external_config, send, with_admin,
};

/// A valid shipping address.
pub fn address() -> Value {
    json!({"name": "Ada Lovelace", "line1": "1 Analytical St", "line2": null,
        "city": "London", "postalCode": "N1 1AA", "country": "GB"})
}

/// An order of `lines` (`(product, quantity)`), or of the cart when `None`.
pub fn order_document(lines: Option<&[(&str, i64)]>) -> Value {
    let mut attributes = json!({"shippingAddress": address()});
    if let Some(lines) = lines {
        attributes["lines"] = lines
            .iter()
            .map(|(product, quantity)| json!({"productId": product, "quantity": quantity}))
            .collect();
    }
    json!({"data": {"type": "orders", "attributes": attributes}})
}

/// `POST /v1/orders` as `token`, with `key` as `Idempotency-Key` when given.
pub async fn place(app: &TestApp, token: &str, document: &Value, key: Option<&str>) -> Reply {
    let mut request = app
        .request(Method::POST, "/v1/orders")
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", JSON_API)
        .body(document.to_string());
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    send(request).await
}

/// `n` placements of `document` by one customer sent at once (released together by
/// a barrier), with the status and body of each answer.
async fn place_at_once(
    app: &Arc<TestApp>,
    token: &str,
    document: Value,
    key: Option<&'static str>,
    n: usize,
) -> Vec<(u16, Value)> {
    let document = Arc::new(document);
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (app, token, document, barrier) = (
                app.clone(),
                token.to_owned(),
                document.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let reply = place(&app, &token, &document, key).await;
                (reply.status.as_u16(), reply.body.clone())
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(n);
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// A product with `on_hand` units in stock; its id.
pub async fn stocked_product(app: &TestApp, name: &str, price: &str, on_hand: i64) -> String {
    let product = app.create_product(name, price, None).await;
    app.create_inventory(&product, on_hand)
        .await
        .expect_status(201);
    product
}

/// (on hand, reserved) of `product`.
pub async fn stock(app: &TestApp, product: &str) -> (i64, i64) {
    let reply = app.get(&format!("/v1/inventory/{product}")).await;
    reply.expect_status(200);
    let attributes = &reply.body["data"]["attributes"];
    (
        attributes["onHand"].as_i64().unwrap(),
        attributes["reserved"].as_i64().unwrap(),
    )
}

/// Waits (at most 10 s) until `product`'s stock is `expected`: stock follows orders
/// through the outbox, a moment after the order changed.
pub async fn wait_for_stock(app: &TestApp, product: &str, expected: (i64, i64)) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = stock(app, product).await;
        if now == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "stock of {product} stayed {now:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An app with an admin and `settings` applied to its configuration.
async fn app_with(dir: &TempDir, settings: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = with_admin(embedded_config(dir));
    settings(&mut config);
    TestApp::spawn(config, ServiceSet::All).await
}

async fn order_flow(app: &TestApp) {
    let customer = app.signed_in(Role::Customer).await;
    let cup = stocked_product(app, "Espresso cup", "12.50", 10).await;
    let pot = stocked_product(app, "Moka pot", "40.00", 3).await;

    // Explicit lines; two lines of one product are one demand on its stock.
    let placed = place(
        app,
        &customer,
        &order_document(Some(&[(&cup, 2), (&pot, 1), (&cup, 1)])),
        None,
    )
    .await;
    placed.expect_status(201);
    let order = placed.body["data"].clone();
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(
        placed.header("location"),
        Some(format!("/v1/orders/{id}").as_str())
    );
    assert_eq!(order["attributes"]["status"], "pending");
    assert_eq!(order["attributes"]["total"], "77.50");
    assert_eq!(order["attributes"]["currency"], "EUR");
    assert_eq!(order["attributes"]["lines"][0]["unitPrice"], "12.50");
    assert_eq!(order["attributes"]["lines"][1]["lineTotal"], "40.00");
    assert_eq!(order["attributes"]["shippingAddress"], address());
    assert_eq!(order["attributes"]["cancelReason"], Value::Null);
    assert_eq!(placed.body["included"][0]["type"], "shipments");
    assert_eq!(
        order["relationships"]["shipment"]["data"]["id"],
        placed.body["included"][0]["id"]
    );
    assert_eq!(order["relationships"]["payments"]["data"], json!([]));
    assert_eq!(
        placed.body["included"][0]["attributes"]["status"],
        "pending_payment"
    );
    assert_eq!(stock(app, &cup).await, (10, 3));
    assert_eq!(stock(app, &pot).await, (3, 1));

    // From the cart: a price change since the line was added is refused once, and
    // the cart takes the new price.
    app.bearer(
        Method::POST,
        "/v1/cart/items",
        &customer,
        Some(
            &json!({"data": {"type": "cart-items", "attributes": {"quantity": 2},
            "relationships": {"product": {"data": {"type": "products", "id": cup}}}}}),
        ),
    )
    .await
    .expect_status(201);
    app.patch(
        &format!("/v1/products/{cup}"),
        &json!({"data": {"type": "products", "id": cup, "attributes": {"price": "11.00"}}}),
    )
    .await
    .expect_status(200);
    let refused = place(app, &customer, &order_document(None), None).await;
    refused.assert_error(409, "price_changed", None);
    assert!(refused.text.contains(&cup), "{}", refused.text);
    assert_eq!(stock(app, &cup).await, (10, 3), "a refusal holds no stock");
    let from_cart = place(app, &customer, &order_document(None), None).await;
    from_cart.expect_status(201);
    assert_eq!(from_cart.body["data"]["attributes"]["total"], "22.00");
    let cart = app.bearer(Method::GET, "/v1/cart", &customer, None).await;
    assert_eq!(
        cart.body["data"]["attributes"]["items"],
        json!([]),
        "the cart was emptied"
    );
    assert_eq!(stock(app, &cup).await, (10, 5));
    let empty = place(app, &customer, &order_document(None), None).await;
    empty.assert_error(422, "cart_empty", None);

    // Lists, reads, shipments.
    let list = app.bearer(Method::GET, "/v1/orders", &customer, None).await;
    list.expect_status(200);
    assert_eq!(list.body["meta"]["total"], 2);
    assert_eq!(list.body["data"][1]["id"], id.as_str(), "newest first");
    let pending = app
        .bearer(
            Method::GET,
            "/v1/orders?filter[status]=pending",
            &customer,
            None,
        )
        .await;
    assert_eq!(pending.body["meta"]["total"], 2);
    let read = app
        .bearer(
            Method::GET,
            &format!("/v1/orders/{id}?include=shipment"),
            &customer,
            None,
        )
        .await;
    read.expect_status(200);
    assert_eq!(
        read.body["included"][0]["relationships"]["order"]["data"]["id"],
        id.as_str()
    );

    // Cancel: the stock comes back, once; cancelling again answers the same order.
    let cancelled = app
        .bearer(
            Method::POST,
            &format!("/v1/orders/{id}/cancel"),
            &customer,
            None,
        )
        .await;
    cancelled.expect_status(200);
    assert_eq!(cancelled.body["data"]["attributes"]["status"], "cancelled");
    assert_eq!(
        cancelled.body["data"]["attributes"]["cancelReason"],
        "cancelled_by_customer"
    );
    wait_for_stock(app, &cup, (10, 2)).await;
    wait_for_stock(app, &pot, (3, 0)).await;
    let again = app
        .bearer(
            Method::POST,
            &format!("/v1/orders/{id}/cancel"),
            &customer,
            Some(&json!({"data": {"type": "orders", "id": id, "attributes": {"reason": "twice"}}})),
        )
        .await;
    again.expect_status(200);
    assert_eq!(
        again.body["data"]["attributes"]["cancelReason"],
        "cancelled_by_customer"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stock(app, &cup).await, (10, 2), "released once");

    // The audit trail: one row per transition.
    let events = app
        .bearer(
            Method::GET,
            &format!("/v1/orders/{id}/events"),
            &customer,
            None,
        )
        .await;
    events.expect_status(200);
    let rows = events.body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{}", events.text);
    assert_eq!(rows[0]["attributes"]["kind"], "created");
    assert_eq!(rows[1]["attributes"]["fromStatus"], "pending");
    assert_eq!(rows[1]["attributes"]["toStatus"], "cancelled");
    assert!(
        rows[1]["attributes"]["actor"]
            .as_str()
            .unwrap()
            .starts_with("user:")
    );

    // Admins see every order and may filter by buyer.
    let admin = app.signed_in(Role::Admin).await;
    let user = order["relationships"]["user"]["data"]["id"]
        .as_str()
        .unwrap();
    let all = app
        .bearer(
            Method::GET,
            &format!("/v1/orders?filter[user]={user}&filter[status]=cancelled"),
            &admin,
            None,
        )
        .await;
    all.expect_status(200);
    assert_eq!(all.body["meta"]["total"], 1, "{}", all.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_order_flow() {
    let app = crate::helpers::spawn_app().await;
    order_flow(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_mongodb_redis_order_flow() {
    let dir = TempDir::new();
    let Some(config) = external_config(&dir).await else {
        return;
    };
    let config = Config {
        max_pending_orders: 1000,
        ..with_admin(config)
    };
    let app = TestApp::spawn(config, ServiceSet::All).await;
    order_flow(&app).await;
    racing_orders_never_oversell(&app).await;
}

/// vendure#3508, medusa#16825: 200 orders of one unit race for 50 units.
async fn racing_orders_never_oversell(app: &TestApp) {
    let product = stocked_product(app, "Last units", "5.00", 50).await;
    let mut customers = Vec::new();
    for _ in 0..4 {
        customers.push(app.signed_in(Role::Customer).await);
    }
    let document = order_document(Some(&[(&product, 1)]));
    // All 200 requests are in flight at once (one task polls them together).
    let requests = (0..200).map(|i| {
        let token = &customers[i % customers.len()];
        let document = &document;
        async move {
            let reply = place(app, token, document, None).await;
            (
                reply.status.as_u16(),
                reply.body["errors"][0]["code"].clone(),
            )
        }
    });
    let (mut created, mut refused) = (0, 0);
    for answer in futures::future::join_all(requests).await {
        match answer {
            (201, _) => created += 1,
            (422, code) if code == "insufficient_stock" => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((created, refused), (50, 150));
    assert_eq!(stock(app, &product).await, (50, 50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_racing_orders_never_oversell() {
    let dir = TempDir::new();
    let app = app_with(&dir, |config| config.max_pending_orders = 1000).await;
    racing_orders_never_oversell(&app).await;
}

/// The same key sent twenty times at once: one order; the others replay it or are
/// told the first is still running.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_makes_one_order() {
    let dir = TempDir::new();
    let app = Arc::new(app_with(&dir, |config| config.max_pending_orders = 100).await);
    let customer = app.signed_in(Role::Customer).await;
    let product = stocked_product(&app, "Cup", "2.00", 100).await;
    let document = order_document(Some(&[(&product, 1)]));
    let answers = place_at_once(&app, &customer, document.clone(), Some("checkout-7f3a"), 20).await;
    let mut ids = std::collections::HashSet::new();
    for answer in answers {
        match answer {
            (201, body) => {
                ids.insert(body["data"]["id"].as_str().unwrap().to_owned());
            }
            (409, body) => assert_eq!(body["errors"][0]["code"], "idempotency_key_in_use"),
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(ids.len(), 1, "one order for one key: {ids:?}");
    // After the race, a retry replays it.
    let replay = place(&app, &customer, &document, Some("checkout-7f3a")).await;
    replay.expect_status(201);
    assert!(ids.contains(replay.body["data"]["id"].as_str().unwrap()));
    let list = app.bearer(Method::GET, "/v1/orders", &customer, None).await;
    assert_eq!(list.body["meta"]["total"], 1);
    assert_eq!(stock(&app, &product).await, (100, 1));

    // The key belongs to its user: another customer's same key is theirs.
    let other = app.signed_in(Role::Customer).await;
    place(&app, &other, &document, Some("checkout-7f3a"))
        .await
        .expect_status(201);
    // The same key with another body: 422, nothing placed.
    let reused = place(
        &app,
        &customer,
        &order_document(Some(&[(&product, 2)])),
        Some("checkout-7f3a"),
    )
    .await;
    reused.assert_error(422, "idempotency_key_reused", None);
    assert_eq!(stock(&app, &product).await, (100, 2));
    // A refusal frees its key.
    let short = place(
        &app,
        &customer,
        &order_document(Some(&[(&product, 99), (&product, 99)])),
        Some("second"),
    )
    .await;
    short.assert_error(
        422,
        "insufficient_stock",
        Some("/data/attributes/lines/0/quantity"),
    );
    place(
        &app,
        &customer,
        &order_document(Some(&[(&product, 3)])),
        Some("second"),
    )
    .await
    .expect_status(201);
}

/// saleor#14352: an unpaid order does not hold stock forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_orders_expire_and_release_their_stock() {
    let dir = TempDir::new();
    let app = app_with(&dir, |config| config.order_payment_timeout = 1).await;
    let customer = app.signed_in(Role::Customer).await;
    let product = stocked_product(&app, "Cup", "2.00", 5).await;
    let placed = place(
        &app,
        &customer,
        &order_document(Some(&[(&product, 4)])),
        None,
    )
    .await;
    placed.expect_status(201);
    let id = placed.body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(stock(&app, &product).await, (5, 4));
    // Expiry looks every 5 s; the order's time is 1 s.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let order = app
            .bearer(Method::GET, &format!("/v1/orders/{id}"), &customer, None)
            .await;
        if order.body["data"]["attributes"]["status"] == "cancelled" {
            assert_eq!(
                order.body["data"]["attributes"]["cancelReason"],
                "payment_timeout"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the order never expired: {}",
            order.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for_stock(&app, &product, (5, 0)).await;
    let events = app
        .bearer(
            Method::GET,
            &format!("/v1/orders/{id}/events"),
            &customer,
            None,
        )
        .await;
    assert_eq!(events.body["data"][1]["attributes"]["actor"], "system");
}

/// OWASP API6: a customer cannot hoard stock with unpaid orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pending_order_cap_holds() {
    let dir = TempDir::new();
    let app = app_with(&dir, |config| config.max_pending_orders = 2).await;
    let customer = app.signed_in(Role::Customer).await;
    let product = stocked_product(&app, "Cup", "2.00", 50).await;
    let document = order_document(Some(&[(&product, 1)]));
    for _ in 0..2 {
        place(&app, &customer, &document, None)
            .await
            .expect_status(201);
    }
    let third = place(&app, &customer, &document, None).await;
    third.assert_error(409, "too_many_pending_orders", None);
    assert_eq!(
        stock(&app, &product).await,
        (50, 2),
        "the refused order holds nothing"
    );
    // Cancelling one makes room.
    let list = app.bearer(Method::GET, "/v1/orders", &customer, None).await;
    let first = list.body["data"][0]["id"].as_str().unwrap().to_owned();
    app.bearer(
        Method::POST,
        &format!("/v1/orders/{first}/cancel"),
        &customer,
        None,
    )
    .await
    .expect_status(200);
    place(&app, &customer, &document, None)
        .await
        .expect_status(201);
}

/// The cap holds however many of one customer's orders race: twenty at once with a
/// cap of three make three orders, and the refused ones hold no stock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pending_order_cap_holds_under_a_race() {
    let dir = TempDir::new();
    pending_cap_race(app_with(&dir, |config| config.max_pending_orders = 3).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_mongodb_redis_the_pending_order_cap_holds_under_a_race() {
    let dir = TempDir::new();
    let Some(config) = external_config(&dir).await else {
        return;
    };
    let config = Config {
        max_pending_orders: 3,
        ..with_admin(config)
    };
    pending_cap_race(TestApp::spawn(config, ServiceSet::All).await).await;
}

/// Twenty orders of one customer at once against a cap of three.
async fn pending_cap_race(app: TestApp) {
    let app = Arc::new(app);
    let customer = app.signed_in(Role::Customer).await;
    let product = stocked_product(&app, "Cup", "2.00", 50).await;
    let document = order_document(Some(&[(&product, 1)]));
    let answers = place_at_once(&app, &customer, document, None, 20).await;
    let mut created = 0;
    for answer in answers {
        match answer {
            (201, _) => created += 1,
            (409, body) => assert_eq!(body["errors"][0]["code"], "too_many_pending_orders"),
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(created, 3);
    let list = app.bearer(Method::GET, "/v1/orders", &customer, None).await;
    assert_eq!(list.body["meta"]["total"], 3);
    assert_eq!(
        stock(&app, &product).await,
        (50, 3),
        "refused orders hold nothing"
    );
}

/// BOLA: another customer's order is not there for them, on every route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_customers_order_is_not_found() {
    let app = crate::helpers::spawn_app().await;
    let ada = app.signed_in(Role::Customer).await;
    let eve = app.signed_in(Role::Customer).await;
    let product = stocked_product(&app, "Cup", "2.00", 5).await;
    let placed = place(&app, &ada, &order_document(Some(&[(&product, 1)])), None).await;
    placed.expect_status(201);
    let id = placed.body["data"]["id"].as_str().unwrap().to_owned();
    let ada_id = placed.body["data"]["relationships"]["user"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path) in [
        (Method::GET, format!("/v1/orders/{id}")),
        (Method::GET, format!("/v1/orders/{id}/events")),
        (Method::POST, format!("/v1/orders/{id}/cancel")),
    ] {
        app.bearer(method.clone(), &path, &eve, None)
            .await
            .assert_error(404, "not_found", None);
        app.anonymous(method, &path, None)
            .await
            .assert_error(401, "unauthenticated", None);
    }
    let list = app
        .bearer(
            Method::GET,
            &format!("/v1/orders?filter[user]={ada_id}"),
            &eve,
            None,
        )
        .await;
    list.expect_status(200);
    assert_eq!(list.body["meta"]["total"], 0);
    // Still pending, still Ada's.
    let order = app
        .bearer(Method::GET, &format!("/v1/orders/{id}"), &ada, None)
        .await;
    assert_eq!(order.body["data"]["attributes"]["status"], "pending");
    // A customer cannot cancel a paid order, and nothing in a body sets the status.
    let status_in_body = place(
        &app,
        &ada,
        &json!({"data": {"type": "orders", "attributes": {"status": "paid",
            "lines": [{"productId": product, "quantity": 1}], "shippingAddress": address()}}}),
        None,
    )
    .await;
    status_in_body.assert_error(403, "read_only_attribute", Some("/data/attributes/status"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_order_input_is_refused_and_holds_nothing() {
    let dir = TempDir::new();
    let app = app_with(&dir, |config| config.max_pending_orders = 100).await;
    let customer = app.signed_in(Role::Customer).await;
    let product = stocked_product(&app, "Cup", "2.00", 5).await;
    let hidden = app.create_product("Hidden", "1.00", None).await;
    app.patch(
        &format!("/v1/products/{hidden}"),
        &json!({"data": {"type": "products", "id": hidden, "attributes": {"active": false}}}),
    )
    .await
    .expect_status(200);
    let with = |lines: Value, address: Value| json!({"data": {"type": "orders", "attributes": {"lines": lines, "shippingAddress": address}}});
    let line = |quantity: Value| json!([{"productId": product, "quantity": quantity}]);
    let mut bad_country = address();
    bad_country["country"] = json!("UK");
    let mut extra = address();
    extra["phone"] = json!("123");
    let mut missing = address();
    missing.as_object_mut().unwrap().remove("city");
    let too_many: Vec<Value> = (0..51)
        .map(|_| json!({"productId": product, "quantity": 1}))
        .collect();
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            with(line(json!(0)), address()),
            422,
            "invalid_value",
            "/data/attributes/lines/0/quantity",
        ),
        (
            with(line(json!(100)), address()),
            422,
            "invalid_value",
            "/data/attributes/lines/0/quantity",
        ),
        (
            with(line(json!("1")), address()),
            400,
            "invalid_type",
            "/data/attributes/lines/0/quantity",
        ),
        (
            with(json!([{"productId": "x", "quantity": 1}]), address()),
            422,
            "invalid_value",
            "/data/attributes/lines/0/productId",
        ),
        (
            with(json!([]), address()),
            422,
            "invalid_value",
            "/data/attributes/lines",
        ),
        (
            with(Value::Array(too_many), address()),
            422,
            "invalid_value",
            "/data/attributes/lines",
        ),
        (
            with(line(json!(1)), bad_country),
            422,
            "invalid_value",
            "/data/attributes/shippingAddress/country",
        ),
        (
            with(line(json!(1)), extra),
            422,
            "invalid_value",
            "/data/attributes/shippingAddress/phone",
        ),
        (
            with(line(json!(1)), missing),
            422,
            "invalid_value",
            "/data/attributes/shippingAddress/city",
        ),
        (
            with(line(json!(1)), json!("London")),
            400,
            "invalid_type",
            "/data/attributes/shippingAddress",
        ),
        (
            with(json!([{"productId": hidden, "quantity": 1}]), address()),
            422,
            "product_unavailable",
            "/data/attributes/lines/0/productId",
        ),
        (
            with(
                json!([{"productId": product, "quantity": 1}, {"productId": Uuid::now_v7(), "quantity": 1}]),
                address(),
            ),
            422,
            "product_unavailable",
            "/data/attributes/lines/1/productId",
        ),
        (
            with(line(json!(6)), address()),
            422,
            "insufficient_stock",
            "/data/attributes/lines/0/quantity",
        ),
    ];
    for (document, status, code, pointer) in cases {
        let reply = place(&app, &customer, &document, None).await;
        assert_eq!(reply.status.as_u16(), status, "{document}: {}", reply.text);
        let found = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|error| error["code"] == code && error["source"]["pointer"] == pointer);
        assert!(found, "{code} at {pointer} for {document}: {}", reply.text);
    }
    let bad_key = place(
        &app,
        &customer,
        &with(line(json!(1)), address()),
        Some("has space"),
    )
    .await;
    assert_eq!(bad_key.status.as_u16(), 400, "{}", bad_key.text);
    assert_eq!(
        bad_key.body["errors"][0]["source"]["header"],
        "Idempotency-Key"
    );
    app.bearer(
        Method::GET,
        "/v1/orders?filter[status]=lost",
        &customer,
        None,
    )
    .await
    .assert_parameter_error(400, "filter[status]");
    app.bearer(Method::GET, "/v1/orders/not-a-uuid", &customer, None)
        .await
        .assert_error(404, "not_found", None);
    let list = app.bearer(Method::GET, "/v1/orders", &customer, None).await;
    assert_eq!(list.body["meta"]["total"], 0, "nothing was placed");
    assert_eq!(stock(&app, &product).await, (5, 0), "nothing is held");
}
