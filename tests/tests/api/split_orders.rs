//! The purchase flow as services: users, products, inventory and orders each on a
//! database of their own, talking HTTP with the API key, events over Redis Streams.
//! Also the `StockReservations` contract on the HTTP adapter, against a real
//! inventory service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emporium::config::{Config, PaymentProviderKind, ServiceSet, generate_api_key};
use emporium_adapters::http::{HttpClientConfig, HttpStockReservations};
use emporium_adapters::sql::{self, SqlInventoryRepository};
use emporium_adapters::testing::stock_reservations::{self as suite, ReservationStore};
use emporium_adapters::testing::{self, TempDir};
use emporium_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, embedded_config, free_port, with_admin};
use crate::orders::{order_document, place};
use crate::payments::wait_for_order;

/// An inventory service on PostgreSQL, and the reservations adapter calling it.
async fn http_reservations() -> Option<ReservationStore> {
    let database_url = testing::postgres_database().await?;
    let dir = TempDir::new();
    let key = generate_api_key();
    let config = Config {
        database_url: database_url.clone(),
        // Never called: the suite creates stock records in the store itself.
        products_url: Some(format!("http://127.0.0.1:{}", free_port())),
        api_key: Some(key.clone()),
        payment_provider: Some(PaymentProviderKind::Mock),
        ..embedded_config(&dir)
    };
    let app = TestApp::spawn(config, ServiceSet::Inventory).await;
    let db = sql::connect(&database_url).await.expect("open PostgreSQL");
    let reservations = HttpStockReservations::new(HttpClientConfig::new(&app.base, key))
        .expect("the reservations client");
    Some(ReservationStore::new(
        Arc::new(SqlInventoryRepository::new(db)),
        Arc::new(reservations),
        (app, dir),
    ))
}

macro_rules! http_contract {
    ($($name:ident),+ $(,)?) => {
        mod http_reservations_contract {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(store) = super::http_reservations().await else {
                        return;
                    };
                    super::suite::$name(&store).await;
                }
            )+
        }
    };
}

http_contract!(
    reserve_holds_every_line,
    reserve_is_all_or_nothing,
    an_unknown_product_reserves_nothing,
    two_lines_of_one_product_are_checked_together,
    a_retried_reservation_changes_nothing,
    commit_takes_the_units_out_of_stock_once,
    release_frees_the_units_once,
    actions_on_an_unknown_order_are_not_found,
    concurrent_reservations_never_oversell,
    concurrent_releases_free_the_units_once,
    commit_racing_release_has_one_winner,
    concurrent_retries_of_one_reservation_hold_once,
    concurrent_retries_of_a_refused_reservation_all_refuse,
    reserved_stock_cannot_be_deleted,
);

/// The callback key of the orders service (the mock provider's settlements).
const CALLBACK_KEY: &str = "split-callback-key-0123456789";

/// Four services on PostgreSQL (inventory on MongoDB), events on Redis.
struct Deployment {
    users: TestApp,
    products: TestApp,
    inventory: TestApp,
    orders: TestApp,
    inventory_addr: SocketAddr,
    inventory_config: Config,
    _dirs: Vec<TempDir>,
}

impl Deployment {
    async fn start() -> Option<Self> {
        let key = generate_api_key();
        let secret = emporium_adapters::security::generate_secret();
        let redis_url = testing::redis_url()?;
        let (mongo_url, mongo_database) = testing::mongo_database()?;
        let prefix = testing::unique_prefix();
        let products_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().ok()?;
        let inventory_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().ok()?;
        let mut dirs = Vec::new();
        let mut base = || {
            let dir = TempDir::new();
            let config = Config {
                api_key: Some(key.clone()),
                jwt_secret: Some(secret.clone()),
                products_url: Some(format!("http://{products_addr}")),
                inventory_url: Some(format!("http://{inventory_addr}")),
                redis_prefix: prefix.clone(),
                // Every service follows the account changes on the bus's Redis.
                bus_redis_url: Some(redis_url.clone()),
                payment_provider: Some(PaymentProviderKind::Mock),
                ..embedded_config(&dir)
            };
            dirs.push(dir);
            config
        };
        let users_config = with_admin(Config {
            database_url: testing::postgres_database().await?,
            ..base()
        });
        let products_config = Config {
            database_url: testing::postgres_database().await?,
            ..base()
        };
        let inventory_config = Config {
            mongo_url: Some(mongo_url),
            mongo_database,
            ..base()
        };
        let orders_config = Config {
            database_url: testing::postgres_database().await?,
            redis_url: Some(redis_url.clone()),
            cart_redis_url: Some(redis_url.clone()),
            callback_key: Some(CALLBACK_KEY.to_owned()),
            ..base()
        };
        let users = TestApp::spawn(users_config, ServiceSet::Users).await;
        let products =
            TestApp::spawn_on(products_config, ServiceSet::Products, products_addr).await;
        let inventory = TestApp::spawn_on(
            inventory_config.clone(),
            ServiceSet::Inventory,
            inventory_addr,
        )
        .await;
        let orders = TestApp::spawn(orders_config, ServiceSet::Orders).await;
        Some(Self {
            users,
            products,
            inventory,
            orders,
            inventory_addr,
            inventory_config,
            _dirs: dirs,
        })
    }

