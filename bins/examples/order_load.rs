//! The order benchmark's load generator (run by `scripts/bench orders`): against a
//! running server it creates one product with plenty of stock and one customer per
//! connection, then places one-unit orders of that product from every connection,
//! each with its own access token, for a warm-up and a measured window. It prints
//! one JSON line: orders/s in the measured window and in each 10-second part of it
//! (`per_window`, for the sustained benchmark), p50/p99 latency, answers by status,
//! and the exactness check (orders created = units reserved). With `pay` each order
//! is then paid through the mock provider (a payment opened and marked succeeded by
//! its buyer), so no customer piles up pending orders; the check is then that every
//! order holds or has taken exactly one unit, and that paid orders' units left stock.
//!
//! ```text
//! order_load BASE_URL API_KEY [CONNECTIONS=64] [SECONDS=10] [WARMUP=2] [pay]
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const JSON_API: &str = "application/vnd.api+json";
const STOCK: i64 = 1_000_000_000;
/// The length of one part of the measured window in `per_window`.
const WINDOW: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Tally {
    /// Latencies (µs) of answers inside the measured window.
    latencies: Vec<u64>,
    created: u64,
    created_measured: u64,
    /// Orders whose payment succeeded.
    paid: u64,
    /// Orders created in each 10-second part of the measured window.
    per_window: Vec<u64>,
    other: std::collections::BTreeMap<u16, u64>,
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, String)],
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let mut request = client
        .post(url)
        .header("Accept", JSON_API)
        .header("Content-Type", JSON_API)
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let key = args
        .get(2)
        .cloned()
        .expect("usage: order_load BASE_URL API_KEY [CONNECTIONS] [SECONDS] [WARMUP]");
    let connections: usize = args.get(3).map_or(Ok(64), |n| n.parse())?;
    let seconds: u64 = args.get(4).map_or(Ok(10), |n| n.parse())?;
    let warmup: u64 = args.get(5).map_or(Ok(2), |n| n.parse())?;
    let pay = args.get(6).is_some_and(|mode| mode == "pay");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;

    let (status, body) = post(
        &client,
        &format!("{base}/v1/products"),
        &[("X-API-Key", key.clone())],
        &json!({"data": {"type": "products", "attributes": {
            "name": "Benchmark cup", "price": "9.99", "sku": format!("BENCH-{}", std::process::id())}}}),
    )
    .await?;
    anyhow::ensure!(status == 201, "creating the product: {status} {body}");
    let product = body["data"]["id"].as_str().unwrap_or_default().to_owned();
    let (status, body) = post(
        &client,
        &format!("{base}/v1/inventory"),
        &[("X-API-Key", key.clone())],
        &json!({"data": {"type": "inventory", "id": product, "attributes": {"onHand": STOCK}}}),
    )
    .await?;
    anyhow::ensure!(status == 201, "creating the stock: {status} {body}");

    let mut tokens = Vec::with_capacity(connections);
    for i in 0..connections {
        let email = format!("bench-{}-{i}@bench.test", std::process::id());
        let password = "a benchmark password";
        let (status, body) = post(
            &client,
            &format!("{base}/v1/auth/register"),
            &[],
            &json!({"data": {"type": "users", "attributes": {"email": email, "password": password, "name": "Bench"}}}),
        )
        .await?;
        anyhow::ensure!(status == 201, "registering: {status} {body}");
        let (status, body) = post(
            &client,
            &format!("{base}/v1/auth/login"),
            &[],
            &json!({"data": {"type": "credentials", "attributes": {"email": email, "password": password}}}),
        )
        .await?;
        anyhow::ensure!(status == 200, "logging in: {status} {body}");
        tokens.push(
            body["data"]["attributes"]["accessToken"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }

    let order = Arc::new(json!({"data": {"type": "orders", "attributes": {
        "lines": [{"productId": product, "quantity": 1}],
        "shippingAddress": {"name": "Bench", "line1": "1 Load St", "city": "London",
            "postalCode": "N1 1AA", "country": "GB"}}}}));
    // For scripts that sample the server while the load runs (the sustained bench).
    eprintln!("loading");
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(warmup);
    let end = measure_from + Duration::from_secs(seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let url = Arc::new(format!("{base}/v1/orders"));
    // Every window is reported, a window without orders as 0.
    let windows = seconds.div_ceil(WINDOW.as_secs()) as usize;
    let workers: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let (client, order, url, stop, base) = (
                client.clone(),
                order.clone(),
                url.clone(),
                stop.clone(),
                base.clone(),
            );
            tokio::spawn(async move {
                let mut tally = Tally {
                    per_window: vec![0; windows],
                    ..Tally::default()
                };
                let authorization = format!("Bearer {token}");
                while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                    let sent = Instant::now();
                    let auth = [("Authorization", authorization.clone())];
                    let (status, placed) = match post(&client, &url, &auth, &order).await {
                        Ok(answer) => answer,
                        Err(_) => (0, Value::Null),
                    };
                    if status == 201 {
                        tally.created += 1;
                        if pay && pay_order(&client, &base, &auth, &placed).await {
                            tally.paid += 1;
                        }
                    }
                    let done = Instant::now();
                    if sent >= measure_from && done < end {
                        tally
                            .latencies
                            .push(done.duration_since(sent).as_micros() as u64);
                        if status == 201 {
                            tally.created_measured += 1;
                            let window = (done.duration_since(measure_from).as_secs()
                                / WINDOW.as_secs())
                                as usize;
                            if tally.per_window.len() <= window {
                                tally.per_window.resize(window + 1, 0);
                            }
                            tally.per_window[window] += 1;
                        }
                    }
                    if status != 201 {
                        *tally.other.entry(status).or_default() += 1;
                    }
                }
                tally
            })
        })
        .collect();
    let mut total = Tally {
        per_window: vec![0; windows],
        ..Tally::default()
    };
    for worker in workers {
        let tally = worker.await?;
        total.latencies.extend(tally.latencies);
        total.created += tally.created;
        total.created_measured += tally.created_measured;
        total.paid += tally.paid;
        if total.per_window.len() < tally.per_window.len() {
            total.per_window.resize(tally.per_window.len(), 0);
        }
        for (window, created) in tally.per_window.iter().enumerate() {
            total.per_window[window] += created;
        }
        for (status, count) in tally.other {
            *total.other.entry(status).or_default() += count;
        }
    }
    total.latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if total.latencies.is_empty() {
            return 0.0;
        }
        let index = ((total.latencies.len() as f64 - 1.0) * p).round() as usize;
        total.latencies[index] as f64 / 1000.0
    };

    // Paid orders take their units through the outbox and the stock consumer: wait
    // (60 s at most) for stock to settle, and report how long that took (the event
    // backlog the load left).
    let expected = |on_hand: i64, reserved: i64| {
        let taken = STOCK - on_hand;
        taken + reserved == total.created as i64 && taken == total.paid as i64
    };
    let load_ended = Instant::now();
    let settle_by = load_ended + Duration::from_secs(60);
    let (on_hand, reserved) = loop {
        let stock = client
            .get(format!("{base}/v1/inventory/{product}"))
            .header("Accept", JSON_API)
            .send()
            .await?
            .json::<Value>()
            .await?;
        let reserved = stock["data"]["attributes"]["reserved"]
            .as_i64()
            .unwrap_or(-1);
        let on_hand = stock["data"]["attributes"]["onHand"].as_i64().unwrap_or(-1);
        if expected(on_hand, reserved) || Instant::now() >= settle_by {
            break (on_hand, reserved);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let summary = json!({
        "connections": connections,
        "seconds": seconds,
        "orders_per_second": (total.created_measured as f64 / seconds as f64).round(),
        "per_window": total
            .per_window
            .iter()
            .enumerate()
            .map(|(window, created)| {
                // The last part may be shorter than 10 s.
                let length = (seconds - window as u64 * WINDOW.as_secs()).min(WINDOW.as_secs());
                (*created as f64 / length as f64).round()
            })
            .collect::<Vec<_>>(),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "created": total.created,
        "paid": total.paid,
        "refused_or_failed": total.other,
        "reserved": reserved,
        "on_hand": on_hand,
        "exact": expected(on_hand, reserved),
        "settled_after_ms": load_ended.elapsed().as_millis() as u64,
    });
    println!("{summary}");
    Ok(())
}

/// Opens a payment for the order `placed` answered and marks it succeeded (the mock
/// provider's control, open to the buyer); whether it succeeded.
async fn pay_order(
    client: &reqwest::Client,
    base: &str,
    auth: &[(&str, String)],
    placed: &Value,
) -> bool {
    let Some(order) = placed["data"]["id"].as_str() else {
        return false;
    };
    let opened = post(
        client,
        &format!("{base}/v1/payments"),
        auth,
        &json!({"data": {"type": "payments", "relationships":
            {"order": {"data": {"type": "orders", "id": order}}}}}),
    )
    .await;
    let Ok((201, payment)) = opened else {
        return false;
    };
    let Some(payment) = payment["data"]["id"].as_str() else {
        return false;
    };
    // An action route: no body.
    let mut succeed = client
        .post(format!("{base}/v1/payments/{payment}/succeed"))
        .header("Accept", JSON_API);
    for (name, value) in auth {
        succeed = succeed.header(*name, value);
    }
    matches!(succeed.send().await, Ok(answer) if answer.status().as_u16() == 200)
}
