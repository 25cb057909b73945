//! The soak run's load generator and judge (run by `scripts/soak`): against a running
//! all-in-one server it stocks a few products (one of them scarce, so that orders
//! are refused for want of stock), registers one customer per connection, and then,
//! at a fixed overall rate, mixes product reads, cart changes, orders (of lines, or of
//! the cart), payments (nine in ten succeed) and cancellations, whatever the server
//! answers (the script stops Redis and the SMTP sink under it).
//!
//! Every order is placed with an `Idempotency-Key`, and a request that got no
//! definite answer (a dropped connection, a 5xx) is sent again with the same key:
//! so the generator knows every order the server holds, as a careful client would.
//!
//! When the time is up it waits for the server to settle (outbox drained, consumer
//! groups caught up, no mail pending) and checks that nothing was lost or applied
//! twice:
//! - the server's orders are exactly the acknowledged ones;
//! - each product's stock is exact: on hand = initial − the units of paid orders,
//!   reserved = the units of pending ones;
//! - each order has exactly one `order.created` notification, none is pending or
//!   failed, and the number of mails sent is printed for the script to compare with
//!   what the SMTP sink received.
//!
//! It prints one JSON object (throughput per 10 s window, p50/p99 by kind of
//! request, answers by status, the checks) and exits 1 when a check fails.
//!
//! Settings (environment): `SOAK_BASE_URL`, `SOAK_API_KEY`, `SOAK_ADMIN_EMAIL`,
//! `SOAK_ADMIN_PASSWORD`, `SOAK_SECONDS` (600), `SOAK_CONNECTIONS` (16),
//! `SOAK_RATE` (requests/s in all, 150), `SOAK_SETTLE_SECONDS` (600).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

const JSON_API: &str = "application/vnd.api+json";
/// Products: the first is scarce.
const PRODUCTS: usize = 6;
const SCARCE_STOCK: i64 = 300;
const PLENTIFUL_STOCK: i64 = 10_000_000;
const WINDOW: Duration = Duration::from_secs(10);
/// Unpaid orders a customer keeps before it pays instead of ordering more.
const MAX_UNPAID: usize = 8;
/// Sends of one order (same key) before it is left for the end.
const ORDER_ATTEMPTS: u32 = 8;

fn setting<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={value} is not valid")),
        Err(_) => Ok(default),
    }
}

/// A small deterministic generator (xorshift64*), one per worker.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// What the server answered: a status (0 when no answer came) and the body.
struct Answer {
    status: u16,
    body: Value,
}

#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Accept", JSON_API);
        for (name, value) in auth {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", JSON_API)
                .body(body.to_string());
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = match response.bytes().await {
                    Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                    Err(_) => {
                        return Answer {
                            status: 0,
                            body: Value::Null,
                        };
                    }
                };
                Answer { status, body }
            }
            Err(_) => Answer {
                status: 0,
                body: Value::Null,
            },
        }
    }

    async fn text(&self, path: &str) -> anyhow::Result<String> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await?;
        ensure!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        Ok(response.text().await?)
    }
}

/// One request's outcome, for the report.
struct Sample {
    kind: &'static str,
    status: u16,
    /// The error's `code`, for answers of 400 and above.
    code: Option<String>,
    micros: u64,
    /// Seconds since the start of the load.
    at: f64,
}

/// An acknowledged order: its lines (product, quantity).
type Lines = Vec<(String, i64)>;

#[derive(Default)]
struct Tally {
    samples: Vec<Sample>,
    orders: HashMap<String, Lines>,
    /// Orders sent without a definite answer: (key, body, token).
    unresolved: Vec<(String, Value, String)>,
}

struct Worker {
    api: Api,
    token: String,
    products: Arc<Vec<String>>,
    dice: Dice,
    unpaid: VecDeque<String>,
    cart_lines: u32,
    started: Instant,
    tally: Tally,
    worker: usize,
    sequence: u64,
}