    /// A product with `on_hand` units, made by the admin on the products and
    /// inventory services.
    async fn stocked_product(&self, on_hand: i64) -> String {
        let product = self
            .products
            .create_product("Moka pot", "40.00", None)
            .await;
        self.inventory
            .create_inventory(&product, on_hand)
            .await
            .expect_status(201);
        product
    }

    /// (on hand, reserved) of `product`, asked of the inventory service.
    async fn stock(&self, product: &str) -> (i64, i64) {
        let record = self
            .inventory
            .get(&format!("/v1/inventory/{product}"))
            .await;
        record.expect_status(200);
        let attributes = record.attributes();
        (
            attributes["onHand"].as_i64().unwrap(),
            attributes["reserved"].as_i64().unwrap(),
        )
    }

    /// Waits (10 s at most) until `product`'s stock is `expected`.
    async fn wait_for_stock(&self, product: &str, expected: (i64, i64)) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let stock = self.stock(product).await;
            if stock == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "stock of {product} stayed {stock:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_purchase_flow_runs_as_services() {
    let Some(mut deployment) = Deployment::start().await else {
        return;
    };
    let product = deployment.stocked_product(10).await;
    // A customer of the users service; the orders service trusts the token it signed.
    let customer = deployment.users.signed_in(Role::Customer).await;
    let orders = &deployment.orders;

    // The orders service serves only its own routes.
    orders.get("/v1/products").await.expect_error(404, None);
    deployment
        .orders
        .get("/v1/inventory")
        .await
        .expect_error(404, None);

    let placed = place(
        orders,
        &customer,
        &order_document(Some(&[(&product, 2)])),
        None,
    )
    .await;
    placed.expect_status(201);
    let order = placed.id();
    assert_eq!(placed.attributes()["total"], "80.00", "{}", placed.text);
    assert_eq!(placed.attributes()["lines"][0]["name"], "Moka pot");
    deployment.wait_for_stock(&product, (10, 2)).await;

    // The reservation routes are the services' own: no user reaches them.
    let admin = deployment.users.signed_in(Role::Admin).await;
    deployment
        .inventory
        .bearer(
            Method::GET,
            &format!("/v1/inventory/reservations/{order}"),
            &admin,
            None,
        )
        .await
        .expect_error(403, None);

    // Paid through the mock provider: the payment event travels over Redis Streams,
    // the stock consumer commits the reservation in inventory over HTTP.
    let payment = crate::payments::open_payment(orders, &customer, &order).await;
    payment.expect_status(201);
    let payment = payment.id();
    crate::helpers::send(
        orders
            .request(Method::POST, &format!("/v1/payments/{payment}/succeed"))
            .header("X-Callback-Key", CALLBACK_KEY),
    )
    .await
    .expect_status(200);
    wait_for_order(orders, &customer, &order, "paid").await;
    deployment.wait_for_stock(&product, (8, 0)).await;

    // Refused for want of stock, over the inventory service's reservations: counted
    // once, by the orders service. Its scrape reports the consumer groups on the
    // stream.
    place(
        orders,
        &customer,
        &order_document(Some(&[(&product, 50)])),
        None,
    )
    .await
    .expect_error(422, Some("insufficient_stock"));
    let scrape = crate::metrics::scraped(orders).await;
    let value = |metric: &str, labels: &[(&str, &str)]| {
        crate::metrics::find(&scrape, metric, labels)
            .map(crate::metrics::number)
            .unwrap_or_else(|| panic!("no {metric} {labels:?}"))
    };
    assert_eq!(value("emporium_orders_placed_total", &[]), 1.0);
    assert_eq!(value("emporium_stock_reservations_refused_total", &[]), 1.0);
    assert_eq!(
        value("emporium_payments_total", &[("outcome", "succeeded")]),
        1.0
    );
    for group in ["stock", "orders", "order-shipments"] {
        assert!(value("emporium_bus_consumer_lag", &[("group", group)]) >= 0.0);
        assert!(value("emporium_bus_pending_events", &[("group", group)]) >= 0.0);
        assert_eq!(value("emporium_bus_dead_letters", &[("group", group)]), 0.0);
    }
    let inventory = crate::metrics::scraped(&deployment.inventory).await;
    assert_eq!(
        crate::metrics::find(&inventory, "emporium_stock_reservations_refused_total", &[])
            .map(crate::metrics::number),
        Some(0.0),
        "not counted again by inventory"
    );

