//! The outbox relay election on a real PostgreSQL: one replica relays at a time,
//! another takes over when its session ends, and a committed outbox insert wakes the
//! relay through LISTEN/NOTIFY.

use std::time::{Duration, Instant};

use emporium_adapters::sql::{self, OutboxRelayElection};
use emporium_adapters::testing;
use sea_orm::ConnectionTrait;

async fn election(url: &str) -> OutboxRelayElection {
    OutboxRelayElection::open(url)
        .await
        .expect("opening the election")
        .expect("PostgreSQL has an election")
}

#[tokio::test]
async fn one_replica_relays_and_another_takes_over_when_it_dies() {
    let Some(url) = testing::postgres_database().await else {
        return;
    };
    let db = sql::connect(&url).await.unwrap();
    sql::migrate(&db).await.unwrap();
    let mut first = election(&url).await;
    let mut second = election(&url).await;
    assert!(first.lead().await, "the first replica takes the lock");
    assert!(
        !second.lead().await,
        "the second does not while the first holds it"
    );
    assert!(first.lead().await, "the holder keeps it");
    assert!(!second.lead().await);

    // Another deployment in another schema of the same database has its own relay.
    let Some(other_schema) = testing::postgres_database().await else {
        return;
    };
    let mut other = election(&other_schema).await;
    assert!(other.lead().await, "a lock per schema");

    // The holder dies: its session ends, PostgreSQL releases the lock.
    drop(first);
    let started = Instant::now();
    while !second.lead().await {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the second replica never took over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sqlite_has_no_election() {
    let (_dir, url) = testing::sqlite_database();
    assert!(OutboxRelayElection::open(&url).await.unwrap().is_none());
}

#[tokio::test]
async fn a_committed_outbox_insert_wakes_the_relay() {
    let Some(url) = testing::postgres_database().await else {
        return;
    };
    let db = sql::connect(&url).await.unwrap();
    sql::migrate(&db).await.unwrap();
    let mut relay = election(&url).await;
    assert!(relay.lead().await);
    // Nothing notified: the wait lasts its whole timeout.
    let started = Instant::now();
    relay.wait_for_events(Duration::from_millis(300)).await;
    assert!(started.elapsed() >= Duration::from_millis(290));

    let insert = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        db.execute_unprepared(
            "INSERT INTO outbox (event_id, event_type, payload, created_at) \
             VALUES (gen_random_uuid(), 'order.created', '{}', now())",
        )
        .await
        .unwrap();
    };
    let started = Instant::now();
    let ((), ()) = tokio::join!(relay.wait_for_events(Duration::from_secs(10)), insert);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken by the insert, not by the timeout: {:?}",
        started.elapsed()
    );
}
