//! The in-process adapters: system clock, uuid v7 ids, and the catalog lookup and
//! stock removal over the repositories (driven here by the domain's mocks).

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::anyhow;
use chrono::{TimeZone, Utc};
use emporium_adapters::in_process::{
    InProcessProductCatalog, InProcessProductStock, SystemClock, UuidV7Generator,
};
use emporium_domain::catalog::{
    CatalogError, Description, MockProductRepository, NewProduct, Price, Product, ProductCatalog,
    ProductId, ProductName, ProductRepositoryError, ProductStock, ProductStockError, Sku,
    StockRemoval,
};
use emporium_domain::inventory::{InventoryRepositoryError, MockInventoryRepository, Quantity};
use emporium_domain::{Clock, IdGenerator};
use uuid::{Uuid, Version};

#[test]
fn the_system_clock_tells_the_current_time_and_does_not_go_back() {
    let clock = SystemClock;
    let before = Utc::now();
    let mut previous = clock.now();
    for _ in 0..1_000 {
        let now = clock.now();
        assert!(now >= previous, "{now} before {previous}");
        previous = now;
    }
    let after = Utc::now();
    // Truncated to microseconds, so it may read up to 1 µs before `before`.
    assert!(before - chrono::Duration::microseconds(1) <= previous && previous <= after);
}

#[test]
fn the_system_clock_keeps_whole_microseconds_as_every_store_does() {
    for _ in 0..100 {
        assert_eq!(SystemClock.now().timestamp_subsec_nanos() % 1_000, 0);
    }
}

#[test]
fn v7_ids_are_unique_and_ordered() {
    let ids = UuidV7Generator;
    let generated: Vec<Uuid> = (0..10_000).map(|_| ids.new_id()).collect();
    assert!(
        generated
            .iter()
            .all(|id| id.get_version() == Some(Version::SortRand))
    );
    assert!(
        generated.windows(2).all(|pair| pair[0] < pair[1]),
        "ids made later must sort later"
    );
    let unique: HashSet<_> = generated.iter().collect();
    assert_eq!(unique.len(), generated.len());
    // The embedded timestamp is now.
    let (seconds, _) = generated[0].get_timestamp().unwrap().to_unix();
    let now = u64::try_from(Utc::now().timestamp()).unwrap();
    assert!(now.abs_diff(seconds) <= 5);
}

#[test]
fn v7_ids_from_many_threads_are_unique() {
    let ids = Arc::new(UuidV7Generator);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let ids = Arc::clone(&ids);
            std::thread::spawn(move || (0..2_000).map(|_| ids.new_id()).collect::<Vec<_>>())
        })
        .collect();
    let mut all = HashSet::new();
    for thread in threads {
        for id in thread.join().unwrap() {
            assert!(all.insert(id), "duplicate id {id}");
        }
    }
}

fn product(id: ProductId) -> Product {
    NewProduct {
        name: ProductName::new("Espresso cup").unwrap(),
        description: Description::default(),
        price: Price::parse("12.50").unwrap(),
        sku: Sku::new("CUP-090").unwrap(),
        images: vec![],
        active: true,
        category_id: None,
    }
    .into_product(id, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
}

#[tokio::test]
async fn the_catalog_answers_from_the_repository() {
    let found = ProductId(Uuid::now_v7());
    let missing = ProductId(Uuid::now_v7());
    let mut repository = MockProductRepository::new();
    repository
        .expect_get()
        .withf(move |id| *id == found)
        .times(1)
        .returning(|id| Ok(Some(product(id))));
    repository
        .expect_get()
        .withf(move |id| *id == missing)
        .times(1)
        .returning(|_| Ok(None));
    let catalog = InProcessProductCatalog::new(Arc::new(repository));
    assert_eq!(
        catalog.find_product(found).await.unwrap(),
        Some(product(found))
    );
    assert_eq!(catalog.find_product(missing).await.unwrap(), None);
}

#[tokio::test]
async fn repository_failures_make_the_catalog_unavailable() {
    let id = ProductId(Uuid::now_v7());
    let mut repository = MockProductRepository::new();
    repository.expect_get().returning(|_| {
        Err(ProductRepositoryError::Unexpected(anyhow!(
            "database is down"
        )))
    });
    let catalog = InProcessProductCatalog::new(Arc::new(repository));
    let CatalogError::Unavailable(error) = catalog.find_product(id).await.unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("database is down"), "{message}");
    assert!(message.contains(&id.to_string()), "{message}");
}

#[tokio::test]
async fn stock_removal_answers_what_the_repository_did() {
    let free = ProductId(Uuid::now_v7());
    let reserved = ProductId(Uuid::now_v7());
    let unstocked = ProductId(Uuid::now_v7());
    let mut repository = MockInventoryRepository::new();
    repository
        .expect_delete()
        .withf(move |id| *id == free)
        .times(1)
        .returning(|_| Ok(()));
    repository
        .expect_delete()
        .withf(move |id| *id == reserved)
        .times(1)
        .returning(|_| {
            Err(InventoryRepositoryError::Reserved {
                reserved: Quantity::new(4).unwrap(),
            })
        });
    repository
        .expect_delete()
        .withf(move |id| *id == unstocked)
        .times(1)
        .returning(|id| Err(InventoryRepositoryError::NotFound(id)));
    let stock = InProcessProductStock::new(Arc::new(repository));
    assert_eq!(stock.remove(free).await.unwrap(), StockRemoval::Removed);
    assert_eq!(
        stock.remove(reserved).await.unwrap(),
        StockRemoval::Reserved(Quantity::new(4).unwrap())
    );
    assert_eq!(
        stock.remove(unstocked).await.unwrap(),
        StockRemoval::NoRecord
    );
}

#[tokio::test]
async fn repository_failures_make_inventory_unavailable() {
    let id = ProductId(Uuid::now_v7());
    let mut repository = MockInventoryRepository::new();
    repository.expect_delete().returning(|_| {
        Err(InventoryRepositoryError::Unexpected(anyhow!(
            "mongo timed out"
        )))
    });
    let stock = InProcessProductStock::new(Arc::new(repository));
    let ProductStockError::Unavailable(error) = stock.remove(id).await.unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("mongo timed out"), "{message}");
}
