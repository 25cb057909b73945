//! Notifications over HTTP with a real SMTP server (the aiosmtpd sink): a purchase
//! to delivery mails the buyer once per transition, read back from the sink with an
//! independent parser; a sink that refuses mail leaves `failed` records that an
//! admin's retry sends; records are the recipient's own.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use emporium_adapters::testing::smtp::{Received, SmtpSink};
use emporium_domain::Role;
use mail_parser::MessageParser;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, access_token_of, embedded_config, with_admin};
use crate::orders::{order_document, place, stocked_product};
use crate::payments::wait_for_order;

const MAIL_DOMAIN: &str = "shop.test";

/// The embedded server mailing through `sink`, retrying after 1 s.
async fn app_with_smtp(sink: &SmtpSink) -> (TestApp, TempDir) {
    let dir = TempDir::new();
    let config = Config {
        smtp_url: Some(sink.url()),
        mail_from: format!("Emporium <orders@{MAIL_DOMAIN}>"),
        mail_retry_delays: vec![1],
        max_pending_orders: 100,
        ..with_admin(embedded_config(&dir))
    };
    (TestApp::spawn(config, ServiceSet::All).await, dir)
}

/// A new customer: (email, access token).
async fn buyer(app: &TestApp) -> (String, String) {
    let email = format!("ada-{}@example.com", Uuid::now_v7().simple());
    app.register(&email, "a customer password")
        .await
        .expect_status(201);
    let token = access_token_of(&app.log_in(&email, "a customer password").await);
    (email, token)
}

/// A parsed mail: (Message-ID, subject, html, text, envelope recipients).
fn parse(mail: &Received) -> (String, String, String, String, Vec<String>) {
    let message = MessageParser::default()
        .parse(&mail.raw)
        .expect("a parseable message");
    (
        message.message_id().expect("a Message-ID").to_owned(),
        message.subject().expect("a subject").to_owned(),
        message.body_html(0).expect("an HTML part").into_owned(),
        message.body_text(0).expect("a text part").into_owned(),
        mail.recipients.clone(),
    )
}

/// `GET /v1/notifications` with `query` as `token`, checked 200.
async fn notifications(app: &TestApp, token: &str, query: &str) -> Value {
    let reply = app
        .bearer(
            Method::GET,
            &format!("/v1/notifications{query}"),
            token,
            None,
        )
        .await;
    reply.expect_status(200);
    reply.body
}

