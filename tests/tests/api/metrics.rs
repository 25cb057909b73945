//! `GET /metrics`, scraped as Prometheus does and read with a real Prometheus text
//! parser (prometheus-parse): requests by method, route template (never the raw
//! path) and status class, latency histograms, dependency health; and
//! `EMPORIUM_METRICS_ADDR` moving them off the main listener.

use std::net::SocketAddr;

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use prometheus_parse::{Sample, Scrape, Value};
use reqwest::Method;
use uuid::Uuid;

use crate::helpers::{TestApp, embedded_config, free_port, spawn_app, with_admin};

/// What a Prometheus server sends.
const SCRAPER_ACCEPT: &str =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

async fn scrape(url: &str) -> (u16, String, Option<Scrape>) {
    let response = reqwest::Client::new()
        .get(url)
        .header("Accept", SCRAPER_ACCEPT)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = response.text().await.unwrap();
    let parsed = (status == 200).then(|| {
        Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("valid text format")
    });
    (status, content_type, parsed)
}

/// `app`'s `/metrics`, parsed.
pub async fn scraped(app: &TestApp) -> Scrape {
    let (status, _, scrape) = scrape(&app.url("/metrics")).await;
    assert_eq!(status, 200);
    scrape.unwrap()
}

pub fn number(sample: &Sample) -> f64 {
    match &sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{} is not a number: {other:?}", sample.metric),
    }
}

