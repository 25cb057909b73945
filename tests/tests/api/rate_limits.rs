//! The auth rate limits across replicas: shared in Redis, two replicas allow what
//! one allows; a Redis that goes away never locks users out (each replica limits on
//! its own meanwhile, and `/ready` says so); the client address comes from
//! `X-Forwarded-For` only when the peer is a trusted proxy.

use emporium::config::{Config, ServiceSet};
use emporium_adapters::testing::{Proxy, TempDir, address_of, through};
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{JSON_API, Reply, TestApp, credentials, postgres_redis_config, send};

const PER_MINUTE: u32 = 3;

/// A users service allowing [`PER_MINUTE`] auth attempts per client address.
fn limited(config: Config) -> Config {
    Config {
        auth_rate_per_minute: std::num::NonZeroU32::new(PER_MINUTE).unwrap(),
        ..config
    }
}

/// A failed log-in, from `forwarded_for` when given.
async fn attempt(app: &TestApp, forwarded_for: Option<&str>) -> Reply {
    let document: Value = credentials("nobody@example.com", "not the password");
    let mut request = app
        .request(Method::POST, "/v1/auth/login")
        .header("Content-Type", JSON_API)
        .body(document.to_string());
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    send(request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_allow_what_one_allows() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let config = limited(config);
    let first = TestApp::spawn(config.clone(), ServiceSet::Users).await;
    let second = TestApp::spawn(config, ServiceSet::Users).await;
    for app in [&first, &second, &first] {
        attempt(app, None).await.expect_error(401, None);
    }
    for app in [&second, &first] {
        let refused = attempt(app, None).await;
        refused.expect_error(429, None);
        assert!(refused.header("retry-after").is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_replica_limits_on_its_own() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let redis = config.redis_url.clone().expect("Redis");
    let proxy = Proxy::start(address_of(&redis, 6379)).await;
    let app = TestApp::spawn(
        limited(Config {
            redis_url: Some(through(&redis, proxy.address)),
            ..config
        }),
        ServiceSet::Users,
    )
    .await;
    attempt(&app, None).await.expect_error(401, None);
    proxy.cut();
    // Not locked out, not a 5xx: the in-memory limit takes over.
    for _ in 0..PER_MINUTE {
        attempt(&app, None).await.expect_error(401, None);
    }
    attempt(&app, None).await.expect_error(429, None);
    let ready = app.get("/ready").await;
    ready.expect_status(200);
    assert_eq!(ready.body["meta"]["status"], "degraded", "{}", ready.text);
    let check = ready.body["meta"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == "redis-rate-limits")
        .cloned()
        .unwrap_or_else(|| panic!("no redis-rate-limits check: {}", ready.text));
    assert_eq!(check["status"], "down", "{}", ready.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let config = limited(config);
    // Behind a trusted gateway (the tests' loopback): each forwarded client has its
    // own budget.
    let behind = TestApp::spawn(
        Config {
            trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
            ..config.clone()
        },
        ServiceSet::Users,
    )
    .await;
    for _ in 0..PER_MINUTE {
        attempt(&behind, Some("198.51.100.1"))
            .await
            .expect_error(401, None);
    }
    attempt(&behind, Some("198.51.100.1"))
        .await
        .expect_error(429, None);
    attempt(&behind, Some("198.51.100.2"))
        .await
        .expect_error(401, None);

    // Without trusted proxies, the header is ignored: one budget for the peer.
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let direct = TestApp::spawn(limited(config), ServiceSet::Users).await;
    for n in 0..PER_MINUTE {
        attempt(&direct, Some(&format!("198.51.100.{n}")))
            .await
            .expect_error(401, None);
    }
    attempt(&direct, Some("198.51.100.99"))
        .await
        .expect_error(429, None);
}
