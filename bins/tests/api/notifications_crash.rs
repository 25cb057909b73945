//! `kill -9` of the all-in-one binary — its notifications consumer and delivery
//! tasks with it — in the middle of a burst of orders, a restart on the same data
//! directory, and then the proof that what leaves the process is at least once and
//! recognisable: every order's `order.created` reached the SMTP sink under one
//! distinct `Message-ID` and the webhook receiver under one distinct `webhook-id`
//! (repeats of the same id allowed, never a second id for one event), every
//! delivery verified with an independent Standard Webhooks implementation, and one
//! notification record per event.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use emporium_adapters::sql;
use emporium_adapters::testing::smtp::SmtpSink;
use emporium_adapters::testing::webhook_receiver::WebhookReceiver;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use super::client::Client;
use super::server::{ServerProcess, free_addr, serve_command};

const ADMIN_EMAIL: &str = "admin@notify-crash.test";
const ADMIN_PASSWORD: &str = "a notify crash admin password";
const BUYER: &str = "buyer@notify-crash.test";
const WORKERS: usize = 6;

fn start(dir: &Path, addr: SocketAddr, smtp: &str) -> ServerProcess {
    let mut command = serve_command(dir, addr, (ADMIN_EMAIL, ADMIN_PASSWORD));
    command
        .env("EMPORIUM_SMTP_URL", smtp)
        .env("EMPORIUM_MAIL_FROM", "Shop <shop@crash.test>")
        .env("EMPORIUM_MAIL_RETRY_DELAYS", "1")
        .env("EMPORIUM_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("EMPORIUM_WEBHOOK_RETRY_DELAYS", "1,1,1");
    ServerProcess::start(command, addr, dir)
}

/// The order mails the sink got (not the buyer's address verification).
fn order_mails(sink: &SmtpSink) -> Vec<emporium_adapters::testing::smtp::Received> {
    sink.received()
        .into_iter()
        .filter(|mail| !message_id(&mail.raw).starts_with("<account."))
        .collect()
}

/// The `Message-ID` of a raw message.
fn message_id(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_owned())
        })
        .expect("a Message-ID header")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_9_mid_burst_sends_every_notification_as_one_recognisable_message() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(receiver) = WebhookReceiver::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let server = start(dir.path(), addr, &sink.url());
    let client = Arc::new(Client::new(addr, Duration::from_secs(10)));
    let key = std::fs::read_to_string(dir.path().join("api-key"))
        .unwrap()
        .trim()
        .to_owned();

    let admin = client.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, body) = client
        .bearer(
            reqwest::Method::POST,
            "/v1/webhooks",
            &admin,
            Some(&json!({"data": {"type": "webhooks", "attributes": {
                "url": receiver.url("/hooks"), "events": ["order.created"]}}})),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
    receiver.trust(&[body["data"]["attributes"]["secret"].as_str().unwrap()]);
    let product = client
        .stocked_product(("X-API-Key", &key), "NCRASH-1", 1_000_000)
        .await;
    let buyer = client.register(BUYER, "a buyer password").await;

    // The burst; the kill as soon as mail and webhooks are flowing.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (client, token, product, stop) =
                (client.clone(), buyer.clone(), product.clone(), stop.clone());
            tokio::spawn(async move {
                let order = json!({"data": {"type": "orders", "attributes": {
                    "lines": [{"productId": product, "quantity": 1}],
                    "shippingAddress": {"name": "Ada", "line1": "1 St", "city": "London",
                        "postalCode": "N1", "country": "GB"}}}});
                let mut placed = 0;
                while !stop.load(Ordering::Relaxed) {
                    match client
                        .bearer(reqwest::Method::POST, "/v1/orders", &token, Some(&order))
                        .await
                    {
                        Some((201, _)) => placed += 1,
                        _ => break,
                    }
                }
                placed
            })
        })
        .collect();
    let started = Instant::now();
    while (order_mails(&sink).len() < 5 || receiver.delivered().len() < 5)
        && started.elapsed() < Duration::from_secs(20)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(server); // SIGKILL, then reaped
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = 0;
    for worker in workers {
        acknowledged += worker.await.unwrap();
    }
    let mails_before = order_mails(&sink).len();
    eprintln!("killed with {acknowledged} orders acknowledged, {mails_before} mails sent");
    assert!(
        acknowledged >= 10,
        "only {acknowledged} orders before the kill"
    );
    let _server = start(dir.path(), addr, &sink.url());

    // Every order the server has (acknowledged or not) is told once, as one message.
    let db = sql::connect(&format!(
        "sqlite://{}?mode=rw",
        dir.path().join("emporium.db").display()
    ))
    .await
    .unwrap();
    let count = async |query: &str| -> i64 {
        db.query_one_raw(Statement::from_string(DbBackend::Sqlite, query))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap()
    };
    let orders = count("SELECT COUNT(*) FROM orders").await;
    assert!(
        orders >= acknowledged,
        "{orders} orders, {acknowledged} acknowledged"
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mails: HashSet<String> = order_mails(&sink)
            .iter()
            .map(|mail| message_id(&mail.raw))
            .collect();
        let hooks: HashSet<String> = receiver
            .delivered()
            .iter()
            .filter(|delivery| delivery.answered == 200)
            .map(|delivery| delivery.headers["webhook-id"].clone())
            .collect();
        if mails.len() as i64 == orders && hooks.len() as i64 == orders {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{orders} orders, but {} distinct Message-IDs and {} distinct webhook-ids",
            mails.len(),
            hooks.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Each Message-ID names one event: a repeat is the same message, never a new one.
    let mut per_event: HashMap<String, HashSet<String>> = HashMap::new();
    for mail in order_mails(&sink) {
        assert_eq!(mail.recipients, [BUYER]);
        let id = message_id(&mail.raw);
        let event = id
            .trim_start_matches('<')
            .split('.')
            .next()
            .unwrap()
            .to_owned();
        per_event.entry(event).or_default().insert(id);
    }
    assert_eq!(per_event.len() as i64, orders);
    assert!(per_event.values().all(|ids| ids.len() == 1));
    let deliveries = receiver.delivered();
    assert!(
        deliveries.iter().all(|delivery| delivery.verified),
        "every delivery verifies"
    );
    // One record per event, all sent; one delivery per event and subscription.
    assert_eq!(
        count("SELECT COUNT(*) FROM notifications WHERE event_type = 'order.created'").await,
        orders
    );
    // Those a killed attempt held are retried when its lease (30 s) ends.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count("SELECT COUNT(*) FROM notifications WHERE status <> 'sent'").await > 0 {
        assert!(Instant::now() < deadline, "notifications left unsent");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        count("SELECT COUNT(*) FROM webhook_deliveries").await,
        orders
    );
    eprintln!(
        "{orders} orders: {} mails and {} webhook requests for them, {} of each distinct",
        order_mails(&sink).len(),
        deliveries.len(),
        orders
    );
}
