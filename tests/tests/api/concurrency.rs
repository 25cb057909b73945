//! Concurrent stock adjustments over HTTP never oversell, on one server and on two
//! servers sharing their databases.

use std::collections::BTreeMap;

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::TempDir;
use futures::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, embedded_config, external_config, postgres_redis_config};

const STOCK: i64 = 20;
const CLIENTS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adjustments_on_the_embedded_server_never_oversell() {
    let dir = TempDir::new();
    let mut app = TestApp::spawn(embedded_config(&dir), ServiceSet::All).await;
    drain_concurrently(&[&app]).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adjustments_across_two_servers_sharing_postgres_never_oversell() {
    let first_dir = TempDir::new();
    let Some(config) = postgres_redis_config(&first_dir).await else {
        return;
    };
    two_servers_drain(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adjustments_across_two_servers_sharing_postgres_and_mongodb_never_oversell() {
    let first_dir = TempDir::new();
    let Some(config) = external_config(&first_dir).await else {
        return;
    };
    two_servers_drain(config).await;
}

/// Two all-in-one servers on the same databases (as two processes would be), each
/// with its own data directory, drained concurrently through both.
async fn two_servers_drain(config: Config) {
    let second_dir = TempDir::new();
    let second_config = Config {
        data_dir: second_dir.path().to_path_buf(),
        ..config.clone()
    };
    let mut first = TestApp::spawn(config, ServiceSet::All).await;
    let mut second = TestApp::spawn(second_config, ServiceSet::All).await;
    drain_concurrently(&[&first, &second]).await;
    shared_cache_is_invalidated_for_every_server(&first, &second).await;
    first.shutdown().await;
    second.shutdown().await;
}

/// Creates a product with [`STOCK`] units, then sends [`CLIENTS`] concurrent
/// `quantityDelta: -1` spread over `apps`: exactly [`STOCK`] succeed, each seeing a
/// distinct remaining quantity, the rest are refused with 422, and the stock ends at 0.
async fn drain_concurrently(apps: &[&TestApp]) {
    let product = apps[0].create_product("Hot item", "9.99", None).await;
    apps[0]
        .create_inventory(&product, STOCK)
        .await
        .expect_status(201);
    for app in apps {
        assert_eq!(
            app.on_hand(&product).await,
            STOCK,
            "every server sees the same stock"
        );
    }

    let replies = join_all((0..CLIENTS).map(|i| {
        let app = apps[i % apps.len()];
        let product = product.clone();
        async move { app.adjust(&product, json!(-1)).await }
    }))
    .await;

    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut remaining = Vec::new();
    for reply in &replies {
        *statuses.entry(reply.status.as_u16()).or_default() += 1;
        match reply.status.as_u16() {
            200 => {
                reply.expect_status(200);
                let on_hand = reply.attributes()["onHand"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("onHand: {}", reply.text));
                assert!(on_hand >= 0, "stock went negative: {}", reply.text);
                remaining.push(on_hand);
            }
            422 => {
                reply.expect_error(422, Some("insufficient_stock"));
            }
            _ => {}
        }
    }
    let expected_sold = usize::try_from(STOCK).expect("small");
    assert_eq!(
        statuses,
        BTreeMap::from([(200, expected_sold), (422, CLIENTS - expected_sold)]),
        "statuses of {CLIENTS} concurrent -1 adjustments on stock {STOCK} (first odd answer: {:?})",
        replies
            .iter()
            .find(|r| !matches!(r.status.as_u16(), 200 | 422))
            .map(|r| &r.text)
    );
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        (0..STOCK).collect::<Vec<_>>(),
        "each successful adjustment saw its own, distinct result"
    );
    for app in apps {
        let reply = app.get(&format!("/v1/inventory/{product}")).await;
        reply.expect_status(200);
        assert_eq!(reply.attributes()["onHand"], 0, "{}", reply.text);
        assert_eq!(reply.attributes()["available"], 0, "{}", reply.text);
    }
}

/// A product read (and so cached in Redis) through `second`, changed through
/// `first`: `second` serves the change at once.
async fn shared_cache_is_invalidated_for_every_server(first: &TestApp, second: &TestApp) {
    let product = first.create_product("Shared cup", "4.00", None).await;
    let path = format!("/v1/products/{product}");
    for _ in 0..2 {
        let read = second.get(&path).await;
        read.expect_status(200);
        assert_eq!(read.attributes()["price"], "4.00");
    }
    let patched = first
        .patch(
            &path,
            &json!({"data": {"type": "products", "id": product, "attributes": {"price": "4.50"}}}),
        )
        .await;
    patched.expect_status(200);
    let read = second.get(&path).await;
    read.expect_status(200);
    assert_eq!(
        read.attributes()["price"],
        "4.50",
        "the other server's read is stale: {}",
        read.text
    );
    first.delete(&path).await.expect_status(204);
    second.get(&path).await.expect_error(404, Some("not_found"));
}
