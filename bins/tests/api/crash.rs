//! `kill -9` of the real binary in the middle of a burst of orders and payments, a
//! restart on the same data directory, and then the proof that nothing was lost or
//! applied twice: every acknowledged order exists, every acknowledged payment paid
//! its order, the stock arithmetic is exact (on hand = initial − paid units, reserved
//! = pending units: abandoned attempts are released by the recovery task), every
//! event was published, every `payment.succeeded` was applied once by the `orders`
//! consumer, and each transition has one audit row.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use emporium_adapters::sql;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use super::client::Client;
use super::server::{ServerProcess, free_addr, serve_command};

const ADMIN_EMAIL: &str = "admin@crash.test";
const ADMIN_PASSWORD: &str = "a crash test admin password";
const CALLBACK_KEY: &str = "crash-test-callback-key";
const INITIAL_STOCK: i64 = 100_000;
/// Requests running at once during the burst.
const WORKERS: usize = 12;

fn start(dir: &Path, addr: SocketAddr) -> ServerProcess {
    let mut command = serve_command(dir, addr, (ADMIN_EMAIL, ADMIN_PASSWORD));
    command
        .env("EMPORIUM_CALLBACK_KEY", CALLBACK_KEY)
        .env("EMPORIUM_ORDER_ATTEMPT_TIMEOUT", "1");
    ServerProcess::start(command, addr, dir)
}

/// What the burst was told.
#[derive(Default)]
struct Acknowledged {
    /// Order id → (quantity, owner token).
    orders: HashMap<String, (i64, String)>,
    /// Orders whose payment success was acknowledged.
    paid: Vec<String>,
}

async fn worker(
    client: Arc<Client>,
    token: String,
    product: String,
    number: usize,
    stop: Arc<AtomicBool>,
) -> Acknowledged {
    let mut seen = Acknowledged::default();
    let mut round = 0;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let quantity = ((number + round) % 3 + 1) as i64;
        let order = json!({"data": {"type": "orders", "attributes": {
            "lines": [{"productId": product, "quantity": quantity}],
            "shippingAddress": {"name": "Ada", "line1": "1 St", "city": "London",
                "postalCode": "N1", "country": "GB"}}}});
        let Some((201, body)) = client
            .bearer(reqwest::Method::POST, "/v1/orders", &token, Some(&order))
            .await
        else {
            break;
        };
        let id = body["data"]["id"].as_str().unwrap().to_owned();
        seen.orders.insert(id.clone(), (quantity, token.clone()));
        if round % 2 == 0 {
            continue;
        }
        let payment = json!({"data": {"type": "payments", "relationships":
            {"order": {"data": {"type": "orders", "id": id}}}}});
        let Some((201, body)) = client
            .bearer(
                reqwest::Method::POST,
                "/v1/payments",
                &token,
                Some(&payment),
            )
            .await
        else {
            break;
        };
        let payment_id = body["data"]["id"].as_str().unwrap().to_owned();
        let Some((200, _)) = client
            .send(
                reqwest::Method::POST,
                &format!("/v1/payments/{payment_id}/succeed"),
                &[("X-Callback-Key", CALLBACK_KEY)],
                None,
            )
            .await
        else {
            break;
        };
        seen.paid.push(id);
    }
    seen
}

