//! The split deployment as real processes, two replicas of each service behind the
//! repository's nginx gateway, and a `kill -9` of one orders replica and one
//! inventory replica in the middle of 300 racing one-unit orders on stock 100.
//! Clients retry a failed POST with the same `Idempotency-Key` (nginx does not retry
//! a POST that reached a replica). Then: every answer was final (placed or refused
//! for stock), each order exists once, the stock is exact once the abandoned
//! attempts are released (on hand 100, reserved = the units of the orders placed),
//! and every outbox row was published.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emporium_adapters::testing::gateway::Gateway;
use emporium_adapters::testing::{self, TempDir};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};

use super::client::Client;
use super::server::{BINARY, ServerProcess, free_addr};

const ADMIN_EMAIL: &str = "admin@replicas.test";
const ADMIN_PASSWORD: &str = "a replicas test admin password";
const STOCK: i64 = 100;
const ORDERS: usize = 300;
const CUSTOMERS: usize = 30;

/// Everything a service process is started with.
struct Settings {
    api_key: String,
    secret: String,
    prefix: String,
    redis: String,
    internal: SocketAddr,
}

impl Settings {
    fn start(
        &self,
        service: &str,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> (ServerProcess, SocketAddr) {
        let addr = free_addr();
        let data = dir.join(format!("{service}-{}", addr.port()));
        std::fs::create_dir_all(&data).unwrap();
        let mut command = Command::new(BINARY);
        command
            .args(["serve", service])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("EMPORIUM_DATA_DIR", &data)
            .env("EMPORIUM_ADDR", addr.to_string())
            .env("EMPORIUM_API_KEY", &self.api_key)
            .env("EMPORIUM_JWT_SECRET", &self.secret)
            .env("EMPORIUM_REDIS_URL", &self.redis)
            .env("EMPORIUM_REDIS_PREFIX", &self.prefix)
            .env("EMPORIUM_PRODUCTS_URL", format!("http://{}", self.internal))
            .env(
                "EMPORIUM_INVENTORY_URL",
                format!("http://{}", self.internal),
            )
            .env("EMPORIUM_TRUSTED_PROXIES", "127.0.0.0/8")
            .env("EMPORIUM_PAYMENT_PROVIDER", "mock")
            .env("EMPORIUM_AUTH_RATE_PER_MINUTE", "100000")
            .env("EMPORIUM_MAX_PENDING_ORDERS", "1000")
            .env("EMPORIUM_ORDER_ATTEMPT_TIMEOUT", "2");
        for (name, value) in env {
            command.env(name, value);
        }
        (ServerProcess::start(command, addr, &data), addr)
    }
}

impl Client {
    async fn must(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        expected: u16,
    ) -> Value {
        let authorization = token.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|value| vec![("Authorization", value)])
            .unwrap_or_default();
        // A read may meet a replica as it is killed: once more, then it must answer.
        let mut answer = self.try_send(method.clone(), path, &headers, body).await;
        if answer.is_err() && method == reqwest::Method::GET {
            tokio::time::sleep(Duration::from_millis(500)).await;
            answer = self.try_send(method, path, &headers, body).await;
        }
        let (status, body) =
            answer.unwrap_or_else(|error| panic!("no answer to {path}: {error:?}"));
        assert_eq!(status, expected, "{path}: {body}");
        body
    }

