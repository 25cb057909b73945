//! Payments and shipping over HTTP: the whole purchase to delivery with its audit
//! trail, payments racing cancellations, every order of a sell-out paid, callbacks,
//! and another customer's payments and shipments.

use std::time::{Duration, Instant};

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use emporium_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, embedded_config, external_config, with_admin};
use crate::orders::{order_document, place, stock, stocked_product, wait_for_stock};

const CALLBACK_KEY: &str = "carrier-callback-key-0123";

fn payment_document(order: &str) -> Value {
    json!({"data": {"type": "payments",
        "relationships": {"order": {"data": {"type": "orders", "id": order}}}}})
}

/// `POST /v1/payments` for `order` as `token`.
pub async fn open_payment(app: &TestApp, token: &str, order: &str) -> Reply {
    app.bearer(
        Method::POST,
        "/v1/payments",
        token,
        Some(&payment_document(order)),
    )
    .await
}

async fn callback(app: &TestApp, path: &str) -> Reply {
    crate::helpers::send(
        app.request(Method::POST, path)
            .header("X-Callback-Key", CALLBACK_KEY),
    )
    .await
}

/// Waits (at most 10 s) until order `id` has `status`.
pub async fn wait_for_order(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let order = app
            .bearer(
                Method::GET,
                &format!("/v1/orders/{id}?include=shipment"),
                token,
                None,
            )
            .await;
        order.expect_status(200);
        if order.body["data"]["attributes"]["status"] == status {
            return order.body;
        }
        assert!(
            Instant::now() < deadline,
            "order {id} never became {status}: {}",
            order.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn config_with_callback(config: Config) -> Config {
    Config {
        callback_key: Some(CALLBACK_KEY.to_owned()),
        max_pending_orders: 1000,
        ..with_admin(config)
    }
}

async fn purchase_to_delivery(app: &TestApp) {
    let customer = app.signed_in(Role::Customer).await;
    let admin = app.signed_in(Role::Admin).await;
    let product = stocked_product(app, "Moka pot", "40.00", 5).await;
    let placed = place(
        app,
        &customer,
        &order_document(Some(&[(&product, 2)])),
        None,
    )
    .await;
    placed.expect_status(201);
    let order = placed.body["data"]["id"].as_str().unwrap().to_owned();
    let shipment = placed.body["included"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let opened = open_payment(app, &customer, &order).await;
    opened.expect_status(201);
    assert_eq!(opened.body["data"]["attributes"]["status"], "pending");
    assert_eq!(opened.body["data"]["attributes"]["amount"], "80.00");
    assert_eq!(
        opened.body["data"]["relationships"]["order"]["data"]["id"],
        order.as_str()
    );
    let payment = opened.body["data"]["id"].as_str().unwrap().to_owned();
    let location = format!("/v1/payments/{payment}");
    assert_eq!(opened.header("location"), Some(location.as_str()));
    open_payment(app, &customer, &order)
        .await
        .assert_error(409, "payment_exists", None);

    // The provider's callback says it succeeded; saying so again changes nothing.
    let succeeded = callback(app, &format!("/v1/payments/{payment}/succeed")).await;
    succeeded.expect_status(200);
    assert_eq!(succeeded.body["data"]["attributes"]["status"], "succeeded");
    app.bearer(
        Method::POST,
        &format!("/v1/payments/{payment}/succeed"),
        &customer,
        None,
    )
    .await
    .expect_status(200);
    app.bearer(
        Method::POST,
        &format!("/v1/payments/{payment}/fail"),
        &customer,
        None,
    )
    .await
    .assert_error(409, "invalid_transition", None);

    let paid = wait_for_order(app, &customer, &order, "paid").await;
    assert_eq!(paid["included"][0]["attributes"]["status"], "ready_to_ship");
    // One read shows the order's relationships and, asked for, both related kinds.
    let full = app
        .bearer(
            Method::GET,
            &format!("/v1/orders/{order}?include=shipment,payments&fields[payments]=status"),
            &customer,
            None,
        )
        .await;
    full.expect_status(200);
    let relationships = &full.body["data"]["relationships"];
    assert_eq!(
        relationships["shipment"]["data"],
        json!({"type": "shipments", "id": shipment})
    );
    assert_eq!(
        relationships["payments"]["data"],
        json!([{"type": "payments", "id": payment}])
    );
    let included = full.body["included"].as_array().unwrap();
    assert_eq!(included.len(), 2, "{}", full.text);
    assert_eq!(included[0]["type"], "shipments");
    assert_eq!(included[1]["type"], "payments");
    assert_eq!(
        included[1]["attributes"],
        json!({"status": "succeeded"}),
        "fields[payments] narrows the included payment"
    );
    // Lists leave the loaded-on-read relationships out.
    let list = app.bearer(Method::GET, "/v1/orders", &customer, None).await;
    let listed = &list.body["data"][0]["relationships"];
    assert!(listed.get("payments").is_none(), "{}", list.text);
    assert_eq!(listed["user"]["data"]["type"], "users");
    wait_for_stock(app, &product, (3, 0)).await;
    // A paid order is the admin's to cancel, not the buyer's.
    app.bearer(
        Method::POST,
        &format!("/v1/orders/{order}/cancel"),
        &customer,
        None,
    )
    .await
    .assert_error(409, "invalid_transition", None);

    // Dispatch: admins only, with carrier and tracking number.
    let dispatch = json!({"data": {"type": "shipments", "id": shipment,
        "attributes": {"carrier": "DHL", "trackingNumber": "JD014600006281"}}});
    let path = format!("/v1/shipments/{shipment}/dispatch");
    app.bearer(Method::POST, &path, &customer, Some(&dispatch))
        .await
        .assert_error(403, "forbidden", None);
    let dispatched = app
        .bearer(Method::POST, &path, &admin, Some(&dispatch))
        .await;
    dispatched.expect_status(200);
    assert_eq!(
        dispatched.body["data"]["attributes"]["status"],
        "dispatched"
    );
    assert_eq!(
        dispatched.body["data"]["attributes"]["trackingNumber"],
        "JD014600006281"
    );
    app.bearer(Method::POST, &path, &admin, Some(&dispatch))
        .await
        .expect_status(200);
    // Too late to cancel, even before the order itself reads shipped: the
    // cancellation is refused on the shipment, and nothing changes.
    app.bearer(
        Method::POST,
        &format!("/v1/orders/{order}/cancel"),
        &admin,
        None,
    )
    .await
    .assert_error(409, "invalid_transition", None);
    wait_for_order(app, &customer, &order, "shipped").await;

    // The carrier's callback reports the delivery; the API key may not.
    let deliver = format!("/v1/shipments/{shipment}/deliver");
    app.post(
        &deliver,
        &json!({"data": {"type": "shipments", "id": shipment}}),
    )
    .await
    .assert_error(403, "forbidden", None);
    callback(app, &deliver).await.expect_status(200);
    callback(app, &deliver).await.expect_status(200);
    let delivered = wait_for_order(app, &customer, &order, "delivered").await;
    assert_eq!(
        delivered["included"][0]["attributes"]["status"],
        "delivered"
    );
    app.bearer(Method::POST, &path, &admin, Some(&dispatch))
        .await
        .assert_error(409, "invalid_transition", None);

    // One audit row per transition, with who made it.
    let events = app
        .bearer(
            Method::GET,
            &format!("/v1/orders/{order}/events"),
            &customer,
            None,
        )
        .await;
    let rows: Vec<(Value, Value, Value)> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let a = &row["attributes"];
            (
                a["fromStatus"].clone(),
                a["toStatus"].clone(),
                a["actor"].clone(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 4, "{}", events.text);
    assert_eq!(rows[0].1, "pending");
    assert_eq!(
        (rows[1].0.clone(), rows[1].1.clone(), rows[1].2.clone()),
        (json!("pending"), json!("paid"), json!("system"))
    );
    assert_eq!(
        (rows[2].0.clone(), rows[2].1.clone()),
        (json!("paid"), json!("shipped"))
    );
    assert!(rows[2].2.as_str().unwrap().starts_with("user:"));
    assert_eq!(
        (rows[3].1.clone(), rows[3].2.clone()),
        (json!("delivered"), json!("provider"))
    );

    // Another customer sees none of it.
    let eve = app.signed_in(Role::Customer).await;
    for path in [
        format!("/v1/payments/{payment}"),
        format!("/v1/shipments/{shipment}"),
    ] {
        app.bearer(Method::GET, &path, &eve, None)
            .await
            .assert_error(404, "not_found", None);
        app.bearer(Method::GET, &path, &customer, None)
            .await
            .expect_status(200);
    }
    open_payment(app, &eve, &order)
        .await
        .assert_error(404, "not_found", None);
    app.bearer(
        Method::POST,
        &format!("/v1/payments/{payment}/fail"),
        &eve,
        None,
    )
    .await
    .assert_error(404, "not_found", None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_purchase_to_delivery() {
    let dir = TempDir::new();
    let app = TestApp::spawn(config_with_callback(embedded_config(&dir)), ServiceSet::All).await;
    purchase_to_delivery(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_mongodb_redis_purchase_to_delivery() {
    let dir = TempDir::new();
    let Some(config) = external_config(&dir).await else {
        return;
    };
    let config = Config {
        payment_provider: Some(emporium::config::PaymentProviderKind::Mock),
        ..config_with_callback(config)
    };
    let app = TestApp::spawn(config, ServiceSet::All).await;
    purchase_to_delivery(&app).await;
    payments_racing_cancellations(&app).await;
}

/// medusa#13301, vendure#2620 and the late success: a payment success racing a
/// cancellation ends paid, or cancelled and refunded, never both; stock follows
/// whichever won.
async fn payments_racing_cancellations(app: &TestApp) {
    let customer = app.signed_in(Role::Customer).await;
    let product = stocked_product(app, "Contested", "3.00", 100).await;
    let mut pairs = Vec::new();
    for _ in 0..20 {
        let placed = place(
            app,
            &customer,
            &order_document(Some(&[(&product, 2)])),
            None,
        )
        .await;
        placed.expect_status(201);
        let order = placed.body["data"]["id"].as_str().unwrap().to_owned();
        let opened = open_payment(app, &customer, &order).await;
        opened.expect_status(201);
        pairs.push((
            order,
            opened.body["data"]["id"].as_str().unwrap().to_owned(),
        ));
    }
    let races = pairs.iter().map(|(order, payment)| {
        let succeed = format!("/v1/payments/{payment}/succeed");
        let cancel = format!("/v1/orders/{order}/cancel");
        let customer = &customer;
        async move {
            let (paid, cancelled) = futures::join!(
                app.bearer(Method::POST, &succeed, customer, None),
                app.bearer(Method::POST, &cancel, customer, None),
            );
            assert_eq!(paid.status.as_u16(), 200, "{}", paid.text);
            assert!(
                matches!(cancelled.status.as_u16(), 200 | 409),
                "{}",
                cancelled.text
            );
        }
    });
    futures::future::join_all(races).await;

    // Let the events settle: every order ends paid, or cancelled with its payment
    // refunded.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut paid_orders = 0;
    for (order, payment) in &pairs {
        loop {
            let order_reply = app
                .bearer(Method::GET, &format!("/v1/orders/{order}"), &customer, None)
                .await;
            let payment_reply = app
                .bearer(
                    Method::GET,
                    &format!("/v1/payments/{payment}"),
                    &customer,
                    None,
                )
                .await;
            let status = order_reply.body["data"]["attributes"]["status"].clone();
            let settled = payment_reply.body["data"]["attributes"]["status"].clone();
            match (status.as_str().unwrap(), settled.as_str().unwrap()) {
                ("paid", "succeeded") => {
                    paid_orders += 1;
                    break;
                }
                ("cancelled", "refunded") => break,
                (order_status, payment_status) => {
                    assert!(
                        Instant::now() < deadline,
                        "order {order} stayed {order_status} with its payment {payment_status}"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    wait_for_stock(app, &product, (100 - 2 * paid_orders, 0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_payments_racing_cancellations() {
    let dir = TempDir::new();
    let app = TestApp::spawn(config_with_callback(embedded_config(&dir)), ServiceSet::All).await;
    payments_racing_cancellations(&app).await;
}

/// A sell-out, then every order paid: on hand goes to zero, nothing stays reserved.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sold_out_product_paid_in_full_leaves_nothing() {
    let dir = TempDir::new();
    let app = TestApp::spawn(config_with_callback(embedded_config(&dir)), ServiceSet::All).await;
    let customer = app.signed_in(Role::Customer).await;
    let product = stocked_product(&app, "Limited", "9.99", 30).await;
    let document = order_document(Some(&[(&product, 1)]));
    let placed =
        futures::future::join_all((0..60).map(|_| place(&app, &customer, &document, None))).await;
    let orders: Vec<String> = placed
        .iter()
        .filter(|reply| reply.status.as_u16() == 201)
        .map(|reply| reply.body["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(orders.len(), 30);
    assert_eq!(stock(&app, &product).await, (30, 30));
    let pay = orders.iter().map(|order| {
        let app = &app;
        let customer = &customer;
        async move {
            let opened = open_payment(app, customer, order).await;
            opened.expect_status(201);
            let payment = opened.body["data"]["id"].as_str().unwrap().to_owned();
            callback(app, &format!("/v1/payments/{payment}/succeed"))
                .await
                .expect_status(200);
        }
    });
    futures::future::join_all(pay).await;
    wait_for_stock(&app, &product, (0, 0)).await;
    let paid = app
        .bearer(
            Method::GET,
            "/v1/orders?filter[status]=paid&page[size]=100",
            &customer,
            None,
        )
        .await;
    assert_eq!(paid.body["meta"]["total"], 30);
}
