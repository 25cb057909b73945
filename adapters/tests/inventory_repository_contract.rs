//! The contract of the `InventoryRepository` port, written once (`suite`) and run
//! unchanged against every adapter on its real server: sea-orm on SQLite (a file in a
//! temporary directory, so the pool's connections really compete) and on PostgreSQL
//! (`EMPORIUM_TEST_POSTGRES_URL`), and MongoDB (`EMPORIUM_TEST_MONGO_URL`). A missing
//! server is a SKIP line, or a failure when `EMPORIUM_REQUIRE_SERVICES=1`.
//!
//! Times are compared at microsecond precision, which every store keeps.

#[macro_use]
mod contract;

/// The contract, as async functions over a [`contract::InventoryStore`].
mod suite {
    use std::sync::Arc;

    use emporium_domain::PageRequest;
    use emporium_domain::catalog::ProductId;
    use emporium_domain::inventory::{
        InventoryItem, InventoryRepositoryError, Quantity, QuantityDelta,
    };
    use uuid::Uuid;

    use super::contract::{InventoryStore, at, micros};

    fn item(on_hand: i64, reserved: i64) -> InventoryItem {
        InventoryItem::new(
            ProductId(Uuid::new_v4()),
            Quantity::new(on_hand).unwrap(),
            Quantity::new(reserved).unwrap(),
            at(0),
        )
        .unwrap()
    }

    fn delta(value: i64) -> QuantityDelta {
        QuantityDelta::new(value).unwrap()
    }

    /// `expected` and `got` are the same record, times compared to the microsecond.
    fn assert_same(got: &InventoryItem, expected: &InventoryItem) {
        assert_eq!(got.product_id(), expected.product_id());
        assert_eq!(got.on_hand(), expected.on_hand(), "on hand");
        assert_eq!(got.reserved(), expected.reserved(), "reserved");
        assert_eq!(got.available(), expected.available(), "available");
        assert_eq!(
            got.updated_at(),
            micros(expected.updated_at()),
            "updated at"
        );
    }

    async fn created(store: &InventoryStore, on_hand: i64, reserved: i64) -> InventoryItem {
        let record = item(on_hand, reserved);
        store.inventory.create(&record).await.unwrap();
        record
    }

    async fn stored(store: &InventoryStore, record: &InventoryItem) -> InventoryItem {
        store
            .inventory
            .get(record.product_id())
            .await
            .unwrap()
            .expect("stored record")
    }

    pub async fn create_then_get_round_trips(store: &InventoryStore) {
        for (on_hand, reserved) in [(20, 5), (0, 0), (Quantity::MAX, Quantity::MAX), (7, 7)] {
            let record = created(store, on_hand, reserved).await;
            assert_same(&stored(store, &record).await, &record);
        }
        assert_eq!(
            store
                .inventory
                .get(ProductId(Uuid::new_v4()))
                .await
                .unwrap(),
            None
        );
    }

    pub async fn second_create_is_refused(store: &InventoryStore) {
        let record = created(store, 20, 0).await;
        let again = InventoryItem::new(
            record.product_id(),
            Quantity::new(99).unwrap(),
            Quantity::ZERO,
            at(5),
        )
        .unwrap();
        match store.inventory.create(&again).await {
            Err(InventoryRepositoryError::AlreadyExists(id)) => {
                assert_eq!(id, record.product_id());
            }
            other => panic!("expected AlreadyExists, got {other:?}"),
        }
        assert_same(&stored(store, &record).await, &record);
    }

    pub async fn list_orders_by_product_id_with_paging_and_total(store: &InventoryStore) {
        let empty = store.inventory.list(PageRequest::default()).await.unwrap();
        assert!(empty.items.is_empty());
        assert_eq!(empty.total, 0);

        let mut records = Vec::new();
        for i in 0..7 {
            records.push(created(store, i, 0).await);
        }
        records.sort_by_key(|r| r.product_id());
        let mut listed = Vec::new();
        for number in 1..=4 {
            let request = PageRequest::new(number, 2).unwrap();
            let page = store.inventory.list(request).await.unwrap();
            assert_eq!(page.total, 7);
            assert_eq!(page.request, request);
            assert_eq!(page.items.len(), if number < 4 { 2 } else { 1 });
            listed.extend(page.items);
        }
        assert_eq!(listed.len(), 7);
        for (got, expected) in listed.iter().zip(&records) {
            assert_same(got, expected);
        }
        let beyond = store
            .inventory
            .list(PageRequest::new(5, 2).unwrap())
            .await
            .unwrap();
        assert!(beyond.items.is_empty());
        assert_eq!(beyond.total, 7);
    }

