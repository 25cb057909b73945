//! The split deployment behind the repository's nginx gateway
//! (`deploy/nginx/nginx.conf.template`, rendered with the ports the test picked by
//! `emporium_adapters::testing::gateway`): users, products, inventory, orders and
//! notifications with two replicas each, on PostgreSQL, MongoDB and Redis, with a
//! real SMTP sink and webhook receiver, driven through the gateway only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emporium::config::{Config, PaymentProviderKind, ServiceSet, generate_api_key};
use emporium_adapters::testing::gateway::Gateway;
use emporium_adapters::testing::smtp::SmtpSink;
use emporium_adapters::testing::webhook_receiver::WebhookReceiver;
use emporium_adapters::testing::{self, TempDir};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    JSON_API, Reply, TestApp, client, embedded_config, free_port, send, with_admin,
};
use crate::orders::{address, order_document};

/// The callback key of the orders service.
const CALLBACK_KEY: &str = "gateway-callback-key-0123456789";

/// Two replicas of each service behind the gateway.
struct Deployment {
    gateway: Gateway,
    users: Vec<TestApp>,
    products: Vec<TestApp>,
    inventory: Vec<TestApp>,
    orders: Vec<TestApp>,
    notifications: Vec<TestApp>,
    sink: SmtpSink,
    admin: (String, String),
    _dirs: Vec<TempDir>,
}

async fn replicas(config: &Config, services: ServiceSet) -> (Vec<TestApp>, Vec<SocketAddr>) {
    let mut apps = Vec::new();
    for _ in 0..2 {
        apps.push(TestApp::spawn(config.clone(), services).await);
    }
    let addresses = apps
        .iter()
        .map(|app| app.base.trim_start_matches("http://").parse().unwrap())
        .collect();
    (apps, addresses)
}

impl Deployment {
    /// The deployment, with inventory on MongoDB, or on PostgreSQL when
    /// `inventory_on_mongodb` is false.
    async fn start(inventory_on_mongodb: bool) -> Option<Self> {
        let redis_url = testing::redis_url()?;
        let (mongo_url, mongo_database) = testing::mongo_database()?;
        let public: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().ok()?;
        let internal: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().ok()?;
        let key = generate_api_key();
        let secret = emporium_adapters::security::generate_secret();
        let prefix = testing::unique_prefix();
        let dir = TempDir::new();
        let base = Config {
            api_key: Some(key),
            jwt_secret: Some(secret),
            products_url: Some(format!("http://{internal}")),
            inventory_url: Some(format!("http://{internal}")),
            redis_prefix: prefix,
            redis_url: Some(redis_url.clone()),
            cart_redis_url: Some(redis_url.clone()),
            bus_redis_url: Some(redis_url),
            payment_provider: Some(PaymentProviderKind::Mock),
            trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
            max_pending_orders: 1000,
            // An attempt a failed request left is released within seconds.
            order_attempt_timeout: 2,
            auth_rate_per_minute: std::num::NonZeroU32::new(10_000).unwrap(),
            ..embedded_config(&dir)
        };
        let users_config = with_admin(Config {
            database_url: testing::postgres_database().await?,
            ..base.clone()
        });
        let admin = users_config.bootstrap_admin.clone()?;
        let (users, users_at) = replicas(&users_config, ServiceSet::Users).await;
        let products_config = Config {
            database_url: testing::postgres_database().await?,
            ..base.clone()
        };
        let (products, products_at) = replicas(&products_config, ServiceSet::Products).await;
        let inventory_config = match inventory_on_mongodb {
            true => Config {
                mongo_url: Some(mongo_url),
                mongo_database,
                ..base.clone()
            },
            false => Config {
                database_url: testing::postgres_database().await?,
                ..base.clone()
            },
        };
        let (inventory, inventory_at) = replicas(&inventory_config, ServiceSet::Inventory).await;
        let orders_config = Config {
            database_url: testing::postgres_database().await?,
            callback_key: Some(CALLBACK_KEY.to_owned()),
            ..base.clone()
        };
        let (orders, orders_at) = replicas(&orders_config, ServiceSet::Orders).await;
        let sink = SmtpSink::start()?;
        let notifications_config = Config {
            database_url: testing::postgres_database().await?,
            smtp_url: Some(sink.url()),
            webhook_allow_private: true,
            ..base
        };
        let (notifications, notifications_at) =
            replicas(&notifications_config, ServiceSet::Notifications).await;
        let gateway = Gateway::start(
            public,
            internal,
            &[
                ("USERS", &users_at),
                ("PRODUCTS", &products_at),
                ("INVENTORY", &inventory_at),
                ("ORDERS", &orders_at),
                ("NOTIFICATIONS", &notifications_at),
            ],
        )?;
        Some(Self {
            gateway,
            users,
            products,
            inventory,
            orders,
            notifications,
            sink,
            admin,
            _dirs: vec![dir],
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.base)
    }

    /// A request through the gateway, as `token` when given, with `document`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        document: Option<&Value>,
    ) -> Reply {
        let mut request = client()
            .request(method, self.url(path))
            .header("Accept", JSON_API);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(document) = document {
            request = request
                .header("Content-Type", JSON_API)
                .body(document.to_string());
        }
        send(request).await
    }

