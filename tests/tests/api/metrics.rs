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

fn number(sample: &Sample) -> f64 {
    match &sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{} is not a number: {other:?}", sample.metric),
    }
}

fn find<'s>(scrape: &'s Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<&'s Sample> {
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

/// A placed order's mail shows in the notification gauge, and its event leaves the
/// outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purchase_flow_moves_the_gauges() {
    let app = spawn_app().await;
    let customer = app.signed_in(emporium_domain::Role::Customer).await;
    let product = crate::orders::stocked_product(&app, "Cup", "3.00", 5).await;
    crate::orders::place(
        &app,
        &customer,
        &crate::orders::order_document(Some(&[(&product, 1)])),
        None,
    )
    .await
    .expect_status(201);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, _, scrape) = scrape(&app.url("/metrics")).await;
        let scrape = scrape.unwrap();
        let sent = find(&scrape, "emporium_notifications", &[("status", "sent")]).map(number);
        let unsent = find(&scrape, "emporium_outbox_unsent_events", &[]).map(number);
        if sent == Some(1.0) && unsent == Some(0.0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sent {sent:?}, unsent {unsent:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
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
