//! A store that cannot be reached says `Unavailable` — apart from every other failure
//! — so the HTTP edge answers 503 (retry later) rather than 500. Each networked
//! adapter talks to its real server through a TCP proxy this test controls; cutting
//! the proxy (open connections reset, new ones refused) is the server going away.

use std::time::{Duration, Instant};

use emporium_adapters::mongo::MongoInventoryRepository;
use emporium_adapters::sql::{self, SqlProductRepository};
use emporium_adapters::testing::{self, Proxy, address_of, through};
use emporium_domain::catalog::{
    Description, Price, Product, ProductId, ProductName, ProductRepository, ProductRepositoryError,
    Sku,
};
use emporium_domain::inventory::{
    InventoryItem, InventoryRepository, InventoryRepositoryError, Quantity,
};
use uuid::Uuid;

fn product() -> Product {
    Product {
        id: ProductId(Uuid::new_v4()),
        name: ProductName::new("Cup").unwrap(),
        description: Description::default(),
        price: Price::parse("1.00").unwrap(),
        sku: Sku::new(format!("SKU-{}", Uuid::new_v4().simple())).unwrap(),
        images: vec![],
        active: true,
        category_id: None,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_out_of_reach_is_unavailable() {
    let Some(url) = testing::postgres_database().await else {
        return;
    };
    let db = sql::connect(&url).await.unwrap();
    sql::migrate(&db).await.unwrap();
    db.close().await.unwrap();
    let proxy = Proxy::start(address_of(&url, 5432)).await;
    let db = sql::connect(&through(&url, proxy.address)).await.unwrap();
    let products = SqlProductRepository::new(db);
    let stored = product();
    products.insert(&stored).await.unwrap();
    // Other failures stay what they are: a duplicate is not "unavailable".
    let twin = Product {
        id: ProductId(Uuid::new_v4()),
        ..stored.clone()
    };
    assert!(matches!(
        products.insert(&twin).await,
        Err(ProductRepositoryError::DuplicateSku(_))
    ));

    proxy.cut();
    let started = Instant::now();
    match products.get(stored.id).await {
        Err(ProductRepositoryError::Unavailable(unavailable)) => {
            assert_eq!(unavailable.what(), "the database");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // Once the open connection is gone, new ones are refused: still Unavailable, and
    // within the pool's acquire timeout.
    assert!(matches!(
        products.get(stored.id).await,
        Err(ProductRepositoryError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_that_never_answers_fails_start_up_within_five_seconds() {
    // A port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let result = sql::connect(&format!("postgres://postgres@127.0.0.1:{port}/shop")).await;
    assert!(result.is_err(), "connected to nothing");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?} to fail",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_out_of_reach_is_unavailable() {
    let Some((url, database)) = testing::mongo_database() else {
        return;
    };
    let proxy = Proxy::start(address_of(&url, 5432)).await;
    let proxied = format!("{}/?directConnection=true", through(&url, proxy.address));
    let inventory = MongoInventoryRepository::connect(&proxied, &database)
        .await
        .unwrap();
    let item = InventoryItem::new(
        ProductId(Uuid::new_v4()),
        Quantity::new(5).unwrap(),
        Quantity::ZERO,
        chrono::Utc::now(),
    )
    .unwrap();
    inventory.create(&item).await.unwrap();

    proxy.cut();
    match inventory.get(item.product_id()).await {
        Err(InventoryRepositoryError::Unavailable(unavailable)) => {
            assert_eq!(unavailable.what(), "MongoDB");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
