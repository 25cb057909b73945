//! Shared rate limits on a real Redis: GCRA allows the burst and then refuses with
//! the wait, replicas share one budget, keys are independent, and a refused failure
//! locks its key until the limit allows again.

use std::time::Duration;

use emporium_adapters::rate_limits::{Decision, Limit, RedisRateLimits};
use emporium_adapters::testing;

const FIVE_PER_MINUTE: Limit = Limit {
    count: 5,
    period: Duration::from_secs(60),
};

async fn replica(prefix: &str) -> Option<RedisRateLimits> {
    let url = testing::redis_url()?;
    Some(
        RedisRateLimits::connect(&url, prefix)
            .await
            .unwrap_or_else(|error| panic!("cannot reach Redis at {url}: {error:#}")),
    )
}

#[tokio::test]
async fn replicas_share_one_budget() {
    let prefix = testing::unique_prefix();
    let (Some(first), Some(second)) = (replica(&prefix).await, replica(&prefix).await) else {
        return;
    };
    for n in 0..5 {
        let replica = if n % 2 == 0 { &first } else { &second };
        assert_eq!(
            replica
                .check("addr:198.51.100.2", FIVE_PER_MINUTE)
                .await
                .unwrap(),
            Decision::Allowed,
            "attempt {n}"
        );
    }
    for replica in [&first, &second] {
        match replica
            .check("addr:198.51.100.2", FIVE_PER_MINUTE)
            .await
            .unwrap()
        {
            Decision::Refused(wait) => assert!(
                wait > Duration::from_secs(10) && wait <= Duration::from_secs(12),
                "one more every 12 s: {wait:?}"
            ),
            Decision::Allowed => panic!("the sixth attempt passed"),
        }
    }
    // Another client has its own budget.
    assert_eq!(
        second
            .check("addr:203.0.113.9", FIVE_PER_MINUTE)
            .await
            .unwrap(),
        Decision::Allowed
    );
}

#[tokio::test]
async fn the_budget_refills_evenly() {
    let Some(limits) = replica(&testing::unique_prefix()).await else {
        return;
    };
    let fast = Limit {
        count: 2,
        period: Duration::from_millis(400),
    };
    assert_eq!(limits.check("k", fast).await.unwrap(), Decision::Allowed);
    assert_eq!(limits.check("k", fast).await.unwrap(), Decision::Allowed);
    assert!(matches!(
        limits.check("k", fast).await.unwrap(),
        Decision::Refused(_)
    ));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        limits.check("k", fast).await.unwrap(),
        Decision::Allowed,
        "one cell back after 200 ms"
    );
    assert!(matches!(
        limits.check("k", fast).await.unwrap(),
        Decision::Refused(_)
    ));
}

#[tokio::test]
async fn a_refusal_locks_until_the_limit_allows() {
    let Some(limits) = replica(&testing::unique_prefix()).await else {
        return;
    };
    let two = Limit {
        count: 2,
        period: Duration::from_secs(3600),
    };
    assert_eq!(limits.locked_for("lock:ada").await.unwrap(), None);
    for _ in 0..2 {
        assert_eq!(
            limits
                .check_or_lock("fail:ada", "lock:ada", two)
                .await
                .unwrap(),
            Decision::Allowed
        );
    }
    assert_eq!(
        limits.locked_for("lock:ada").await.unwrap(),
        None,
        "no lock while allowed"
    );
    assert!(matches!(
        limits
            .check_or_lock("fail:ada", "lock:ada", two)
            .await
            .unwrap(),
        Decision::Refused(_)
    ));
    let locked = limits
        .locked_for("lock:ada")
        .await
        .unwrap()
        .expect("locked");
    assert!(
        locked > Duration::from_secs(1700) && locked <= Duration::from_secs(1800),
        "{locked:?}"
    );
    assert_eq!(limits.locked_for("lock:bob").await.unwrap(), None);
}