pub fn find<'s>(scrape: &'s Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<&'s Sample> {
    scrape.samples.iter().find(|sample| {
        sample.metric == metric
            && labels
                .iter()
                .all(|(name, value)| sample.labels.get(name) == Some(*value))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_counted_by_route_template_and_dependencies_reported() {
    let app = spawn_app().await;
    let missing = Uuid::now_v7();
    for _ in 0..2 {
        app.get(&format!("/v1/products/{missing}"))
            .await
            .expect_status(404);
    }
    app.get("/v1/products").await.expect_status(200);
    app.anonymous(Method::GET, "/v1/orders", None)
        .await
        .expect_status(401);

    let (status, content_type, scrape) = scrape(&app.url("/metrics")).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let scrape = scrape.unwrap();
    let not_found = find(
        &scrape,
        "emporium_http_requests_total",
        &[
            ("method", "GET"),
            ("route", "/v1/products/:id"),
            ("status_class", "4xx"),
        ],
    )
    .expect("the 404s are counted under the route template");
    assert_eq!(number(not_found), 2.0);
    let listed = find(
        &scrape,
        "emporium_http_requests_total",
        &[
            ("method", "GET"),
            ("route", "/v1/products"),
            ("status_class", "2xx"),
        ],
    )
    .unwrap();
    assert!(number(listed) >= 1.0);
    assert!(
        find(
            &scrape,
            "emporium_http_requests_total",
            &[("route", "/v1/orders"), ("status_class", "4xx")],
        )
        .is_some()
    );
    // Bounded labels: no raw path, no id.
    for sample in &scrape.samples {
        for (name, value) in sample.labels.iter() {
            assert!(
                !value.contains(&missing.to_string()),
                "{} has an id in {name}={value}",
                sample.metric
            );
        }
    }
    let latency = scrape
        .samples
        .iter()
        .find(|sample| {
            sample.metric == "emporium_http_request_duration_seconds"
                && sample.labels.get("route") == Some("/v1/products/:id")
        })
        .expect("a latency histogram");
    match &latency.value {
        Value::Histogram(buckets) => {
            assert!(buckets.len() >= 10);
            assert_eq!(buckets.last().unwrap().count, 2.0, "+Inf holds both");
        }
        other => panic!("not a histogram: {other:?}"),
    }
    let database = find(&scrape, "emporium_dependency_up", &[("name", "database")])
        .expect("the database's health");
    assert_eq!(number(database), 1.0);
    assert_eq!(database.labels.get("required"), Some("true"));
    // The stores' gauges, read at the scrape.
    assert!(find(&scrape, "emporium_outbox_unsent_events", &[]).is_some());
    assert!(find(&scrape, "emporium_outbox_oldest_unsent_age_seconds", &[]).is_some());
    for status in ["pending", "sent", "failed"] {
        let count = find(&scrape, "emporium_notifications", &[("status", status)])
            .unwrap_or_else(|| panic!("notifications {status}"));
        assert_eq!(number(count), 0.0);
    }
    for status in ["pending", "succeeded", "failed"] {
        assert!(
            find(
                &scrape,
                "emporium_webhook_deliveries",
                &[("status", status)]
            )
            .is_some(),
            "webhook deliveries {status}"
        );
    }
}

/// A purchase moves the counters and gauges: the product cache's miss then hit, the
/// order placed and the one refused for want of stock, the payment's outcome, the
/// events published and each consumer group's applications, the mail in the
/// notification gauge and the outbox drained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purchase_flow_moves_the_counters_and_gauges() {
    let app = spawn_app().await;
    let customer = app.signed_in(emporium_domain::Role::Customer).await;
    let product = crate::orders::stocked_product(&app, "Cup", "3.00", 5).await;
    for _ in 0..2 {
        app.get(&format!("/v1/products/{product}"))
            .await
            .expect_status(200);
    }
    let placed = crate::orders::place(
        &app,
        &customer,
        &crate::orders::order_document(Some(&[(&product, 1)])),
        None,
    )
    .await;
    placed.expect_status(201);
    crate::orders::place(
        &app,
        &customer,
        &crate::orders::order_document(Some(&[(&product, 50)])),
        None,
    )
    .await
    .expect_status(422);
    let order = placed.body["data"]["id"].as_str().unwrap();
    let payment = crate::payments::open_payment(&app, &customer, order).await;
    payment.expect_status(201);
    let payment = payment.body["data"]["id"].as_str().unwrap().to_owned();
    app.bearer(
        Method::POST,
        &format!("/v1/payments/{payment}/succeed"),
        &customer,
        None,
    )
    .await
    .expect_status(200);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let scrape = loop {
        let (_, _, scrape) = scrape(&app.url("/metrics")).await;
        let scrape = scrape.unwrap();
        let status =
            |status| find(&scrape, "emporium_notifications", &[("status", status)]).map(number);
        let (sent, pending) = (status("sent"), status("pending"));
        let unsent = find(&scrape, "emporium_outbox_unsent_events", &[]).map(number);
        // Every event handled (in process: before it leaves the outbox), every mail
        // sent: the order's, the payment's, …
        if unsent == Some(0.0) && pending == Some(0.0) && sent >= Some(2.0) {
            break scrape;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sent {sent:?}, pending {pending:?}, unsent {unsent:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let value = |metric: &str, labels: &[(&str, &str)]| {
        find(&scrape, metric, labels)
            .map(number)
            .unwrap_or_else(|| panic!("no {metric} {labels:?}"))
    };
    assert_eq!(value("emporium_orders_placed_total", &[]), 1.0);
    assert_eq!(value("emporium_stock_reservations_refused_total", &[]), 1.0);
    let outcome = |outcome| value("emporium_payments_total", &[("outcome", outcome)]);
    assert_eq!(outcome("succeeded"), 1.0);
    assert_eq!(outcome("failed"), 0.0);
    assert_eq!(outcome("refunded"), 0.0);
    let published = |kind| {
        value(
            "emporium_bus_events_published_total",
            &[("event_type", kind)],
        )
    };
    assert_eq!(published("order.created"), 1.0);
    assert_eq!(published("payment.succeeded"), 1.0);
    assert_eq!(published("shipment.dispatched"), 0.0);
    // Every event published reached every group here.
    let events: f64 = scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == "emporium_bus_events_published_total")
        .map(number)
        .sum();
    for group in [
        "stock",
        "orders",
        "order-shipments",
        "notifications",
        "webhooks",
    ] {
        assert_eq!(
            value("emporium_bus_events_consumed_total", &[("group", group)]),
            events,
            "group {group}"
        );
        assert_eq!(
            value("emporium_bus_events_failed_total", &[("group", group)]),
            0.0
        );
    }
    let cache = |operation, result| {
        value(
            "emporium_cache_operations_total",
            &[("operation", operation), ("result", result)],
        )
    };
    assert!(cache("get", "miss") >= 1.0, "the first read missed");
    assert!(cache("get", "hit") >= 1.0, "the second read hit");
    assert_eq!(cache("get", "error"), 0.0);
    // One process on the in-process bus: no Redis consumer groups to report.
    assert!(find(&scrape, "emporium_bus_consumer_lag", &[]).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_address_keeps_them_off_the_public_port() {
    let dir = TempDir::new();
    let metrics_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = Config {
        metrics_addr: Some(metrics_addr),
        ..with_admin(embedded_config(&dir))
    };
    let app = TestApp::spawn(config, ServiceSet::All).await;
    app.get("/v1/products").await.expect_status(200);
    let (status, _, _) = scrape(&app.url("/metrics")).await;
    assert_eq!(status, 404, "not on the public port");
    let (status, _, scrape) = scrape(&format!("http://{metrics_addr}/metrics")).await;
    assert_eq!(status, 200);
    assert!(
        find(
            &scrape.unwrap(),
            "emporium_http_requests_total",
            &[("route", "/v1/products")],
        )
        .is_some()
    );
}