    // Inventory stops: placing an order answers 503 within seconds, and nothing is
    // held.
    deployment.inventory.shutdown().await;
    let started = Instant::now();
    let refused = place(
        &deployment.orders,
        &customer,
        &order_document(Some(&[(&product, 1)])),
        None,
    )
    .await;
    refused.expect_error(503, None);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "503 after {:?}",
        started.elapsed()
    );
    assert!(refused.header("retry-after").is_some());

    // Back on the same address: orders work again without a restart.
    deployment.inventory = TestApp::spawn_on(
        deployment.inventory_config.clone(),
        ServiceSet::Inventory,
        deployment.inventory_addr,
    )
    .await;
    deployment.wait_for_stock(&product, (8, 0)).await;
    let again = place(
        &deployment.orders,
        &customer,
        &order_document(Some(&[(&product, 1)])),
        None,
    )
    .await;
    again.expect_status(201);
    deployment.wait_for_stock(&product, (8, 1)).await;

    // Cancelled by its buyer: the release travels as an event to inventory.
    let cancelled = deployment
        .orders
        .bearer(
            Method::POST,
            &format!("/v1/orders/{}/cancel", again.id()),
            &customer,
            None,
        )
        .await;
    cancelled.expect_status(200);
    deployment.wait_for_stock(&product, (8, 0)).await;
    deployment.orders.shutdown().await;
    deployment.users.shutdown().await;
    deployment.products.shutdown().await;
    deployment.inventory.shutdown().await;
}

/// `PATCH /v1/users/{id}` by `admin` with `attributes`.
async fn change_user(users: &TestApp, admin: &str, id: &str, attributes: Value) {
    users
        .bearer(
            Method::PATCH,
            &format!("/v1/users/{id}"),
            admin,
            Some(&json!({"data": {"type": "users", "id": id, "attributes": attributes}})),
        )
        .await
        .expect_status(200);
}

/// Waits (5 s at most, the promise) until `check` answers `status`; how long it took.
async fn within_five_seconds(
    what: &str,
    status: u16,
    mut check: impl AsyncFnMut() -> u16,
) -> Duration {
    let started = Instant::now();
    loop {
        if check().await == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: still not {status} after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_demoted_admin_is_refused_by_every_service_within_seconds() {
    let Some(deployment) = Deployment::start().await else {
        return;
    };
    let users = &deployment.users;
    let head = users.signed_in(Role::Admin).await;
    // A second admin, made by the first.
    let email = format!("deputy-{}@example.com", uuid::Uuid::now_v7().simple());
    let registered = users.register(&email, "a deputy password").await;
    registered.expect_status(201);
    let deputy_id = registered.id();
    change_user(users, &head, &deputy_id, json!({"role": "admin"})).await;
    let deputy = crate::helpers::access_token_of(&users.log_in(&email, "a deputy password").await);
    let category =
        |name: String| json!({"data": {"type": "categories", "attributes": {"name": name}}});
    deployment
        .products
        .bearer(
            Method::POST,
            "/v1/categories",
            &deputy,
            Some(&category("Cups".into())),
        )
        .await
        .expect_status(201);

    // Demoted: the products service, which has no account store, refuses the token
    // that still says admin.
    change_user(users, &head, &deputy_id, json!({"role": "customer"})).await;
    let mut n = 0;
    let took = within_five_seconds("products refusing the demoted admin", 401, async || {
        n += 1;
        deployment
            .products
            .bearer(
                Method::POST,
                "/v1/categories",
                &deputy,
                Some(&category(format!("Pots {n}"))),
            )
            .await
            .status
            .as_u16()
    })
    .await;
    eprintln!("the demotion reached the products service in {took:?}");
    // Signed in again, the deputy is a customer everywhere: refused the write (403).
    let again = crate::helpers::access_token_of(&users.log_in(&email, "a deputy password").await);
    deployment
        .products
        .bearer(
            Method::POST,
            "/v1/categories",
            &again,
            Some(&category("Jugs".into())),
        )
        .await
        .expect_error(403, None);

    // Deactivated: the orders service refuses even the fresh customer token.
    deployment
        .orders
        .bearer(Method::GET, "/v1/orders", &again, None)
        .await
        .expect_status(200);
    change_user(users, &head, &deputy_id, json!({"active": false})).await;
    within_five_seconds("orders refusing the deactivated account", 401, async || {
        deployment
            .orders
            .bearer(Method::GET, "/v1/orders", &again, None)
            .await
            .status
            .as_u16()
    })
    .await;
}