/// Polls `check` every 100 ms until it returns `Ok`, at most 30 s; the last `Err`
/// says what never happened.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match check().await {
            Ok(()) => return,
            Err(why) if Instant::now() > deadline => panic!("{what}: {why}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn count(db: &sql::DatabaseConnection, query: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, query))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_9_during_a_burst_of_orders_loses_nothing_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let server = start(dir.path(), addr);
    let client = Arc::new(Client::new(addr, Duration::from_secs(10)));
    let key = std::fs::read_to_string(dir.path().join("api-key"))
        .unwrap()
        .trim()
        .to_owned();

    // A product with plenty of stock, and four customers.
    let product = client
        .stocked_product(("X-API-Key", &key), "CRASH-1", INITIAL_STOCK)
        .await;
    let mut tokens = Vec::new();
    for i in 0..4 {
        tokens.push(
            client
                .register(&format!("buyer{i}@crash.test"), "a buyer password")
                .await,
        );
    }

    // The burst, and the kill in the middle of it.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|number| {
            tokio::spawn(worker(
                client.clone(),
                tokens[number % tokens.len()].clone(),
                product.clone(),
                number,
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    drop(server); // SIGKILL, then reaped
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Acknowledged::default();
    for worker in workers {
        let seen = worker.await.unwrap();
        acknowledged.orders.extend(seen.orders);
        acknowledged.paid.extend(seen.paid);
    }
    assert!(
        acknowledged.orders.len() >= 20,
        "the burst placed only {} orders before the kill",
        acknowledged.orders.len()
    );

    eprintln!(
        "killed with {} orders and {} payments acknowledged",
        acknowledged.orders.len(),
        acknowledged.paid.len()
    );
    let server = start(dir.path(), addr);
    let admin = client.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Every acknowledged order exists; every acknowledged payment paid its order.
    for (id, (_, token)) in &acknowledged.orders {
        let (status, _) = client
            .bearer(
                reqwest::Method::GET,
                &format!("/v1/orders/{id}"),
                token,
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "acknowledged order {id} is gone");
    }
    for id in &acknowledged.paid {
        let token = &acknowledged.orders[id].1;
        eventually(&format!("order {id} paid"), || async {
            let (_, body) = client
                .bearer(
                    reqwest::Method::GET,
                    &format!("/v1/orders/{id}"),
                    token,
                    None,
                )
                .await
                .ok_or("no answer")?;
            match body["data"]["attributes"]["status"].as_str() {
                Some("paid") => Ok(()),
                other => Err(format!("status {other:?}")),
            }
        })
        .await;
    }

    // The stock arithmetic, from every order the server has (acknowledged or not).
    eventually("exact stock", || async {
        let mut units = HashMap::<String, i64>::new();
        let mut page = 1;
        loop {
            let (status, body) = client
                .bearer(
                    reqwest::Method::GET,
                    &format!("/v1/orders?page[number]={page}&page[size]=100"),
                    &admin,
                    None,
                )
                .await
                .ok_or("no answer")?;
            assert_eq!(status, 200, "{body}");
            let data = body["data"].as_array().unwrap();
            for order in data {
                let status = order["attributes"]["status"].as_str().unwrap().to_owned();
                let quantity = order["attributes"]["lines"][0]["quantity"]
                    .as_i64()
                    .unwrap();
                *units.entry(status).or_default() += quantity;
            }
            if data.len() < 100 {
                break;
            }
            page += 1;
        }
        let (_, body) = client
            .send(
                reqwest::Method::GET,
                &format!("/v1/inventory/{product}"),
                &[],
                None,
            )
            .await
            .ok_or("no answer")?;
        let on_hand = body["data"]["attributes"]["onHand"].as_i64().unwrap();
        let reserved = body["data"]["attributes"]["reserved"].as_i64().unwrap();
        let paid = units.get("paid").copied().unwrap_or(0);
        let pending = units.get("pending").copied().unwrap_or(0);
        if (on_hand, reserved) == (INITIAL_STOCK - paid, pending) {
            Ok(())
        } else {
            Err(format!(
                "on hand {on_hand}, reserved {reserved}; expected {} and {pending} ({units:?})",
                INITIAL_STOCK - paid
            ))
        }
    })
    .await;

    // Every event published; each payment success applied once; one audit row per
    // transition.
    let db = sql::connect(&format!(
        "sqlite://{}?mode=rw",
        dir.path().join("emporium.db").display()
    ))
    .await
    .unwrap();
    eventually("an empty outbox", || async {
        match count(&db, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await {
            0 => Ok(()),
            unsent => Err(format!("{unsent} events unsent")),
        }
    })
    .await;
    let successes = count(
        &db,
        "SELECT COUNT(*) FROM outbox WHERE event_type = 'payment.succeeded'",
    )
    .await;
    let applied = count(
        &db,
        "SELECT COUNT(*) FROM processed_events p JOIN outbox o ON o.event_id = p.event_id \
         WHERE p.consumer = 'orders' AND o.event_type = 'payment.succeeded'",
    )
    .await;
    assert!(successes >= acknowledged.paid.len() as i64);
    assert_eq!(
        applied, successes,
        "every payment success applied exactly once"
    );
    // The stock consumer: one processed-event record per event that moved stock
    // (an order paid or cancelled), none for any other.
    let stock_moves = count(
        &db,
        "SELECT COUNT(*) FROM outbox WHERE event_type = 'order.status_changed' \
         AND json_extract(payload, '$.data.status') IN ('paid', 'cancelled')",
    )
    .await;
    let stock_applied = count(
        &db,
        "SELECT COUNT(*) FROM processed_events p JOIN outbox o ON o.event_id = p.event_id \
         WHERE p.consumer = 'stock' AND o.event_type = 'order.status_changed' \
         AND json_extract(o.payload, '$.data.status') IN ('paid', 'cancelled')",
    )
    .await;
    let stock_records = count(
        &db,
        "SELECT COUNT(*) FROM processed_events WHERE consumer = 'stock'",
    )
    .await;
    assert!(stock_moves >= acknowledged.paid.len() as i64);
    assert_eq!(
        (stock_applied, stock_records),
        (stock_moves, stock_moves),
        "every stock move applied exactly once, with one record"
    );
    let doubled = count(
        &db,
        "SELECT COUNT(*) FROM (SELECT order_id, to_status FROM order_events \
         GROUP BY order_id, to_status HAVING COUNT(*) > 1)",
    )
    .await;
    assert_eq!(doubled, 0, "a transition with two audit rows");
    let paid_orders = count(&db, "SELECT COUNT(*) FROM orders WHERE status = 'paid'").await;
    let paid_rows = count(
        &db,
        "SELECT COUNT(*) FROM order_events WHERE to_status = 'paid'",
    )
    .await;
    assert_eq!(paid_orders, paid_rows);
    let recovered = server.stdout().matches("never completed").count();
    eprintln!(
        "{paid_orders} orders paid; {recovered} abandoned attempts released after the restart"
    );
    drop(server);
}
