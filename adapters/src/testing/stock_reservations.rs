//! The contract of the `StockReservations` port, written once and run unchanged on
//! every adapter on its real server: sea-orm on SQLite and PostgreSQL and MongoDB
//! (`adapters/tests/stock_reservations_contract.rs`), and HTTP to the inventory
//! service (the end-to-end tests). Each function takes a fresh [`ReservationStore`]
//! and panics on a broken promise.
//!
//! Besides the state machine it holds the shop bugs it exists to prevent: concurrent
//! checkouts overselling (vendure#3508, medusa#16825), two lines of one product each
//! passing the stock check (medusa#16502), and a double release taking the reserved
//! quantity negative (medusa#12401).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use emporium_domain::inventory::{InventoryRepository, StockReservations};

use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{
    InventoryItem, Quantity, QuantityDelta, ReservationAction, ReservationError, ReservationLine,
    ReservationLines, ReservationStatus,
};
use emporium_domain::orders::{EventId, OrderId, ProcessedEvent};
use uuid::Uuid;

use ReservationAction::{Commit, Release, Restock};

fn order() -> OrderId {
    OrderId(Uuid::now_v7())
}

/// One delivery of an event to the stock consumer.
fn stock_event() -> ProcessedEvent {
    ProcessedEvent {
        consumer: "stock".to_owned(),
        event_id: EventId(Uuid::now_v7()),
    }
}

/// A new stock record of `on_hand` units, nothing reserved.
async fn stock(store: &ReservationStore, on_hand: i64) -> ProductId {
    let id = ProductId(Uuid::new_v4());
    let item =
        InventoryItem::new(id, Quantity::new(on_hand).unwrap(), Quantity::ZERO, at(0)).unwrap();
    store.inventory.create(&item).await.unwrap();
    id
}

fn lines(of: &[(ProductId, i64)]) -> ReservationLines {
    ReservationLines::new(of.iter().map(|&(product_id, quantity)| ReservationLine {
        product_id,
        quantity: Quantity::new(quantity).unwrap(),
    }))
    .unwrap()
}

/// (on hand, reserved) of `product`.
async fn held(store: &ReservationStore, product: ProductId) -> (i64, i64) {
    let item = store.inventory.get(product).await.unwrap().unwrap();
    (item.on_hand().value(), item.reserved().value())
}

pub async fn reserve_holds_every_line(store: &ReservationStore) {
    let (cups, pots) = (stock(store, 10).await, stock(store, 5).await);
    let id = order();
    let wanted = lines(&[(cups, 3), (pots, 5)]);
    let reservation = store
        .reservations
        .reserve(id, &wanted, at(1))
        .await
        .unwrap();
    assert_eq!(reservation.order_id, id);
    assert_eq!(reservation.status, ReservationStatus::Reserved);
    assert_eq!(reservation.lines, wanted);
    assert_eq!(held(store, cups).await, (10, 3));
    assert_eq!(held(store, pots).await, (5, 5));
    let stored = store.reservations.get(id).await.unwrap().unwrap();
    assert_eq!(stored.lines, wanted);
    assert_eq!(stored.status, ReservationStatus::Reserved);
    assert_eq!(store.reservations.get(order()).await.unwrap(), None);
}

pub async fn reserve_is_all_or_nothing(store: &ReservationStore) {
    let (cups, pots) = (stock(store, 10).await, stock(store, 2).await);
    let id = order();
    match store
        .reservations
        .reserve(id, &lines(&[(cups, 3), (pots, 3)]), at(1))
        .await
    {
        Err(ReservationError::InsufficientStock {
            product_id,
            available,
        }) => {
            assert_eq!(product_id, pots);
            assert_eq!(available.value(), 2);
        }
        other => panic!("expected InsufficientStock, got {other:?}"),
    }
    assert_eq!(
        held(store, cups).await,
        (10, 0),
        "the first line was undone"
    );
    assert_eq!(held(store, pots).await, (2, 0));
    assert_eq!(store.reservations.get(id).await.unwrap(), None);

    // Once stock arrives, the same order may try again.
    store
        .inventory
        .adjust(pots, QuantityDelta::new(1).unwrap(), at(2))
        .await
        .unwrap();
    let reservation = store
        .reservations
        .reserve(id, &lines(&[(cups, 3), (pots, 3)]), at(3))
        .await
        .unwrap();
    assert_eq!(reservation.status, ReservationStatus::Reserved);
    assert_eq!(held(store, pots).await, (3, 3));
}