    async fn sign_in(&self, email: &str, password: &str) -> String {
        let logged_in = self
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(&crate::helpers::credentials(email, password)),
            )
            .await;
        crate::helpers::access_token_of(&logged_in)
    }

    async fn customer(&self) -> String {
        let email = format!("customer-{}@example.com", uuid::Uuid::now_v7().simple());
        self.call(
            Method::POST,
            "/v1/auth/register",
            None,
            Some(&crate::helpers::register_document(
                &email,
                "a customer password",
            )),
        )
        .await
        .expect_status(201);
        self.sign_in(&email, "a customer password").await
    }

    /// (on hand, reserved) of `product`, through the gateway.
    async fn stock(&self, product: &str) -> (i64, i64) {
        let record = self
            .call(Method::GET, &format!("/v1/inventory/{product}"), None, None)
            .await;
        record.expect_status(200);
        let attributes = record.attributes();
        (
            attributes["onHand"].as_i64().unwrap(),
            attributes["reserved"].as_i64().unwrap(),
        )
    }

    /// Places an order as a client should: a 502, 503 or 504 (a replica or a
    /// dependency too busy or gone) is retried with the same `Idempotency-Key`.
    async fn place_retrying(&self, token: &str, key: &str, document: &Value) -> (Reply, u32) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut retries = 0;
        loop {
            let reply = send(
                client()
                    .request(Method::POST, self.url("/v1/orders"))
                    .header("Accept", JSON_API)
                    .header("Authorization", format!("Bearer {token}"))
                    .header("Idempotency-Key", key)
                    .header("Content-Type", JSON_API)
                    .body(document.to_string()),
            )
            .await;
            if !matches!(reply.status.as_u16(), 502..=504) || Instant::now() > deadline {
                return (reply, retries);
            }
            retries += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_for_order(&self, token: &str, order: &str, status: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let read = self
                .call(
                    Method::GET,
                    &format!("/v1/orders/{order}"),
                    Some(token),
                    None,
                )
                .await;
            read.expect_status(200);
            if read.attributes()["status"] == status {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "order {order} stayed {}",
                read.attributes()["status"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_whole_purchase_flow_runs_through_the_gateway() {
    let Some(mut deployment) = Deployment::start(true).await else {
        return;
    };
    let d = &deployment;
    assert_eq!(
        d.call(Method::GET, "/health", None, None).await.body["meta"]["services"],
        "gateway"
    );
    let admin = d.sign_in(&d.admin.0, &d.admin.1).await;
    let customer = d.customer().await;

    // A webhook subscription and the customer's live stream, both through the
    // gateway to the notifications replicas.
    let Some(receiver) = WebhookReceiver::start() else {
        return;
    };
    let webhook = d
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(&admin),
            Some(&json!({"data": {"type": "webhooks", "attributes": {
                "url": receiver.url("/hooks"), "events": ["order.created"]}}})),
        )
        .await;
    webhook.expect_status(201);
    receiver.trust(&[webhook.attributes()["secret"].as_str().unwrap()]);
    let ticket = d
        .call(
            Method::POST,
            "/v1/notifications/stream-tickets",
            Some(&customer),
            None,
        )
        .await;
    ticket.expect_status(200);
    let (mut stream, _) = tokio_tungstenite::connect_async(format!(
        "{}/v1/notifications/stream?ticket={}",
        d.gateway.base.replacen("http://", "ws://", 1),
        ticket.attributes()["ticket"].as_str().unwrap()
    ))
    .await
    .expect("the stream opens through the gateway");

    // The catalog and its stock, by the admin.
    let product = d
        .call(
            Method::POST,
            "/v1/products",
            Some(&admin),
            Some(&crate::helpers::product_document("Moka pot", "40.00", None)),
        )
        .await;
    product.expect_status(201);
    let product = product.id();
    d.call(
        Method::POST,
        "/v1/inventory",
        Some(&admin),
        Some(&crate::helpers::inventory_document(&product, 10)),
    )
    .await
    .expect_status(201);

    // The cart, then an order of it.
    d.call(
        Method::POST,
        "/v1/cart/items",
        Some(&customer),
        Some(
            &json!({"data": {"type": "cart-items", "attributes": {"quantity": 2},
            "relationships": {"product": {"data": {"type": "products", "id": product}}}}}),
        ),
    )
    .await
    .expect_status(201);
    let placed = d
        .call(
            Method::POST,
            "/v1/orders",
            Some(&customer),
            Some(&order_document(None)),
        )
        .await;
    placed.expect_status(201);
    let order = placed.id();
    assert_eq!(placed.attributes()["total"], "80.00");
    assert_eq!(d.stock(&product).await, (10, 2));

    // Paid (the mock provider), shipped and delivered by the admin.
    let payment = d
        .call(
            Method::POST,
            "/v1/payments",
            Some(&customer),
            Some(&json!({"data": {"type": "payments", "relationships": {
                "order": {"data": {"type": "orders", "id": order}}}}})),
        )
        .await;
    payment.expect_status(201);
    d.call(
        Method::POST,
        &format!("/v1/payments/{}/succeed", payment.id()),
        Some(&customer),
        None,
    )
    .await
    .expect_status(200);
    d.wait_for_order(&customer, &order, "paid").await;
    let read = d
        .call(
            Method::GET,
            &format!("/v1/orders/{order}?include=shipment"),
            Some(&customer),
            None,
        )
        .await;
    let shipment = read.body["data"]["relationships"]["shipment"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    d.call(
        Method::POST,
        &format!("/v1/shipments/{shipment}/dispatch"),
        Some(&admin),
        Some(&json!({"data": {"type": "shipments", "id": shipment,
            "attributes": {"carrier": "DHL", "trackingNumber": "JD0001"}}})),
    )
    .await
    .expect_status(200);
    d.wait_for_order(&customer, &order, "shipped").await;
    d.call(
        Method::POST,
        &format!("/v1/shipments/{shipment}/deliver"),
        Some(&admin),
        None,
    )
    .await
    .expect_status(200);
    d.wait_for_order(&customer, &order, "delivered").await;
    assert_eq!(d.stock(&product).await, (8, 0));

    // The notifications service told everyone: four mails (placed, paid, shipped,
    // delivered), the live stream, and the webhook, verified by the receiver.
    let mails = d.sink.wait_for(4, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 4, "{mails:?}");
    let pushed = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a live push")
        .expect("an open stream")
        .expect("a message");
    let pushed: Value = serde_json::from_str(pushed.to_text().unwrap()).unwrap();
    assert_eq!(pushed["data"]["type"], "notifications");
    assert_eq!(
        pushed["data"]["relationships"]["order"]["data"]["id"],
        order.as_str()
    );
    let delivered = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 1);
    assert!(delivered[0].verified, "{delivered:?}");
    let listed = d
        .call(Method::GET, "/v1/notifications", Some(&customer), None)
        .await;
    listed.expect_status(200);
    assert_eq!(listed.body["meta"]["total"], 5, "{}", listed.text);

    // The gateway's own answers are JSON:API: the reservations are not exposed, an
    // unknown path is 404, a body over 1 MiB is 413.
    for path in [
        "/v1/inventory/reservations",
        &format!("/v1/inventory/reservations/{order}"),
    ] {
        let hidden = d.call(Method::GET, path, Some(&admin), None).await;
        hidden.expect_error(404, Some("not_found"));
        assert_eq!(hidden.content_type(), Some(JSON_API));
    }
    d.call(Method::GET, "/elsewhere", None, None)
        .await
        .expect_error(404, Some("not_found"));
    let huge = send(
        client()
            .request(Method::POST, d.url("/v1/orders"))
            .header("Content-Type", JSON_API)
            .body(vec![b' '; 2 * 1024 * 1024]),
    )
    .await;
    huge.expect_error(413, Some("payload_too_large"));
    // A request id is passed on (the services echo it) or made up.
    let with_id = send(
        client()
            .request(Method::GET, d.url("/v1/products"))
            .header("X-Request-ID", "trace-me-42"),
    )
    .await;
    assert_eq!(with_id.header("x-request-id"), Some("trace-me-42"));
    let without = send(client().request(Method::GET, d.url("/v1/products"))).await;
    assert!(
        without
            .header("x-request-id")
            .is_some_and(|id| id.len() >= 16)
    );

    // Both products replicas gone: 502, as JSON:API with Retry-After.
    for replica in &mut deployment.products {
        replica.shutdown().await;
    }
    let gone = deployment
        .call(Method::GET, "/v1/products", None, None)
        .await;
    gone.expect_error(502, Some("bad_gateway"));
    assert!(gone.header("retry-after").is_some());
    let _ = (
        &deployment.users,
        &deployment.inventory,
        &deployment.orders,
        &deployment.notifications,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_orders_over_two_replicas_sell_exactly_the_stock() {
    // Inventory on PostgreSQL here: 300 racing reservations through the Python
    // MongoDB stand-in (nx-27017) on a busy 2-core machine take longer than the
    // services' 2 s call timeout. The same race on MongoDB, with replicas killed,
    // runs as real processes in bins/tests/api/replicas.rs.
    let Some(deployment) = Deployment::start(false).await else {
        return;
    };
    let deployment = Arc::new(deployment);
    let admin = deployment
        .sign_in(&deployment.admin.0, &deployment.admin.1)
        .await;
    let product = deployment
        .call(
            Method::POST,
            "/v1/products",
            Some(&admin),
            Some(&crate::helpers::product_document("Last cups", "9.00", None)),
        )
        .await
        .id();
    deployment
        .call(
            Method::POST,
            "/v1/inventory",
            Some(&admin),
            Some(&crate::helpers::inventory_document(&product, 100)),
        )
        .await
        .expect_status(201);
    let mut customers = Vec::new();
    for _ in 0..30 {
        customers.push(deployment.customer().await);
    }
    // 300 one-unit orders at once, ten per customer, over both orders replicas.
    let barrier = Arc::new(tokio::sync::Barrier::new(300));
    let retried = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let tasks: Vec<_> = (0..300)
        .map(|n| {
            let deployment = deployment.clone();
            let token = customers[n % 30].clone();
            let barrier = barrier.clone();
            let document = json!({"data": {"type": "orders", "attributes": {
                "lines": [{"productId": product, "quantity": 1}], "shippingAddress": address()}}});
            let retried = retried.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let (reply, retries) = deployment
                    .place_retrying(&token, &format!("race-{n}"), &document)
                    .await;
                retried.fetch_add(retries, std::sync::atomic::Ordering::Relaxed);
                reply
            })
        })
        .collect();
    let mut created = 0;
    let mut refused = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status.as_u16() {
            201 => created += 1,
            422 => {
                reply.expect_error(422, Some("insufficient_stock"));
                refused += 1;
            }
            other => panic!("an order answered {other}: {}", reply.text),
        }
    }
    assert_eq!(created + refused, 300);
    // Exactly the stock is sold. (Under a machine this busy an answer may be a 503
    // the client retried: an attempt it interrupted held its unit until the
    // recovery task released it, and may have made a racing order be refused. Then
    // fewer than 100 are placed, never more, and the stock still settles exact.)
    assert!(created <= 100, "oversold: {created}");
    let settled = Instant::now() + Duration::from_secs(30);
    loop {
        let held = deployment.stock(&product).await;
        if held == (100, created as i64) {
            break;
        }
        assert!(
            Instant::now() < settled,
            "stock {held:?}, {created} orders placed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    if retried.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        assert_eq!(created, 100, "no retry, so every unit sold");
    }
    // Every order is there, once, whichever replica placed it.
    let mut listed = 0;
    for token in &customers {
        let mine = deployment
            .call(Method::GET, "/v1/orders?page[size]=100", Some(token), None)
            .await;
        mine.expect_status(200);
        listed += mine.body["meta"]["total"].as_i64().unwrap();
    }
    assert_eq!(listed, 100);
}

/// The Kubernetes gateway's ConfigMap (`deploy/k8s/gateway.yaml`) holds the
/// repository's nginx configuration as it is: every line of both files, in order.
#[test]
fn the_kubernetes_gateway_carries_the_repositorys_nginx_configuration() {
    let manifest = include_str!("../../../deploy/k8s/gateway.yaml");
    for (name, file) in [
        (
            "nginx.conf.template",
            include_str!("../../../deploy/nginx/nginx.conf.template"),
        ),
        (
            "errors.conf",
            include_str!("../../../deploy/nginx/errors.conf"),
        ),
    ] {
        let start = manifest
            .find(&format!("  {name}: |\n"))
            .unwrap_or_else(|| panic!("gateway.yaml has no {name}"));
        let mut copied = manifest[start..].lines().skip(1);
        for line in file.lines() {
            let expected = if line.trim().is_empty() {
                String::new()
            } else {
                format!("    {line}")
            };
            assert_eq!(
                copied.next(),
                Some(expected.as_str()),
                "deploy/k8s/gateway.yaml differs from deploy/nginx/{name}: run scripts/sync-k8s-gateway"
            );
        }
    }
}