    /// Places one order, retrying a failed or interrupted attempt with the same
    /// `Idempotency-Key` (for up to a minute: a key held by a replica that died is
    /// released after its hold). The final answer.
    async fn place(&self, token: &str, key: &str, document: &Value) -> (u16, Value) {
        let authorization = format!("Bearer {token}");
        let headers = [
            ("Authorization", authorization.as_str()),
            ("Idempotency-Key", key),
        ];
        let started = Instant::now();
        loop {
            let answer = self
                .send(
                    reqwest::Method::POST,
                    "/v1/orders",
                    &headers,
                    Some(document),
                )
                .await;
            match answer {
                Some((status, body)) if status == 201 || status == 422 => return (status, body),
                // Dead replica, dependency down, key still held by a dead request.
                Some((status, _)) if status >= 500 || status == 409 => {}
                None => {}
                Some((status, body)) => panic!("an order answered {status}: {body}"),
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "order {key} never got a final answer: {answer:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// (on hand, reserved) of `product`.
async fn stock(client: &Client, product: &str) -> (i64, i64) {
    let body = client
        .must(
            reqwest::Method::GET,
            &format!("/v1/inventory/{product}"),
            None,
            None,
            200,
        )
        .await;
    let attributes = &body["data"]["attributes"];
    (
        attributes["onHand"].as_i64().unwrap(),
        attributes["reserved"].as_i64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_a_replica_of_orders_and_of_inventory_loses_nothing() {
    let Some(redis) = testing::redis_url() else {
        return;
    };
    let Some((mongo_url, mongo_database)) = testing::mongo_database() else {
        return;
    };
    let (Some(users_db), Some(products_db), Some(orders_db)) = (
        testing::postgres_database().await,
        testing::postgres_database().await,
        testing::postgres_database().await,
    ) else {
        return;
    };
    let dir = TempDir::new();
    let public = free_addr();
    let internal = free_addr();
    let settings = Settings {
        api_key: "replicas-test-api-key-0123456789".to_owned(),
        secret: "replicas-test-jwt-secret-0123456789abcdef".to_owned(),
        prefix: testing::unique_prefix(),
        redis,
        internal,
    };
    let mut processes = Vec::new();
    let mut upstreams: [Vec<SocketAddr>; 4] = Default::default();
    for (n, (service, env)) in [
        (
            "users",
            vec![
                ("EMPORIUM_DATABASE_URL", users_db.as_str()),
                ("EMPORIUM_ADMIN_EMAIL", ADMIN_EMAIL),
                ("EMPORIUM_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ],
        ),
        (
            "products",
            vec![("EMPORIUM_DATABASE_URL", products_db.as_str())],
        ),
        (
            "inventory",
            vec![
                ("EMPORIUM_MONGO_URL", mongo_url.as_str()),
                ("EMPORIUM_MONGO_DATABASE", mongo_database.as_str()),
            ],
        ),
        (
            "orders",
            vec![("EMPORIUM_DATABASE_URL", orders_db.as_str())],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        for _ in 0..2 {
            let (process, addr) = settings.start(service, dir.path(), &env);
            processes.push((service, process));
            upstreams[n].push(addr);
        }
    }
    let Some(mut gateway) = Gateway::start(
        public,
        internal,
        &[
            ("USERS", &upstreams[0]),
            ("PRODUCTS", &upstreams[1]),
            ("INVENTORY", &upstreams[2]),
            ("ORDERS", &upstreams[3]),
        ],
    ) else {
        return;
    };
    let client = Arc::new(Client::new(public, Duration::from_secs(60)));

    let admin = client.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let sku = format!("KILL-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase();
    let product = client
        .must(
            reqwest::Method::POST,
            "/v1/products",
            Some(&admin),
            Some(&json!({"data": {"type": "products", "attributes": {
                "name": "Last cups", "description": "Porcelain", "sku": sku, "price": "9.00",
                "images": [], "active": true}}})),
            201,
        )
        .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .must(
            reqwest::Method::POST,
            "/v1/inventory",
            Some(&admin),
            Some(
                &json!({"data": {"type": "inventory", "attributes": {"onHand": STOCK},
                "relationships": {"product": {"data": {"type": "products", "id": product}}}}}),
            ),
            201,
        )
        .await;
    let mut customers = Vec::new();
    for n in 0..CUSTOMERS {
        let email = format!(
            "customer-{n}-{}@replicas.test",
            uuid::Uuid::now_v7().simple()
        );
        client
            .must(
                reqwest::Method::POST,
                "/v1/auth/register",
                None,
                Some(&json!({"data": {"type": "users", "attributes": {
                    "email": email, "password": "a customer password", "name": "Ada"}}})),
                201,
            )
            .await;
        customers.push(client.log_in(&email, "a customer password").await);
    }

    // The burst, and a kill -9 of one orders replica and one inventory replica in
    // the middle of it.
    let document = json!({"data": {"type": "orders", "attributes": {
        "lines": [{"productId": product, "quantity": 1}],
        "shippingAddress": {"name": "Ada Lovelace", "line1": "1 Analytical St",
            "city": "London", "postalCode": "N1 1AA", "country": "GB"}}}});
    let tasks: Vec<_> = (0..ORDERS)
        .map(|n| {
            let client = client.clone();
            let token = customers[n % CUSTOMERS].clone();
            let document = document.clone();
            tokio::spawn(async move {
                client
                    .place(&token, &format!("replicas-order-{n}"), &document)
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for victim in ["orders", "inventory"] {
        let (_, process) = processes
            .iter_mut()
            .find(|(service, _)| *service == victim)
            .unwrap();
        process.kill();
    }

    let mut placed = HashSet::new();
    let mut refused = 0;
    for task in tasks {
        let (status, body) = match task.await {
            Ok(answer) => answer,
            Err(error) => panic!(
                "{error}; the gateway is {}running; its log:\n{}",
                if gateway.running() { "" } else { "not " },
                gateway.log()
            ),
        };
        match status {
            201 => {
                let id = body["data"]["id"].as_str().unwrap().to_owned();
                assert!(placed.insert(id), "one key, one order");
            }
            _ => {
                assert_eq!(body["errors"][0]["code"], "insufficient_stock", "{body}");
                refused += 1;
            }
        }
    }
    assert_eq!(placed.len() + refused, ORDERS);
    assert!(
        placed.len() <= STOCK as usize,
        "oversold: {} orders",
        placed.len()
    );
    assert!(
        placed.len() >= 90,
        "the survivors finished the job: {} orders",
        placed.len()
    );

    // Attempts the killed replica abandoned are released (attempt timeout 2 s,
    // looked for every 10 s): then the stock is exact.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let held = stock(&client, &product).await;
        if held == (STOCK, placed.len() as i64) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stock {held:?} never settled to ({STOCK}, {})",
            placed.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Each order is there once, whichever replica placed it.
    let mut listed = HashSet::new();
    for token in &customers {
        let mine = client
            .must(
                reqwest::Method::GET,
                "/v1/orders?page[size]=100",
                Some(token),
                None,
                200,
            )
            .await;
        for order in mine["data"].as_array().unwrap() {
            listed.insert(order["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(listed, placed);

    // Every event was published (the surviving replica relays).
    let db = Database::connect(orders_db.as_str()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT count(*) FILTER (WHERE sent_at IS NULL) AS unsent, \
                 count(*) FILTER (WHERE event_type = 'order.created') AS created FROM outbox",
            ))
            .await
            .unwrap()
            .unwrap();
        let unsent: i64 = row.try_get("", "unsent").unwrap();
        let created: i64 = row.try_get("", "created").unwrap();
        assert_eq!(created, placed.len() as i64, "one order.created per order");
        if unsent == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{unsent} events never published");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
