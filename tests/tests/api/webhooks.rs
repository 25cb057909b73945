//! Webhooks over HTTP with a real receiver that verifies every delivery with the
//! `standardwebhooks` package from PyPI: signed deliveries retried after 500s with
//! one `webhook-id`, the delivery log, redelivery, secret rotation, 410 disabling a
//! subscription, and SSRF refusals.

use std::time::{Duration, Instant};

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use emporium_adapters::testing::webhook_receiver::{Delivered, WebhookReceiver};
use emporium_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, embedded_config, with_admin};
use crate::orders::{order_document, place, stocked_product};

/// The embedded server; webhooks may call private addresses when `allow_private`
/// (the receiver is on loopback), retried a second apart.
async fn app(allow_private: bool) -> (TestApp, TempDir) {
    let dir = TempDir::new();
    let config = Config {
        webhook_allow_private: allow_private,
        webhook_retry_delays: vec![1, 1, 1],
        max_pending_orders: 100,
        ..with_admin(embedded_config(&dir))
    };
    (TestApp::spawn(config, ServiceSet::All).await, dir)
}

fn webhook_document(url: &str, events: &[&str]) -> Value {
    json!({"data": {"type": "webhooks",
        "attributes": {"url": url, "events": events, "description": "ERP"}}})
}

async fn create(app: &TestApp, admin: &str, url: &str, events: &[&str]) -> Value {
    let created = app
        .bearer(
            Method::POST,
            "/v1/webhooks",
            admin,
            Some(&webhook_document(url, events)),
        )
        .await;
    created.expect_status(201);
    let id = created.body["data"]["id"].as_str().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/webhooks/{id}").as_str())
    );
    created.body["data"].clone()
}

/// Places an order of one unit as a new customer; returns the order id.
async fn order(app: &TestApp, product: &str) -> String {
    let customer = app.signed_in(Role::Customer).await;
    let placed = place(app, &customer, &order_document(Some(&[(product, 1)])), None).await;
    placed.expect_status(201);
    placed.body["data"]["id"].as_str().unwrap().to_owned()
}