pub async fn an_unknown_product_reserves_nothing(store: &ReservationStore) {
    let cups = stock(store, 10).await;
    let missing = ProductId(Uuid::new_v4());
    let id = order();
    match store
        .reservations
        .reserve(id, &lines(&[(cups, 1), (missing, 1)]), at(1))
        .await
    {
        Err(ReservationError::UnknownProduct(product)) => assert_eq!(product, missing),
        other => panic!("expected UnknownProduct, got {other:?}"),
    }
    assert_eq!(held(store, cups).await, (10, 0));
    assert_eq!(store.reservations.get(id).await.unwrap(), None);
}

/// medusa#16502: two lines of one product are one demand, not two checks.
pub async fn two_lines_of_one_product_are_checked_together(store: &ReservationStore) {
    let cups = stock(store, 3).await;
    let id = order();
    let twice = lines(&[(cups, 2), (cups, 2)]);
    assert_eq!(twice.lines().len(), 1);
    assert!(matches!(
        store.reservations.reserve(id, &twice, at(1)).await,
        Err(ReservationError::InsufficientStock { available, .. }) if available.value() == 3
    ));
    assert_eq!(held(store, cups).await, (3, 0));
}

pub async fn a_retried_reservation_changes_nothing(store: &ReservationStore) {
    let cups = stock(store, 10).await;
    let id = order();
    let wanted = lines(&[(cups, 4)]);
    let first = store
        .reservations
        .reserve(id, &wanted, at(1))
        .await
        .unwrap();
    let again = store
        .reservations
        .reserve(id, &wanted, at(2))
        .await
        .unwrap();
    assert_eq!(again.lines, first.lines);
    assert_eq!(again.status, ReservationStatus::Reserved);
    assert_eq!(held(store, cups).await, (10, 4));
    assert!(matches!(
        store.reservations.reserve(id, &lines(&[(cups, 5)]), at(3)).await,
        Err(ReservationError::LinesDiffer(other)) if other == id
    ));
    assert_eq!(held(store, cups).await, (10, 4));
}

pub async fn commit_takes_the_units_out_of_stock_once(store: &ReservationStore) {
    let (cups, pots) = (stock(store, 10).await, stock(store, 5).await);
    let id = order();
    store
        .reservations
        .reserve(id, &lines(&[(cups, 3), (pots, 1)]), at(1))
        .await
        .unwrap();
    // Three deliveries of the payment: only the one that moved the reservation
    // leaves a processed-event record.
    let deliveries: Vec<_> = (0..3).map(|_| stock_event()).collect();
    for (attempt, delivery) in deliveries.iter().enumerate() {
        let committed = store
            .reservations
            .apply(id, Commit, Some(delivery.clone()), at(2 + attempt as i64))
            .await
            .unwrap();
        assert_eq!(committed.status, ReservationStatus::Committed);
        assert_eq!(held(store, cups).await, (7, 0), "attempt {attempt}");
        assert_eq!(held(store, pots).await, (4, 0), "attempt {attempt}");
    }
    let mut recorded = Vec::new();
    for delivery in &deliveries {
        recorded.push(store.reservations.processed(delivery).await.unwrap());
    }
    assert_eq!(recorded, [true, false, false]);
    // Release after commit is refused and changes nothing.
    assert!(matches!(
        store.reservations.apply(id, Release, None, at(9)).await,
        Err(ReservationError::InvalidTransition {
            action: Release,
            status: ReservationStatus::Committed
        })
    ));
    assert_eq!(held(store, cups).await, (7, 0));

    // A paid order cancelled: the units come back on hand, once.
    for _ in 0..2 {
        let restocked = store
            .reservations
            .apply(id, Restock, None, at(10))
            .await
            .unwrap();
        assert_eq!(restocked.status, ReservationStatus::Restocked);
        assert_eq!(held(store, cups).await, (10, 0));
        assert_eq!(held(store, pots).await, (5, 0));
    }
    assert!(matches!(
        store.reservations.apply(id, Commit, None, at(11)).await,
        Err(ReservationError::InvalidTransition { .. })
    ));
}