/// Waits (at most 20 s) until `query` lists `count` notifications for `token`.
async fn wait_for_notifications(app: &TestApp, token: &str, query: &str, count: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = notifications(app, token, query).await;
        if listed["meta"]["total"] == count {
            return listed;
        }
        assert!(
            Instant::now() < deadline,
            "never {count} notifications for {query}: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_mails_the_buyer_once_per_transition() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let (app, _dir) = app_with_smtp(&sink).await;
    let admin = app.signed_in(Role::Admin).await;
    let (email, customer) = buyer(&app).await;
    let product = stocked_product(&app, "Espresso <cup> & saucer", "12.50", 5).await;
    let placed = place(
        &app,
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
    let payment = app
        .bearer(
            Method::POST,
            "/v1/payments",
            &customer,
            Some(&json!({"data": {"type": "payments",
                "relationships": {"order": {"data": {"type": "orders", "id": order}}}}})),
        )
        .await;
    payment.expect_status(201);
    app.bearer(
        Method::POST,
        &format!("/v1/payments/{}/succeed", payment.id()),
        &customer,
        None,
    )
    .await
    .expect_status(200);
    wait_for_order(&app, &customer, &order, "paid").await;
    let dispatch = json!({"data": {"type": "shipments", "id": shipment,
        "attributes": {"carrier": "DHL", "trackingNumber": "JD014600006281"}}});
    app.bearer(
        Method::POST,
        &format!("/v1/shipments/{shipment}/dispatch"),
        &admin,
        Some(&dispatch),
    )
    .await
    .expect_status(200);
    wait_for_order(&app, &customer, &order, "shipped").await;
    app.bearer(
        Method::POST,
        &format!("/v1/shipments/{shipment}/deliver"),
        &admin,
        None,
    )
    .await
    .expect_status(200);
    wait_for_order(&app, &customer, &order, "delivered").await;

    // Four transitions, four mails: placed, paid (not one more for the payment
    // behind it), shipped (not one more for the shipment), delivered — beside the
    // verification mail of the new account.
    sink.wait_for(5, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received: Vec<Received> = sink
        .received()
        .into_iter()
        .filter(|mail| !parse(mail).0.starts_with("account."))
        .collect();
    assert_eq!(received.len(), 4, "{received:?}");
    let mails: Vec<_> = received.iter().map(parse).collect();
    let subjects: BTreeSet<&str> = mails.iter().map(|mail| mail.1.as_str()).collect();
    let reference = order[order.len() - 8..].to_uppercase();
    assert_eq!(
        subjects,
        BTreeSet::from([
            format!("Order {reference} is placed").as_str(),
            format!("Payment received for order {reference}").as_str(),
            format!("Order {reference} is on its way").as_str(),
            format!("Order {reference} was delivered").as_str(),
        ])
    );
    let ids: BTreeSet<&str> = mails.iter().map(|mail| mail.0.as_str()).collect();
    assert_eq!(ids.len(), 4, "one distinct Message-ID per event: {ids:?}");
    for (id, subject, html, text, recipients) in &mails {
        assert_eq!(recipients, std::slice::from_ref(&email), "{subject}");
        assert!(id.ends_with(&format!("@{MAIL_DOMAIN}")), "{id}");
        // The product name is escaped in HTML and left as written in text.
        assert!(html.contains("Espresso &lt;cup&gt; &amp; saucer"), "{html}");
        assert!(text.contains("Espresso <cup> & saucer"), "{text}");
        assert!(html.contains("25.00 EUR") && text.contains("25.00 EUR"));
        if subject.contains("on its way") {
            assert!(
                html.contains("JD014600006281") && text.contains("DHL"),
                "{text}"
            );
        }
    }

    // The records: the buyer's own, all sent, one per mail, and the push-only one
    // of the payment's success (pushed live, never mailed).
    let listed = wait_for_notifications(&app, &customer, "?filter[status]=sent", 5).await;
    let (records, pushed): (Vec<&Value>, Vec<&Value>) = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .partition(|record| record["attributes"]["channel"] == "email");
    assert_eq!(records.len(), 4);
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0]["attributes"]["eventType"], "payment.succeeded");
    let types: BTreeSet<&str> = records
        .iter()
        .map(|record| record["attributes"]["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from(["order.created", "order.status_changed"])
    );
    for record in &records {
        assert_eq!(record["type"], "notifications");
        assert_eq!(record["attributes"]["recipient"], email.as_str());
        assert_eq!(record["attributes"]["channel"], "email");
        assert_eq!(record["attributes"]["attempts"], 1);
        assert_eq!(
            record["relationships"]["order"]["data"]["id"],
            order.as_str()
        );
        let key = format!(
            "{}.{}@{MAIL_DOMAIN}",
            record["attributes"]["eventId"].as_str().unwrap(),
            record["relationships"]["user"]["data"]["id"]
                .as_str()
                .unwrap()
        );
        assert!(ids.contains(key.as_str()), "{key} not among {ids:?}");
    }
    let one = records[0]["id"].as_str().unwrap();
    app.bearer(
        Method::GET,
        &format!("/v1/notifications/{one}"),
        &customer,
        None,
    )
    .await
    .expect_status(200);

    // Another customer sees none of them; an admin sees them by recipient.
    let (_, other) = buyer(&app).await;
    assert_eq!(notifications(&app, &other, "").await["meta"]["total"], 0);
    app.bearer(
        Method::GET,
        &format!("/v1/notifications/{one}"),
        &other,
        None,
    )
    .await
    .assert_error(404, "not_found", None);
    let user = records[0]["relationships"]["user"]["data"]["id"]
        .as_str()
        .unwrap();
    assert_eq!(
        notifications(&app, &admin, &format!("?filter[user]={user}")).await["meta"]["total"],
        5
    );
    app.bearer(
        Method::GET,
        "/v1/notifications?filter[status]=lost",
        &admin,
        None,
    )
    .await
    .assert_parameter_error(400, "filter[status]");
    app.anonymous(Method::GET, "/v1/notifications", None)
        .await
        .expect_status(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_mail_server_fails_the_notification_and_an_admin_retry_sends_it() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    sink.refuse(true);
    let (app, _dir) = app_with_smtp(&sink).await;
    let admin = app.signed_in(Role::Admin).await;
    let (email, customer) = buyer(&app).await;
    let product = stocked_product(&app, "Moka pot", "40.00", 5).await;
    place(
        &app,
        &customer,
        &order_document(Some(&[(&product, 1)])),
        None,
    )
    .await
    .expect_status(201);

    // Three attempts a second apart, then failed, with the server's reply kept for
    // admins only.
    let failed = wait_for_notifications(&app, &admin, "?filter[status]=failed", 1).await;
    let record = &failed["data"][0];
    let id = record["id"].as_str().unwrap().to_owned();
    assert_eq!(record["attributes"]["attempts"], 3);
    let error = record["attributes"]["lastError"].as_str().unwrap();
    assert!(error.contains("550"), "{error}");
    let own = app
        .bearer(
            Method::GET,
            &format!("/v1/notifications/{id}"),
            &customer,
            None,
        )
        .await;
    own.expect_status(200);
    assert_eq!(own.body["data"]["attributes"]["status"], "failed");
    assert_eq!(own.body["data"]["attributes"]["lastError"], Value::Null);
    assert!(sink.received().is_empty());

    // Only admins retry.
    let path = format!("/v1/notifications/{id}/retry");
    app.bearer(Method::POST, &path, &customer, None)
        .await
        .assert_error(403, "forbidden", None);
    sink.refuse(false);
    let retried = app.bearer(Method::POST, &path, &admin, None).await;
    retried.expect_status(200);
    assert_eq!(retried.body["data"]["attributes"]["status"], "sent");
    assert_eq!(retried.body["data"]["attributes"]["attempts"], 1);
    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let (message_id, subject, ..) = parse(&received[0]);
    assert_eq!(received[0].recipients, [email]);
    assert!(subject.ends_with("is placed"), "{subject}");
    let event = record["attributes"]["eventId"].as_str().unwrap();
    assert!(message_id.starts_with(event), "{message_id}");
    // A sent notification is not sent again.
    app.bearer(Method::POST, &path, &admin, None)
        .await
        .assert_error(409, "invalid_transition", None);
    app.bearer(
        Method::POST,
        &format!("/v1/notifications/{}/retry", Uuid::now_v7()),
        &admin,
        None,
    )
    .await
    .assert_error(404, "not_found", None);
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_mail_lands_in_the_local_mailbox() {
    let dir = TempDir::new();
    let app = TestApp::spawn(with_admin(embedded_config(&dir)), ServiceSet::All).await;
    let (email, customer) = buyer(&app).await;
    let product = stocked_product(&app, "Cup", "3.00", 5).await;
    place(
        &app,
        &customer,
        &order_document(Some(&[(&product, 1)])),
        None,
    )
    .await
    .expect_status(201);
    wait_for_notifications(&app, &customer, "?filter[status]=sent", 1).await;
    // The order's confirmation, beside the account's verification mail.
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            !path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("account.")
        })
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let raw = std::fs::read(&files[0]).unwrap();
    let message = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        message.to().unwrap().first().unwrap().address(),
        Some(email.as_str())
    );
}