/// The admin's view of `webhook`'s deliveries, once `ready` holds (at most 20 s).
async fn wait_for_deliveries(
    app: &TestApp,
    admin: &str,
    webhook: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = app
            .bearer(
                Method::GET,
                &format!("/v1/webhooks/{webhook}/deliveries"),
                admin,
                None,
            )
            .await;
        listed.expect_status(200);
        if ready(&listed.body) {
            return listed.body;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never ready: {}",
            listed.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn webhook_ids(delivered: &[Delivered]) -> Vec<&str> {
    delivered
        .iter()
        .map(|request| request.headers["webhook-id"].as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_retried_with_one_id_logged_and_redelivered() {
    let Some(receiver) = WebhookReceiver::start() else {
        return;
    };
    receiver.plan(&["500", "500", "200"]);
    let (app, _dir) = app(true).await;
    let admin = app.signed_in(Role::Admin).await;
    let customer = app.signed_in(Role::Customer).await;
    app.bearer(Method::GET, "/v1/webhooks", &customer, None)
        .await
        .assert_error(403, "forbidden", None);

    let webhook = create(&app, &admin, &receiver.url("/hooks"), &["order.created"]).await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    let secret = webhook["attributes"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    receiver.trust(&[&secret]);
    let read = app
        .bearer(Method::GET, &format!("/v1/webhooks/{id}"), &admin, None)
        .await;
    read.expect_status(200);
    assert!(
        read.body["data"]["attributes"].get("secret").is_none(),
        "the secret is shown once: {}",
        read.text
    );

    let product = stocked_product(&app, "Cup", "3.00", 10).await;
    let placed = order(&app, &product).await;
    // 500, 500, then 200: three attempts, every one verified, one webhook-id.
    let delivered = receiver.wait_for(3, Duration::from_secs(20)).await;
    assert_eq!(delivered.len(), 3, "{delivered:?}");
    assert!(delivered.iter().all(|d| d.verified), "{delivered:?}");
    let ids = webhook_ids(&delivered);
    assert!(ids.iter().all(|each| *each == ids[0]), "{ids:?}");
    let body: Value = serde_json::from_str(&delivered[0].body).unwrap();
    assert_eq!(body["type"], "order.created");
    assert_eq!(body["data"]["orderId"], placed.as_str());
    assert!(body["timestamp"].is_string());

    let deliveries = wait_for_deliveries(&app, &admin, &id, |listed| {
        listed["data"][0]["attributes"]["status"] == "succeeded"
    })
    .await;
    assert_eq!(deliveries["meta"]["total"], 1);
    let delivery = &deliveries["data"][0];
    let attributes = &delivery["attributes"];
    assert_eq!(attributes["attempts"], 3);
    assert_eq!(attributes["messageId"], ids[0]);
    assert_eq!(
        format!(
            "msg_{}",
            attributes["eventId"].as_str().unwrap().replace('-', "")
        ),
        ids[0]
    );
    let codes: Vec<&Value> = attributes["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| &attempt["statusCode"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
    assert_eq!(
        delivery["relationships"]["webhook"]["data"]["id"],
        id.as_str()
    );

    // A manual redelivery: the same webhook-id again, attempts counted afresh.
    let delivery_id = delivery["id"].as_str().unwrap();
    let redelivered = app
        .bearer(
            Method::POST,
            &format!("/v1/webhook-deliveries/{delivery_id}/redeliver"),
            &admin,
            None,
        )
        .await;
    redelivered.expect_status(200);
    assert_eq!(
        redelivered.body["data"]["attributes"]["status"],
        "succeeded"
    );
    assert_eq!(redelivered.body["data"]["attributes"]["attempts"], 1);
    let delivered = receiver.wait_for(4, Duration::from_secs(5)).await;
    assert_eq!(webhook_ids(&delivered)[3], ids[0]);

    // Rotation: for the grace period both secrets sign, so a receiver that knows
    // either verifies.
    let rotated = app
        .bearer(
            Method::POST,
            &format!("/v1/webhooks/{id}/rotate-secret"),
            &admin,
            None,
        )
        .await;
    rotated.expect_status(200);
    let new_secret = rotated.body["data"]["attributes"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated.body["data"]["attributes"]["previousSecretExpiresAt"].is_string());
    order(&app, &product).await;
    let delivered = receiver.wait_for(5, Duration::from_secs(10)).await;
    assert!(
        delivered[4].verified,
        "the old secret still verifies: {delivered:?}"
    );
    receiver.trust(&[&new_secret]);
    order(&app, &product).await;
    let delivered = receiver.wait_for(6, Duration::from_secs(10)).await;
    assert!(
        delivered[5].verified,
        "the new secret verifies: {delivered:?}"
    );
    assert_eq!(
        delivered.len(),
        6,
        "events not subscribed to are not delivered"
    );

    app.bearer(Method::DELETE, &format!("/v1/webhooks/{id}"), &admin, None)
        .await
        .expect_status(204);
    app.bearer(Method::GET, &format!("/v1/webhooks/{id}"), &admin, None)
        .await
        .assert_error(404, "not_found", None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_is_gone_disables_its_subscription() {
    let Some(receiver) = WebhookReceiver::start() else {
        return;
    };
    receiver.plan(&["410"]);
    let (app, _dir) = app(true).await;
    let admin = app.signed_in(Role::Admin).await;
    let webhook = create(&app, &admin, &receiver.url("/gone"), &["order.created"]).await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    let product = stocked_product(&app, "Cup", "3.00", 10).await;
    order(&app, &product).await;
    wait_for_deliveries(&app, &admin, &id, |listed| {
        listed["data"][0]["attributes"]["status"] == "failed"
    })
    .await;
    let read = app
        .bearer(Method::GET, &format!("/v1/webhooks/{id}"), &admin, None)
        .await;
    assert_eq!(read.body["data"]["attributes"]["enabled"], false);
    assert_eq!(
        read.body["data"]["attributes"]["disabledReason"],
        "the receiver answered 410 Gone"
    );
    assert_eq!(receiver.delivered().len(), 1, "no retry after 410");
    // The admins are told: a notice in their notifications (and live streams), none
    // of any customer's business.
    let listed = app
        .bearer(Method::GET, "/v1/notifications", &admin, None)
        .await;
    listed.expect_status(200);
    let notices: Vec<&Value> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|notice| notice["attributes"]["channel"] == "admin")
        .collect();
    assert_eq!(notices.len(), 1, "{}", listed.text);
    let subject = notices[0]["attributes"]["subject"].as_str().unwrap();
    assert!(
        subject.contains("was disabled") && subject.contains("/gone"),
        "{subject}"
    );
    let customer = app.signed_in(Role::Customer).await;
    app.bearer(
        Method::GET,
        &format!("/v1/notifications/{}", notices[0]["id"].as_str().unwrap()),
        &customer,
        None,
    )
    .await
    .assert_error(404, "not_found", None);
    // A disabled subscription gets nothing; enabled again, it does.
    order(&app, &product).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.delivered().len(), 1);
    receiver.plan(&["410", "200"]);
    let enabled = app
        .bearer(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            &admin,
            Some(&json!({"data": {"type": "webhooks", "id": id, "attributes": {"enabled": true}}})),
        )
        .await;
    enabled.expect_status(200);
    assert_eq!(enabled.body["data"]["attributes"]["consecutiveFailures"], 0);
    order(&app, &product).await;
    let delivered = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_targets_are_refused() {
    let (app, _dir) = app(false).await;
    let admin = app.signed_in(Role::Admin).await;
    let port = crate::helpers::free_port();
    for url in [
        format!("http://127.0.0.1:{port}/hooks"),
        format!("http://localhost:{port}/hooks"),
        "http://10.0.0.7/hooks".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]/hooks".to_owned(),
    ] {
        app.bearer(
            Method::POST,
            "/v1/webhooks",
            &admin,
            Some(&webhook_document(&url, &["order.created"])),
        )
        .await
        .assert_error(422, "webhook_target_refused", Some("/data/attributes/url"));
    }
    for (document, pointer) in [
        (
            webhook_document("ftp://example.com/x", &["order.created"]),
            "/data/attributes/url",
        ),
        (
            webhook_document("https://example.com/x", &[]),
            "/data/attributes/events",
        ),
        (
            webhook_document("https://example.com/x", &["order.paid"]),
            "/data/attributes/events/0",
        ),
    ] {
        let reply = app
            .bearer(Method::POST, "/v1/webhooks", &admin, Some(&document))
            .await;
        reply.expect_status(422);
        assert_eq!(
            reply.body["errors"][0]["source"]["pointer"], pointer,
            "{}",
            reply.text
        );
    }
}