pub async fn release_frees_the_units_once(store: &ReservationStore) {
    let cups = stock(store, 10).await;
    let other = order();
    store
        .reservations
        .reserve(other, &lines(&[(cups, 2)]), at(1))
        .await
        .unwrap();
    let id = order();
    let wanted = lines(&[(cups, 3)]);
    store
        .reservations
        .reserve(id, &wanted, at(1))
        .await
        .unwrap();
    assert_eq!(held(store, cups).await, (10, 5));
    for _ in 0..3 {
        let released = store
            .reservations
            .apply(id, Release, None, at(2))
            .await
            .unwrap();
        assert_eq!(released.status, ReservationStatus::Released);
        // The other order's two units stay held.
        assert_eq!(held(store, cups).await, (10, 2));
    }
    for refused in [Commit, Restock] {
        assert!(matches!(
            store.reservations.apply(id, refused, None, at(3)).await,
            Err(ReservationError::InvalidTransition {
                status: ReservationStatus::Released,
                ..
            })
        ));
    }
    // A late retry of the reservation does not hold the units again.
    let late = store
        .reservations
        .reserve(id, &wanted, at(4))
        .await
        .unwrap();
    assert_eq!(late.status, ReservationStatus::Released);
    assert_eq!(held(store, cups).await, (10, 2));
    // Restock is only for committed units.
    assert!(matches!(
        store.reservations.apply(other, Restock, None, at(5)).await,
        Err(ReservationError::InvalidTransition {
            status: ReservationStatus::Reserved,
            ..
        })
    ));
}

pub async fn actions_on_an_unknown_order_are_not_found(store: &ReservationStore) {
    let id = order();
    for action in [Commit, Release, Restock] {
        assert!(matches!(
            store.reservations.apply(id, action, None, at(1)).await,
            Err(ReservationError::NotFound(missing)) if missing == id
        ));
    }
}

/// vendure#3508, medusa#16825: 200 checkouts of one unit race for 50 units;
/// exactly 50 win.
pub async fn concurrent_reservations_never_oversell(store: &ReservationStore) {
    let cups = stock(store, 50).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let reservations = Arc::clone(&store.reservations);
            let barrier = Arc::clone(&barrier);
            let wanted = lines(&[(cups, 1)]);
            tokio::spawn(async move {
                barrier.wait().await;
                reservations.reserve(order(), &wanted, at(i)).await
            })
        })
        .collect();
    let (mut won, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(reservation) => {
                assert_eq!(reservation.status, ReservationStatus::Reserved);
                won += 1;
            }
            Err(ReservationError::InsufficientStock { available, .. }) => {
                assert_eq!(available, Quantity::ZERO);
                refused += 1;
            }
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((won, refused), (50, 150));
    assert_eq!(held(store, cups).await, (50, 50));
}

/// medusa#12401: a hundred releases of one order at once lower `reserved` once.
pub async fn concurrent_releases_free_the_units_once(store: &ReservationStore) {
    let cups = stock(store, 10).await;
    let keep = order();
    store
        .reservations
        .reserve(keep, &lines(&[(cups, 4)]), at(0))
        .await
        .unwrap();
    let id = order();
    store
        .reservations
        .reserve(id, &lines(&[(cups, 3)]), at(0))
        .await
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let reservations = Arc::clone(&store.reservations);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let event = stock_event();
                let released = reservations
                    .apply(id, Release, Some(event.clone()), at(i))
                    .await;
                (event, released)
            })
        })
        .collect();
    let mut recorded = 0;
    for task in tasks {
        let (event, released) = task.await.unwrap();
        assert_eq!(released.unwrap().status, ReservationStatus::Released);
        if store.reservations.processed(&event).await.unwrap() {
            recorded += 1;
        }
    }
    assert_eq!(held(store, cups).await, (10, 4));
    assert_eq!(recorded, 1, "one processed-event record: the winner's");
}