    pub async fn adjust_adds_and_removes_stock(store: &InventoryStore) {
        let record = created(store, 10, 4).await;
        let id = record.product_id();

        let after = store
            .inventory
            .adjust(id, delta(5), at(1_000))
            .await
            .unwrap();
        let expected = record.adjusted(delta(5), at(1_000)).unwrap();
        assert_same(&after, &expected);
        assert_eq!(after.on_hand().value(), 15);
        assert_eq!(after.available().value(), 11);
        assert_same(&stored(store, &record).await, &expected);

        let after = store
            .inventory
            .adjust(id, delta(-11), at(2_000))
            .await
            .unwrap();
        assert_eq!(after.on_hand().value(), 4);
        assert_eq!(after.reserved().value(), 4);
        assert_eq!(after.available().value(), 0);
        assert_same(&stored(store, &record).await, &after);
    }

    pub async fn adjust_never_goes_below_reserved(store: &InventoryStore) {
        let record = created(store, 10, 4).await;
        let id = record.product_id();
        for refused in [-7, -10, -11, -Quantity::MAX] {
            match store.inventory.adjust(id, delta(refused), at(1_000)).await {
                Err(InventoryRepositoryError::InsufficientStock { available }) => {
                    assert_eq!(available.value(), 6, "available reported for {refused}");
                }
                other => panic!("expected InsufficientStock for {refused}, got {other:?}"),
            }
        }
        // Nothing changed, not even the time.
        assert_same(&stored(store, &record).await, &record);

        let after = store
            .inventory
            .adjust(id, delta(-6), at(2_000))
            .await
            .unwrap();
        assert_eq!(after.available().value(), 0);
        match store.inventory.adjust(id, delta(-1), at(3_000)).await {
            Err(InventoryRepositoryError::InsufficientStock { available }) => {
                assert_eq!(available, Quantity::ZERO);
            }
            other => panic!("expected InsufficientStock, got {other:?}"),
        }

        // With nothing reserved, stock can go exactly to zero and no further.
        let plain = created(store, 3, 0).await;
        let empty = store
            .inventory
            .adjust(plain.product_id(), delta(-3), at(1_000))
            .await
            .unwrap();
        assert_eq!(empty.on_hand(), Quantity::ZERO);
        assert!(matches!(
            store.inventory.adjust(plain.product_id(), delta(-1), at(2_000)).await,
            Err(InventoryRepositoryError::InsufficientStock { available }) if available == Quantity::ZERO
        ));
    }

    pub async fn adjust_never_exceeds_the_maximum(store: &InventoryStore) {
        let record = created(store, Quantity::MAX - 10, 3).await;
        let id = record.product_id();
        for refused in [11, Quantity::MAX] {
            match store.inventory.adjust(id, delta(refused), at(1_000)).await {
                Err(InventoryRepositoryError::Overflow) => {}
                other => panic!("expected Overflow for +{refused}, got {other:?}"),
            }
        }
        assert_same(&stored(store, &record).await, &record);
        let full = store
            .inventory
            .adjust(id, delta(10), at(2_000))
            .await
            .unwrap();
        assert_eq!(full.on_hand().value(), Quantity::MAX);
        assert!(matches!(
            store.inventory.adjust(id, delta(1), at(3_000)).await,
            Err(InventoryRepositoryError::Overflow)
        ));
        // Removing stock from a full record still works.
        let after = store
            .inventory
            .adjust(id, delta(-1), at(4_000))
            .await
            .unwrap();
        assert_eq!(after.on_hand().value(), Quantity::MAX - 1);
    }

    pub async fn adjust_of_a_missing_record_is_not_found(store: &InventoryStore) {
        let missing = ProductId(Uuid::new_v4());
        for change in [1, -1] {
            match store.inventory.adjust(missing, delta(change), at(0)).await {
                Err(InventoryRepositoryError::NotFound(id)) => assert_eq!(id, missing),
                other => panic!("expected NotFound for {change}, got {other:?}"),
            }
        }
        assert_eq!(store.inventory.get(missing).await.unwrap(), None);
    }