impl Worker {
    fn auth(&self) -> [(&'static str, String); 1] {
        [("Authorization", format!("Bearer {}", self.token))]
    }

    async fn timed(
        &mut self,
        kind: &'static str,
        method: reqwest::Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let [(name, value)] = self.auth();
        let mut headers: Vec<(&str, &str)> = vec![(name, value.as_str())];
        headers.extend_from_slice(extra);
        let sent = Instant::now();
        let answer = self.api.send(method, path, &headers, body).await;
        self.tally.samples.push(Sample {
            kind,
            status: answer.status,
            code: (answer.status >= 400)
                .then(|| answer.body["errors"][0]["code"].as_str().map(str::to_owned))
                .flatten(),
            micros: sent.elapsed().as_micros() as u64,
            at: sent.duration_since(self.started).as_secs_f64(),
        });
        answer
    }

    fn product(&mut self) -> String {
        let n = self.dice.below(self.products.len() as u64) as usize;
        self.products[n].clone()
    }

    async fn step(&mut self) {
        let roll = self.dice.below(100);
        let wants_order = (60..75).contains(&roll);
        if roll < 45 {
            let product = self.product();
            self.timed(
                "read",
                reqwest::Method::GET,
                &format!("/v1/products/{product}"),
                &[],
                None,
            )
            .await;
        } else if roll < 60 {
            self.cart().await;
        } else if wants_order && self.unpaid.len() < MAX_UNPAID {
            self.order().await;
        } else if roll < 95 || wants_order {
            self.pay().await;
        } else {
            self.cancel().await;
        }
    }

    async fn cart(&mut self) {
        if self.cart_lines >= 3 {
            let answer = self
                .timed("cart", reqwest::Method::DELETE, "/v1/cart", &[], None)
                .await;
            if answer.status / 100 == 2 {
                self.cart_lines = 0;
            }
            return;
        }
        // Plentiful products only: the cart's orders should mostly succeed.
        let n = 1 + self.dice.below(self.products.len() as u64 - 1) as usize;
        let product = self.products[n].clone();
        let document = json!({"data": {"type": "cart-items", "attributes": {"quantity": 1},
            "relationships": {"product": {"data": {"type": "products", "id": product}}}}});
        let answer = self
            .timed(
                "cart",
                reqwest::Method::POST,
                "/v1/cart/items",
                &[],
                Some(&document),
            )
            .await;
        if answer.status / 100 == 2 {
            self.cart_lines += 1;
        }
    }

    async fn order(&mut self) {
        let address = json!({"name": "Soak", "line1": "1 Load St", "city": "London",
            "postalCode": "N1 1AA", "country": "GB"});
        let of_cart = self.cart_lines > 0 && self.dice.below(3) == 0;
        let mut attributes = json!({"shippingAddress": address});
        if !of_cart {
            let count = 1 + self.dice.below(2);
            let mut lines = Vec::new();
            let mut chosen = Vec::new();
            for _ in 0..count {
                let product = self.product();
                if !chosen.contains(&product) {
                    chosen.push(product.clone());
                    lines.push(json!({"productId": product, "quantity": 1 + self.dice.below(3)}));
                }
            }
            attributes["lines"] = Value::Array(lines);
        }
        let body = json!({"data": {"type": "orders", "attributes": attributes}});
        self.sequence += 1;
        let key = format!(
            "soak-{}-{}-{}",
            std::process::id(),
            self.worker,
            self.sequence
        );
        for attempt in 0..ORDER_ATTEMPTS {
            let answer = self
                .timed(
                    "order",
                    reqwest::Method::POST,
                    "/v1/orders",
                    &[("Idempotency-Key", key.as_str())],
                    Some(&body),
                )
                .await;
            match answer.status {
                201 | 200 => {
                    if let Some((id, lines)) = order_of(&answer.body) {
                        self.tally.orders.insert(id.clone(), lines);
                        self.unpaid.push_back(id);
                    }
                    if of_cart {
                        self.cart_lines = 0;
                    }
                    return;
                }
                // No answer, the server could not finish, or the first send still
                // runs: the same key again.
                0 | 500..=599 => {
                    tokio::time::sleep(Duration::from_millis(250 << attempt.min(4))).await;
                }
                409 if answer.body["errors"][0]["code"] == "idempotency_key_in_use" => {
                    tokio::time::sleep(Duration::from_millis(250 << attempt.min(4))).await;
                }
                // Refused for good (no stock, an empty cart, …): nothing was made.
                _ => return,
            }
        }
        self.tally.unresolved.push((key, body, self.token.clone()));
    }

    async fn pay(&mut self) {
        let Some(order) = self.unpaid.front().cloned() else {
            return;
        };
        let document = json!({"data": {"type": "payments", "relationships":
            {"order": {"data": {"type": "orders", "id": order}}}}});
        let opened = self
            .timed(
                "pay",
                reqwest::Method::POST,
                "/v1/payments",
                &[],
                Some(&document),
            )
            .await;
        let payment = match opened.status {
            201 => opened.body["data"]["id"].as_str().map(str::to_owned),
            // A payment is open already (an earlier answer was lost), or the order is
            // no longer pending: look.
            409 | 422 => self.open_payment_of(&order).await,
            _ => return,
        };
        let Some(payment) = payment else {
            return;
        };
        let outcome = if self.dice.below(10) == 0 {
            "fail"
        } else {
            "succeed"
        };
        let settled = self
            .timed(
                "pay",
                reqwest::Method::POST,
                &format!("/v1/payments/{payment}/{outcome}"),
                &[],
                None,
            )
            .await;
        if settled.status == 200 && outcome == "succeed" {
            self.unpaid.retain(|id| *id != order);
        }
    }

    /// The pending payment of `order`, or `None` (and the order forgotten) when the
    /// order is not pending any more.
    async fn open_payment_of(&mut self, order: &str) -> Option<String> {
        let answer = self
            .timed(
                "pay",
                reqwest::Method::GET,
                &format!("/v1/orders/{order}?include=payments"),
                &[],
                None,
            )
            .await;
        if answer.status != 200 {
            return None;
        }
        if answer.body["data"]["attributes"]["status"] != "pending" {
            self.unpaid.retain(|id| id != order);
            return None;
        }
        answer.body["included"]
            .as_array()?
            .iter()
            .find(|payment| payment["attributes"]["status"] == "pending")
            .and_then(|payment| payment["id"].as_str().map(str::to_owned))
    }

    async fn cancel(&mut self) {
        let Some(order) = self.unpaid.back().cloned() else {
            return;
        };
        let answer = self
            .timed(
                "cancel",
                reqwest::Method::POST,
                &format!("/v1/orders/{order}/cancel"),
                &[],
                None,
            )
            .await;
        if answer.status == 200 || answer.status == 409 {
            self.unpaid.retain(|id| *id != order);
        }
    }
}

/// (id, lines) of an order document.
fn order_of(document: &Value) -> Option<(String, Lines)> {
    let id = document["data"]["id"].as_str()?.to_owned();
    let lines = document["data"]["attributes"]["lines"]
        .as_array()?
        .iter()
        .filter_map(|line| {
            Some((
                line["productId"].as_str()?.to_owned(),
                line["quantity"].as_i64()?,
            ))
        })
        .collect();
    Some((id, lines))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

/// The value of the series `name` with `labels` (`a="b"` text) in a scrape, summed
/// over the series that match.
fn metric(text: &str, name: &str, labels: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (series, value) = match rest.rsplit_once(' ') {
            Some(parts) => parts,
            None => continue,
        };
        if !(series.is_empty() || series.starts_with('{')) || !series.contains(labels) {
            continue;
        }
        if let Ok(value) = value.parse::<f64>() {
            found = Some(found.unwrap_or(0.0) + value);
        }
    }
    found
}

async fn register(api: &Api, email: &str, password: &str) -> anyhow::Result<String> {
    let answer = api
        .send(
            reqwest::Method::POST,
            "/v1/auth/register",
            &[],
            Some(&json!({"data": {"type": "users", "attributes":
                {"email": email, "password": password, "name": "Soak"}}})),
        )
        .await;
    ensure!(
        answer.status == 201,
        "registering {email}: {} {}",
        answer.status,
        answer.body
    );
    log_in(api, email, password).await
}

async fn log_in(api: &Api, email: &str, password: &str) -> anyhow::Result<String> {
    let answer = api
        .send(
            reqwest::Method::POST,
            "/v1/auth/login",
            &[],
            Some(&json!({"data": {"type": "credentials", "attributes":
                {"email": email, "password": password}}})),
        )
        .await;
    ensure!(
        answer.status == 200,
        "logging in {email}: {} {}",
        answer.status,
        answer.body
    );
    Ok(answer.body["data"]["attributes"]["accessToken"]
        .as_str()
        .context("no access token")?
        .to_owned())
}

/// Every resource of a list, page by page (100 a page), as `token`.
async fn every(api: &Api, path: &str, token: &str) -> anyhow::Result<Vec<Value>> {
    let auth = format!("Bearer {token}");
    let mut all = Vec::new();
    for page in 1.. {
        let separator = if path.contains('?') { '&' } else { '?' };
        let answer = api
            .send(
                reqwest::Method::GET,
                &format!("{path}{separator}page%5Bsize%5D=100&page%5Bnumber%5D={page}"),
                &[("Authorization", &auth)],
                None,
            )
            .await;
        ensure!(
            answer.status == 200,
            "GET {path}: {} {}",
            answer.status,
            answer.body
        );
        let data = answer.body["data"].as_array().cloned().unwrap_or_default();
        let done = data.len() < 100;
        all.extend(data);
        if done {
            break;
        }
    }
    Ok(all)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base: String = setting("SOAK_BASE_URL", "http://127.0.0.1:8080".to_owned())?;
    let key: String = setting("SOAK_API_KEY", String::new())?;
    let admin_email: String = setting("SOAK_ADMIN_EMAIL", String::new())?;
    let admin_password: String = setting("SOAK_ADMIN_PASSWORD", String::new())?;
    let seconds: u64 = setting("SOAK_SECONDS", 600)?;
    let connections: usize = setting("SOAK_CONNECTIONS", 16)?;
    let rate: f64 = setting("SOAK_RATE", 150.0)?;
    let settle: u64 = setting("SOAK_SETTLE_SECONDS", 600)?;
    ensure!(!key.is_empty(), "SOAK_API_KEY is required");
    ensure!(
        connections > 0 && rate > 0.0,
        "SOAK_CONNECTIONS and SOAK_RATE must be > 0"
    );
    let api = Api {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(connections)
            .build()?,
        base,
    };
    let with_key = [("X-API-Key", key.as_str())];

    // Products and their stock.
    let mut products = Vec::new();
    let mut initial = HashMap::new();
    for n in 0..PRODUCTS {
        let answer = api
            .send(
                reqwest::Method::POST,
                "/v1/products",
                &with_key,
                Some(&json!({"data": {"type": "products", "attributes": {
                    "name": format!("Soak product {n}"), "price": format!("{}.50", 3 + n),
                    "sku": format!("SOAK-{}-{n}", std::process::id())}}})),
            )
            .await;
        ensure!(
            answer.status == 201,
            "creating a product: {} {}",
            answer.status,
            answer.body
        );
        let id = answer.body["data"]["id"]
            .as_str()
            .context("no product id")?
            .to_owned();
        let on_hand = if n == 0 {
            SCARCE_STOCK
        } else {
            PLENTIFUL_STOCK
        };
        let answer = api
            .send(
                reqwest::Method::POST,
                "/v1/inventory",
                &with_key,
                Some(
                    &json!({"data": {"type": "inventory", "attributes": {"onHand": on_hand},
                    "relationships": {"product": {"data": {"type": "products", "id": id}}}}}),
                ),
            )
            .await;
        ensure!(
            answer.status == 201,
            "stocking a product: {} {}",
            answer.status,
            answer.body
        );
        initial.insert(id.clone(), on_hand);
        products.push(id);
    }
    let products = Arc::new(products);
    let mut tokens = Vec::new();
    for n in 0..connections {
        let email = format!("soak-{}-{n}@soak.test", std::process::id());
        tokens.push(register(&api, &email, "a soak-test password").await?);
    }
    let admin = log_in(&api, &admin_email, &admin_password).await?;

    eprintln!(
        "soak_load: loading for {seconds} s at {rate} requests/s over {connections} connections"
    );
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let interval = Duration::from_secs_f64(connections as f64 / rate);
    let workers: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(n, token)| {
            let mut worker = Worker {
                api: api.clone(),
                token,
                products: products.clone(),
                dice: Dice(
                    0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9),
                ),
                unpaid: VecDeque::new(),
                cart_lines: 0,
                started,
                tally: Tally::default(),
                worker: n,
                sequence: 0,
            };
            tokio::spawn(async move {
                // Spread the workers' first requests over one interval.
                let mut next =
                    tokio::time::Instant::now() + interval.mul_f64(n as f64 / connections as f64);
                while Instant::now() < end {
                    tokio::time::sleep_until(next).await;
                    next += interval;
                    worker.step().await;
                }
                worker.tally
            })
        })
        .collect();
    let mut tally = Tally::default();
    for worker in workers {
        let part = worker.await?;
        tally.samples.extend(part.samples);
        tally.orders.extend(part.orders);
        tally.unresolved.extend(part.unresolved);
    }
    let loaded = started.elapsed().as_secs_f64();
    eprintln!(
        "soak_load: load done: {} requests, {} orders acknowledged, {} without a definite answer",
        tally.samples.len(),
        tally.orders.len(),
        tally.unresolved.len()
    );

    // The orders that got no definite answer: their key again, now.
    let mut failures: Vec<String> = Vec::new();
    for (key, body, token) in &tally.unresolved {
        let auth = format!("Bearer {token}");
        let answer = api
            .send(
                reqwest::Method::POST,
                "/v1/orders",
                &[("Authorization", &auth), ("Idempotency-Key", key)],
                Some(body),
            )
            .await;
        match answer.status {
            200 | 201 => {
                let (id, lines) = order_of(&answer.body).context("an order without lines")?;
                tally.orders.insert(id, lines);
            }
            status if status / 100 == 4 => {}
            status => failures.push(format!("order key {key} still unresolved: {status}")),
        }
    }

    // Settling: the outbox drained, every group caught up, no mail waiting.
    let settle_started = Instant::now();
    let last = loop {
        let text = api.text("/metrics").await.unwrap_or_default();
        let value = |name: &str, labels: &str| metric(&text, name, labels);
        let waiting = [
            ("outbox", value("emporium_outbox_unsent_events", "")),
            ("lag", value("emporium_bus_consumer_lag", "")),
            ("pending", value("emporium_bus_pending_events", "")),
            (
                "mail",
                value("emporium_notifications", "status=\"pending\""),
            ),
        ];
        let last = format!("{waiting:?}");
        if !text.is_empty() && waiting.iter().all(|(_, v)| v.unwrap_or(0.0) == 0.0) {
            break last;
        }
        if settle_started.elapsed() > Duration::from_secs(settle) {
            failures.push(format!("the server did not settle in {settle} s: {last}"));
            break last;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let settled_after = settle_started.elapsed().as_secs_f64();
    eprintln!("soak_load: settled after {settled_after:.0} s ({last})");

    // Orders: exactly the acknowledged ones.
    let server_orders = every(&api, "/v1/orders", &admin).await?;
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut expected_on_hand = initial.clone();
    let mut expected_reserved: HashMap<String, i64> = HashMap::new();
    let mut seen = 0usize;
    for order in &server_orders {
        let id = order["id"].as_str().unwrap_or_default();
        let status = order["attributes"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        *by_status.entry(status.clone()).or_default() += 1;
        let Some(lines) = tally.orders.get(id) else {
            failures.push(format!("order {id} ({status}) was never acknowledged"));
            continue;
        };
        seen += 1;
        for (product, quantity) in lines {
            match status.as_str() {
                "paid" | "shipped" | "delivered" => {
                    *expected_on_hand.entry(product.clone()).or_default() -= quantity;
                }
                "pending" => *expected_reserved.entry(product.clone()).or_default() += quantity,
                _ => {}
            }
        }
    }
    if seen != tally.orders.len() {
        failures.push(format!(
            "{} acknowledged orders are missing on the server",
            tally.orders.len() - seen
        ));
    }

    // Stock: exact.
    let mut stock = Vec::new();
    for product in products.iter() {
        let answer = api
            .send(
                reqwest::Method::GET,
                &format!("/v1/inventory/{product}"),
                &with_key,
                None,
            )
            .await;
        ensure!(
            answer.status == 200,
            "reading stock: {} {}",
            answer.status,
            answer.body
        );
        let on_hand = answer.body["data"]["attributes"]["onHand"]
            .as_i64()
            .unwrap_or(-1);
        let reserved = answer.body["data"]["attributes"]["reserved"]
            .as_i64()
            .unwrap_or(-1);
        let expected = (
            expected_on_hand[product],
            expected_reserved.get(product).copied().unwrap_or(0),
        );
        if (on_hand, reserved) != expected {
            failures.push(format!(
                "product {product}: on hand {on_hand}, reserved {reserved}; the orders say {expected:?}"
            ));
        }
        stock.push(json!({"product": product, "initial": initial[product],
            "onHand": on_hand, "reserved": reserved}));
    }

    // Notifications: one per order placed; none left pending or failed.
    let notifications = every(&api, "/v1/notifications", &admin).await?;
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut emails_sent = 0u64;
    for notification in &notifications {
        let attributes = &notification["attributes"];
        let kind = format!(
            "{} {} {}",
            attributes["eventType"].as_str().unwrap_or("?"),
            attributes["channel"].as_str().unwrap_or("?"),
            attributes["status"].as_str().unwrap_or("?")
        );
        *by_kind.entry(kind).or_default() += 1;
        if attributes["channel"] == "email" && attributes["status"] == "sent" {
            emails_sent += 1;
        }
        if attributes["status"] != "sent" {
            failures.push(format!(
                "notification {} is {}",
                notification["id"], attributes["status"]
            ));
        }
    }
    let placed_told = notifications
        .iter()
        .filter(|n| n["attributes"]["eventType"] == "order.created")
        .count();
    if placed_told != server_orders.len() {
        failures.push(format!(
            "{placed_told} order.created notifications for {} orders",
            server_orders.len()
        ));
    }

    // The report.
    let mut windows: Vec<u64> = vec![0; (loaded / WINDOW.as_secs_f64()).ceil() as usize];
    let mut statuses: BTreeMap<String, BTreeMap<u16, u64>> = BTreeMap::new();
    let mut latencies: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for sample in &tally.samples {
        if let Some(code) = &sample.code {
            *errors
                .entry(format!("{} {} {code}", sample.kind, sample.status))
                .or_default() += 1;
        }
        let window = (sample.at / WINDOW.as_secs_f64()) as usize;
        if let Some(count) = windows.get_mut(window) {
            *count += 1;
        }
        *statuses
            .entry(sample.kind.to_owned())
            .or_default()
            .entry(sample.status)
            .or_default() += 1;
        latencies
            .entry(sample.kind)
            .or_default()
            .push(sample.micros);
        latencies.entry("all").or_default().push(sample.micros);
    }
    let mut latency = serde_json::Map::new();
    for (kind, mut values) in latencies {
        values.sort_unstable();
        latency.insert(
            kind.to_owned(),
            json!({"count": values.len(), "p50_ms": percentile(&values, 50.0),
                "p99_ms": percentile(&values, 99.0)}),
        );
    }
    let report = json!({
        "seconds": loaded,
        "requests": tally.samples.len(),
        "throughput": tally.samples.len() as f64 / loaded,
        "per_window": windows.iter().map(|count| *count as f64 / WINDOW.as_secs_f64()).collect::<Vec<_>>(),
        "latency": latency,
        "statuses": statuses,
        "errors": errors,
        "orders": {"acknowledged": tally.orders.len(), "on_server": server_orders.len(), "by_status": by_status},
        "stock": stock,
        "notifications": {"records": notifications.len(), "emails_sent": emails_sent, "by_kind": by_kind},
        "settled_after_seconds": settled_after,
        "failures": failures,
    });
    println!("{report}");
    if !report["failures"].as_array().is_some_and(Vec::is_empty) {
        bail!("the soak's checks failed: {}", report["failures"]);
    }
    Ok(())
}
