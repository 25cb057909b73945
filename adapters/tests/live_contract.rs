//! The contracts of the live push ports, written once and run unchanged on every
//! adapter: `StreamTickets` (in process, and in Redis) and `LivePush` (in process,
//! and over Redis pub/sub between two "replicas"). Redis tests SKIP without
//! `EMPORIUM_TEST_REDIS_URL`, and fail when `EMPORIUM_REQUIRE_SERVICES=1`.

use std::sync::Arc;
use std::time::Duration;

use emporium_adapters::in_process::{InProcessStreamTickets, LiveHub};
use emporium_adapters::live::{RedisLivePush, RedisStreamTickets};
use emporium_adapters::testing;
use emporium_domain::UserId;
use emporium_domain::notifications::{LiveEvent, LivePush, NotificationId, StreamTickets};
use uuid::Uuid;

async fn redis_tickets() -> Option<Arc<dyn StreamTickets>> {
    let url = testing::redis_url()?;
    Some(Arc::new(
        RedisStreamTickets::connect(&url, &testing::unique_prefix())
            .await
            .unwrap(),
    ))
}

/// A ticket stands for its token once; a second redemption, an unknown ticket and
/// an expired one give nothing.
async fn tickets_are_single_use_and_expire(tickets: Arc<dyn StreamTickets>) {
    let ticket = tickets.issue("access-token-1", 30).await.unwrap();
    assert!(ticket.len() >= 32 && ticket.bytes().all(|b| b.is_ascii_alphanumeric()));
    let other = tickets.issue("access-token-2", 30).await.unwrap();
    assert_ne!(ticket, other);
    assert_eq!(
        tickets.redeem(&ticket).await.unwrap().as_deref(),
        Some("access-token-1")
    );
    assert_eq!(tickets.redeem(&ticket).await.unwrap(), None);
    assert_eq!(
        tickets.redeem("no-such-ticket-0123456789").await.unwrap(),
        None
    );
    let short = tickets.issue("access-token-3", 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert_eq!(tickets.redeem(&short).await.unwrap(), None);
    assert_eq!(
        tickets.redeem(&other).await.unwrap().as_deref(),
        Some("access-token-2")
    );
}

/// An event published reaches every stream subscribed to the hub that `listen`
/// feeds (for Redis: another replica's hub).
async fn events_reach_every_stream(push: Arc<dyn LivePush>, hub: LiveHub) {
    let mut first = hub.subscribe();
    let mut second = hub.subscribe();
    let event = LiveEvent {
        notification_id: NotificationId(Uuid::now_v7()),
        user_id: UserId(Uuid::now_v7()),
    };
    push.publish(event).await.unwrap();
    for receiver in [&mut first, &mut second] {
        let got = tokio::time::timeout(Duration::from_secs(5), receiver.recv())
            .await
            .expect("the event arrives")
            .unwrap();
        assert_eq!(got, event);
    }
}

#[tokio::test]
async fn in_process_tickets() {
    tickets_are_single_use_and_expire(Arc::new(InProcessStreamTickets::default())).await;
}

#[tokio::test]
async fn redis_tickets_are_single_use_and_expire() {
    let Some(tickets) = redis_tickets().await else {
        return;
    };
    tickets_are_single_use_and_expire(tickets).await;
}

#[tokio::test]
async fn in_process_push() {
    let hub = LiveHub::new();
    events_reach_every_stream(Arc::new(hub.clone()), hub).await;
}

#[tokio::test]
async fn redis_push_reaches_another_replica() {
    let Some(url) = testing::redis_url() else {
        return;
    };
    let prefix = testing::unique_prefix();
    let publisher = RedisLivePush::connect(&url, &prefix).await.unwrap();
    let replica = RedisLivePush::connect(&url, &prefix).await.unwrap();
    let hub = LiveHub::new();
    let listener = replica.listen(hub.clone());
    // Let the listener subscribe before publishing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    events_reach_every_stream(Arc::new(publisher), hub).await;
    listener.abort();
}