    /// Stock 20, 50 concurrent `adjust(-1)`: exactly 20 succeed, 30 are refused, and
    /// no unit is sold twice.
    pub async fn concurrent_removals_never_oversell(store: &InventoryStore) {
        let record = created(store, 20, 0).await;
        let id = record.product_id();
        let barrier = Arc::new(tokio::sync::Barrier::new(50));
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let inventory = Arc::clone(&store.inventory);
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    inventory.adjust(id, delta(-1), at(1_000 + i)).await
                })
            })
            .collect();
        let (mut succeeded, mut refused) = (Vec::new(), 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(after) => succeeded.push(after.on_hand().value()),
                Err(InventoryRepositoryError::InsufficientStock { available }) => {
                    assert_eq!(available, Quantity::ZERO);
                    refused += 1;
                }
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!(succeeded.len(), 20);
        assert_eq!(refused, 30);
        // Every success saw a different remainder: 19, 18, …, 0.
        succeeded.sort_unstable();
        assert_eq!(succeeded, (0..20).collect::<Vec<_>>());
        let last = stored(store, &record).await;
        assert_eq!(last.on_hand(), Quantity::ZERO);
        assert_eq!(last.available(), Quantity::ZERO);
    }

    /// Concurrent additions and removals are never lost.
    pub async fn concurrent_changes_are_never_lost(store: &InventoryStore) {
        let record = created(store, 100, 10).await;
        let id = record.product_id();
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let inventory = Arc::clone(&store.inventory);
                let change = if i % 2 == 0 { 3 } else { -2 };
                tokio::spawn(async move { inventory.adjust(id, delta(change), at(i)).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let last = stored(store, &record).await;
        assert_eq!(last.on_hand().value(), 100 + 20 * 3 - 20 * 2);
        assert_eq!(last.reserved().value(), 10);
        assert_eq!(last.available().value(), 110);
    }

    pub async fn ping_answers(store: &InventoryStore) {
        store.inventory.ping().await.unwrap();
    }

    pub async fn delete_keeps_a_record_with_reserved_units(store: &InventoryStore) {
        let reserved = created(store, 10, 3).await;
        match store.inventory.delete(reserved.product_id()).await {
            Err(InventoryRepositoryError::Reserved { reserved }) => {
                assert_eq!(reserved.value(), 3);
            }
            other => panic!("expected Reserved, got {other:?}"),
        }
        assert_same(&stored(store, &reserved).await, &reserved);

        let free = created(store, 10, 0).await;
        store.inventory.delete(free.product_id()).await.unwrap();
        assert_eq!(store.inventory.get(free.product_id()).await.unwrap(), None);
        assert!(matches!(
            store.inventory.delete(free.product_id()).await,
            Err(InventoryRepositoryError::NotFound(id)) if id == free.product_id()
        ));
        assert_eq!(
            store
                .inventory
                .list(PageRequest::new(1, 10).unwrap())
                .await
                .unwrap()
                .total,
            1
        );
    }
}

mod sqlite {
    contract_tests!(crate::contract::sqlite_inventory =>
        delete_keeps_a_record_with_reserved_units,
        create_then_get_round_trips,
        second_create_is_refused,
        list_orders_by_product_id_with_paging_and_total,
        adjust_adds_and_removes_stock,
        adjust_never_goes_below_reserved,
        adjust_never_exceeds_the_maximum,
        adjust_of_a_missing_record_is_not_found,
        concurrent_removals_never_oversell,
        concurrent_changes_are_never_lost,
        ping_answers,
    );
}

mod postgres {
    contract_tests!(crate::contract::postgres_inventory =>
        delete_keeps_a_record_with_reserved_units,
        create_then_get_round_trips,
        second_create_is_refused,
        list_orders_by_product_id_with_paging_and_total,
        adjust_adds_and_removes_stock,
        adjust_never_goes_below_reserved,
        adjust_never_exceeds_the_maximum,
        adjust_of_a_missing_record_is_not_found,
        concurrent_removals_never_oversell,
        concurrent_changes_are_never_lost,
        ping_answers,
    );
}

mod mongo {
    contract_tests!(crate::contract::mongo_inventory =>
        delete_keeps_a_record_with_reserved_units,
        create_then_get_round_trips,
        second_create_is_refused,
        list_orders_by_product_id_with_paging_and_total,
        adjust_adds_and_removes_stock,
        adjust_never_goes_below_reserved,
        adjust_never_exceeds_the_maximum,
        adjust_of_a_missing_record_is_not_found,
        concurrent_removals_never_oversell,
        concurrent_changes_are_never_lost,
        ping_answers,
    );
}

/// Adapter-specific: a MongoDB that is not there fails fast instead of hanging.
mod mongo_connection {
    use std::time::{Duration, Instant};

    use emporium_adapters::mongo::MongoInventoryRepository;

    #[tokio::test]
    async fn connect_fails_fast_when_no_server_answers() {
        super::contract::init();
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = Instant::now();
        let result =
            MongoInventoryRepository::connect(&format!("mongodb://127.0.0.1:{port}"), "absent")
                .await;
        assert!(result.is_err(), "connected to nothing");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?} to fail",
            started.elapsed()
        );
    }
}