/// A payment (commit) racing an expiry (release): exactly one wins, and stock
/// reflects that one.
pub async fn commit_racing_release_has_one_winner(store: &ReservationStore) {
    let cups = stock(store, 100).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let id = order();
        store
            .reservations
            .reserve(id, &lines(&[(cups, 2)]), at(i))
            .await
            .unwrap();
        ids.push(id);
    }
    let tasks: Vec<_> = ids
        .iter()
        .flat_map(|&id| [(id, Commit), (id, Release)])
        .map(|(id, action)| {
            let reservations = Arc::clone(&store.reservations);
            tokio::spawn(
                async move { (action, reservations.apply(id, action, None, at(99)).await) },
            )
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let mut committed = 0;
    for pair in results.chunks(2) {
        let wins: Vec<_> = pair.iter().filter(|(_, result)| result.is_ok()).collect();
        assert_eq!(wins.len(), 1, "exactly one of commit and release wins");
        let loser = pair.iter().find(|(_, result)| result.is_err()).unwrap();
        assert!(matches!(
            loser.1,
            Err(ReservationError::InvalidTransition { .. })
        ));
        if wins[0].0 == Commit {
            committed += 1;
        }
    }
    assert_eq!(held(store, cups).await, (100 - 2 * committed, 0));
}

/// One order's reservation sent twenty times at once holds its units once.
pub async fn concurrent_retries_of_one_reservation_hold_once(store: &ReservationStore) {
    let cups = stock(store, 10).await;
    let id = order();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let reservations = Arc::clone(&store.reservations);
            let wanted = lines(&[(cups, 3)]);
            tokio::spawn(async move { reservations.reserve(id, &wanted, at(i)).await })
        })
        .collect();
    for task in tasks {
        let reservation = task.await.unwrap().unwrap();
        assert_eq!(reservation.status, ReservationStatus::Reserved);
    }
    assert_eq!(held(store, cups).await, (10, 3));
}

/// Overlapping retries of one reservation that the stock refuses (a client retrying
/// after a timeout, through another replica) all answer the refusal, and nothing
/// stays held: one call undoing the holds never leaves another with a reservation
/// that vanished under it.
pub async fn concurrent_retries_of_a_refused_reservation_all_refuse(store: &ReservationStore) {
    let (cups, pots) = (stock(store, 10).await, stock(store, 1).await);
    let id = order();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let reservations = Arc::clone(&store.reservations);
            let wanted = lines(&[(cups, 3), (pots, 2)]);
            tokio::spawn(async move { reservations.reserve(id, &wanted, at(i)).await })
        })
        .collect();
    for task in tasks {
        match task.await.unwrap() {
            // (Which product a refusal names may differ while calls overlap: on
            // MongoDB a call may find the other product's hold undone under it.)
            Err(ReservationError::InsufficientStock { product_id, .. }) => {
                assert!(product_id == pots || product_id == cups, "{product_id}");
            }
            other => panic!("a refused reservation answered {other:?}"),
        }
    }
    assert_eq!(held(store, cups).await, (10, 0));
    assert_eq!(held(store, pots).await, (1, 0));
}

/// A record holding units for orders cannot be deleted, so a committed order's
/// units always have somewhere to come back to until then.
pub async fn reserved_stock_cannot_be_deleted(store: &ReservationStore) {
    let cups = stock(store, 10).await;
    store
        .reservations
        .reserve(order(), &lines(&[(cups, 1)]), at(1))
        .await
        .unwrap();
    assert!(store.inventory.delete(cups).await.is_err());
    assert_eq!(held(store, cups).await, (10, 1));
}

/// A reservations adapter under test, with the inventory store it reserves from (to
/// create stock records and read what is held).
pub struct ReservationStore {
    /// Stock records.
    pub inventory: Arc<dyn InventoryRepository>,
    /// The port under test.
    pub reservations: Arc<dyn StockReservations>,
    _guard: Box<dyn std::any::Any + Send + Sync>,
}

impl ReservationStore {
    /// The adapter `reservations` over `inventory`; `guard` (a temporary directory,
    /// a server) lives as long as the store.
    pub fn new(
        inventory: Arc<dyn InventoryRepository>,
        reservations: Arc<dyn StockReservations>,
        guard: impl std::any::Any + Send + Sync,
    ) -> Self {
        Self {
            inventory,
            reservations,
            _guard: Box::new(guard),
        }
    }
}

/// A fixed time, `offset_ms` later (with sub-microsecond digits a store truncates).
pub fn at(offset_ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 8, 30, 0).unwrap()
        + TimeDelta::milliseconds(offset_ms)
        + TimeDelta::nanoseconds(456_789)
}
