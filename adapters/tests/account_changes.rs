//! Account changes on a real Redis: what the users service publishes reaches every
//! other service within seconds, a service starting later reads the recent changes,
//! changes older than an access token's lifetime are forgotten, and a follower cut
//! off from Redis stops vouching for tokens.

use std::time::{Duration, Instant};

use emporium_adapters::account_changes::RedisAccountChanges;
use emporium_adapters::testing::{self, Proxy, address_of, through};
use emporium_domain::accounts::{AccountChanges, AccountChangesError, AccountStanding};
use emporium_domain::{Role, UserId};
use uuid::Uuid;

const HOUR: Duration = Duration::from_secs(3600);

async fn follower(url: &str, prefix: &str, window: Duration) -> RedisAccountChanges {
    RedisAccountChanges::connect(url, prefix, window)
        .await
        .unwrap_or_else(|error| panic!("cannot follow account changes at {url}: {error:#}"))
}

/// Waits (5 s at most) until `changes` knows `user` as `expected`.
async fn eventually(
    changes: &RedisAccountChanges,
    user: UserId,
    expected: Option<AccountStanding>,
) {
    let started = Instant::now();
    loop {
        if changes.standing(user).await.unwrap() == expected {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{user} never stood as {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_change_reaches_every_service_and_later_ones_too() {
    let Some(url) = testing::redis_url() else {
        return;
    };
    let prefix = testing::unique_prefix();
    let users = follower(&url, &prefix, HOUR).await;
    let products = follower(&url, &prefix, HOUR).await;
    let demoted = UserId(Uuid::now_v7());
    let untouched = UserId(Uuid::now_v7());
    assert_eq!(products.standing(demoted).await.unwrap(), None);

    let customer = AccountStanding {
        role: Role::Customer,
        active: true,
    };
    users.publish(demoted, customer).await.unwrap();
    assert_eq!(users.standing(demoted).await.unwrap(), Some(customer));
    eventually(&products, demoted, Some(customer)).await;
    assert_eq!(products.standing(untouched).await.unwrap(), None);

    // The latest change wins.
    let gone = AccountStanding {
        role: Role::Customer,
        active: false,
    };
    users.publish(demoted, gone).await.unwrap();
    eventually(&products, demoted, Some(gone)).await;

    // A service started afterwards knows it at once.
    let orders = follower(&url, &prefix, HOUR).await;
    assert_eq!(orders.standing(demoted).await.unwrap(), Some(gone));
}

#[tokio::test]
async fn changes_older_than_a_token_are_forgotten() {
    let Some(url) = testing::redis_url() else {
        return;
    };
    let prefix = testing::unique_prefix();
    let window = Duration::from_millis(800);
    let users = follower(&url, &prefix, window).await;
    let user = UserId(Uuid::now_v7());
    let standing = AccountStanding {
        role: Role::Customer,
        active: true,
    };
    users.publish(user, standing).await.unwrap();
    assert_eq!(users.standing(user).await.unwrap(), Some(standing));
    tokio::time::sleep(window + Duration::from_millis(200)).await;
    assert_eq!(users.standing(user).await.unwrap(), None);
    let later = follower(&url, &prefix, window).await;
    assert_eq!(later.standing(user).await.unwrap(), None);
}

#[tokio::test]
async fn a_follower_cut_off_from_redis_stops_vouching() {
    let Some(url) = testing::redis_url() else {
        return;
    };
    let proxy = Proxy::start(address_of(&url, 6379)).await;
    let changes = follower(
        &through(&url, proxy.address),
        &testing::unique_prefix(),
        HOUR,
    )
    .await;
    let user = UserId(Uuid::now_v7());
    assert_eq!(changes.standing(user).await.unwrap(), None);
    proxy.cut();
    let started = Instant::now();
    loop {
        match changes.standing(user).await {
            Err(AccountChangesError::Unavailable(_)) => break,
            Ok(None) => {}
            other => panic!("{other:?}"),
        }
        assert!(
            started.elapsed() < RedisAccountChanges::STALE_AFTER + Duration::from_secs(5),
            "still vouching after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(changes.ping().is_err());
}
