//! The contract of the `StockReservations` port
//! (`emporium_adapters::testing::stock_reservations`, shared with the end-to-end run
//! on the HTTP adapter) on every storage adapter on its real server: sea-orm on
//! SQLite (a file, so the pool's connections really compete) and PostgreSQL, and
//! MongoDB. A missing server is a SKIP line, or a failure when
//! `EMPORIUM_REQUIRE_SERVICES=1`.

#[macro_use]
mod contract;

/// The contract, as async functions over a [`contract::ReservationStore`].
use emporium_adapters::testing::stock_reservations as suite;

mod sqlite {
    contract_tests!(crate::contract::sqlite_reservations =>
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
}

mod postgres {
    contract_tests!(crate::contract::postgres_reservations =>
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
}

mod mongo {
    contract_tests!(crate::contract::mongo_reservations =>
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
}

/// Adapter-specific: MongoDB moves a reservation's status before its stock updates
/// (no multi-document transaction). A crash between the two leaves the stock to do;
/// the retried action finishes it, once.
mod mongo_crash_between_status_and_stock {
    use emporium_adapters::mongo::{MongoInventoryRepository, MongoStockReservations};
    use emporium_domain::catalog::ProductId;
    use emporium_domain::inventory::{
        InventoryItem, InventoryRepository, Quantity, ReservationAction, ReservationLine,
        ReservationLines, ReservationStatus, StockReservations,
    };
    use emporium_domain::orders::OrderId;
    use mongodb::bson::{Document, doc};
    use uuid::Uuid;

    use super::contract::{at, init};

    #[tokio::test]
    async fn a_retried_commit_finishes_the_stock_updates_once() {
        init();
        let Some((url, name)) = emporium_adapters::testing::mongo_database() else {
            return;
        };
        let inventory = MongoInventoryRepository::connect(&url, &name)
            .await
            .unwrap();
        let database = inventory.database();
        let reservations = MongoStockReservations::with_database(database.clone())
            .await
            .unwrap();
        let product = ProductId(Uuid::new_v4());
        let item =
            InventoryItem::new(product, Quantity::new(10).unwrap(), Quantity::ZERO, at(0)).unwrap();
        inventory.create(&item).await.unwrap();
        let order = OrderId(Uuid::now_v7());
        let lines = ReservationLines::new([ReservationLine {
            product_id: product,
            quantity: Quantity::new(4).unwrap(),
        }])
        .unwrap();
        reservations.reserve(order, &lines, at(1)).await.unwrap();

        // The "crash": the status moved, the stock did not.
        let moved = database
            .collection::<Document>(MongoStockReservations::COLLECTION)
            .update_one(
                doc! {"order_id": order.to_string()},
                doc! {"$set": {"status": "committed"}},
            )
            .await
            .unwrap();
        assert_eq!(moved.matched_count, 1);
        let before = inventory.get(product).await.unwrap().unwrap();
        assert_eq!(
            (before.on_hand().value(), before.reserved().value()),
            (10, 4)
        );

        for _ in 0..3 {
            let done = reservations
                .apply(order, ReservationAction::Commit, None, at(2))
                .await
                .unwrap();
            assert_eq!(done.status, ReservationStatus::Committed);
            let after = inventory.get(product).await.unwrap().unwrap();
            assert_eq!((after.on_hand().value(), after.reserved().value()), (6, 0));
        }
    }
}
