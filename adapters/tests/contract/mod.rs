//! Shared support of the storage contract suites (`*_repository_contract.rs`): stores
//! on real servers, one fresh database per test, and a macro that instantiates a
//! suite for one adapter.
//!
//! Every test binary includes this module but uses only part of it.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, TimeZone, Utc};
use emporium_adapters::mongo::{MongoInventoryRepository, MongoStockReservations};
use emporium_adapters::sql::{
    self, SqlCartStore, SqlCategoryRepository, SqlInventoryRepository, SqlProductRepository,
    SqlStockReservations,
};
use emporium_adapters::testing::stock_reservations::ReservationStore;
use emporium_adapters::testing::{self, TempDir};
use emporium_domain::catalog::{CategoryRepository, ProductRepository};
use emporium_domain::inventory::InventoryRepository;
use sea_orm::DatabaseConnection;

/// Instantiates a suite for one adapter: for each listed name, a `#[tokio::test]` that
/// builds a fresh store with `$factory` (returning `None` — after a SKIP line — when
/// the server is not configured) and runs `suite::$name` on it.
macro_rules! contract_tests {
    ($factory:path => $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(store) = $factory().await else {
                    return;
                };
                super::suite::$name(&store).await;
            }
        )+
    };
}

/// Installs the rustls crypto provider (ring) once per process.
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// What keeps a store's database alive for the test: the temporary directory of a
/// SQLite file, or nothing for a server.
pub type Guard = Option<TempDir>;

/// A migrated SQLite database in a fresh temporary directory (a file, not
/// `:memory:`, so every pooled connection shares it).
pub async fn sqlite_db() -> (TempDir, DatabaseConnection) {
    init();
    let (dir, url) = testing::sqlite_database();
    let db = sql::connect(&url).await.expect("open SQLite");
    sql::migrate(&db).await.expect("migrate SQLite");
    (dir, db)
}

/// A migrated, fresh PostgreSQL database; `None` when none is configured.
pub async fn postgres_db() -> Option<DatabaseConnection> {
    init();
    let url = testing::postgres_database().await?;
    let db = sql::connect(&url).await.expect("connect to PostgreSQL");
    sql::migrate(&db).await.expect("migrate PostgreSQL");
    Some(db)
}

/// Product and category repositories on one database.
pub struct CatalogStore {
    /// Products.
    pub products: Arc<dyn ProductRepository>,
    /// Categories (same database, so products can reference them).
    pub categories: Arc<dyn CategoryRepository>,
    _guard: Guard,
}

fn catalog_store(db: DatabaseConnection, guard: Guard) -> CatalogStore {
    CatalogStore {
        products: Arc::new(SqlProductRepository::new(db.clone())),
        categories: Arc::new(SqlCategoryRepository::new(db)),
        _guard: guard,
    }
}

/// The catalog on SQLite.
pub async fn sqlite_catalog() -> Option<CatalogStore> {
    let (dir, db) = sqlite_db().await;
    Some(catalog_store(db, Some(dir)))
}

/// The catalog on PostgreSQL.
pub async fn postgres_catalog() -> Option<CatalogStore> {
    Some(catalog_store(postgres_db().await?, None))
}

/// An inventory repository.
pub struct InventoryStore {
    /// The repository under test.
    pub inventory: Arc<dyn InventoryRepository>,
    _guard: Guard,
}

/// Inventory on SQLite.
pub async fn sqlite_inventory() -> Option<InventoryStore> {
    let (dir, db) = sqlite_db().await;
    Some(InventoryStore {
        inventory: Arc::new(SqlInventoryRepository::new(db)),
        _guard: Some(dir),
    })
}

/// Inventory on PostgreSQL.
pub async fn postgres_inventory() -> Option<InventoryStore> {
    let db = postgres_db().await?;
    Some(InventoryStore {
        inventory: Arc::new(SqlInventoryRepository::new(db)),
        _guard: None,
    })
}

/// Inventory on MongoDB (or the wire-compatible test server), in a fresh database.
pub async fn mongo_inventory() -> Option<InventoryStore> {
    init();
    let (url, database) = testing::mongo_database()?;
    let repository = MongoInventoryRepository::connect(&url, &database)
        .await
        .expect("connect to MongoDB");
    Some(InventoryStore {
        inventory: Arc::new(repository),
        _guard: None,
    })
}

/// Reservations on SQLite.
pub async fn sqlite_reservations() -> Option<ReservationStore> {
    let (dir, db) = sqlite_db().await;
    Some(ReservationStore::new(
        Arc::new(SqlInventoryRepository::new(db.clone())),
        Arc::new(SqlStockReservations::new(db)),
        dir,
    ))
}

/// Reservations on PostgreSQL.
pub async fn postgres_reservations() -> Option<ReservationStore> {
    let db = postgres_db().await?;
    Some(ReservationStore::new(
        Arc::new(SqlInventoryRepository::new(db.clone())),
        Arc::new(SqlStockReservations::new(db)),
        (),
    ))
}

/// Reservations on MongoDB (or the wire-compatible test server), in a fresh database.
pub async fn mongo_reservations() -> Option<ReservationStore> {
    init();
    let (url, database) = testing::mongo_database()?;
    let inventory = MongoInventoryRepository::connect(&url, &database)
        .await
        .expect("connect to MongoDB");
    let reservations = MongoStockReservations::with_database(inventory.database())
        .await
        .expect("prepare the reservations collection");
    Some(ReservationStore::new(
        Arc::new(inventory),
        Arc::new(reservations),
        (),
    ))
}

/// A cart store.
pub struct CartStoreUnderTest {
    /// The port under test.
    pub carts: Arc<dyn emporium_domain::orders::CartStore>,
    _guard: Guard,
}

/// Carts on SQLite.
pub async fn sqlite_carts() -> Option<CartStoreUnderTest> {
    let (dir, db) = sqlite_db().await;
    Some(CartStoreUnderTest {
        carts: Arc::new(SqlCartStore::new(db)),
        _guard: Some(dir),
    })
}

/// Carts on PostgreSQL.
pub async fn postgres_carts() -> Option<CartStoreUnderTest> {
    Some(CartStoreUnderTest {
        carts: Arc::new(SqlCartStore::new(postgres_db().await?)),
        _guard: None,
    })
}

/// Carts on Redis, under a key prefix of their own.
pub async fn redis_carts() -> Option<CartStoreUnderTest> {
    init();
    let url = testing::redis_url()?;
    let store = emporium_adapters::carts::RedisCartStore::connect(&url)
        .await
        .expect("connect to Redis")
        .with_prefix(testing::unique_prefix());
    Some(CartStoreUnderTest {
        carts: Arc::new(store),
        _guard: None,
    })
}

/// The order store's ports, all on one adapter (they share its database).
pub struct OrderStore {
    /// Orders, audit rows, attempts.
    pub orders: Arc<dyn emporium_domain::orders::OrderRepository>,
    /// Payments.
    pub payments: Arc<dyn emporium_domain::orders::PaymentRepository>,
    /// Shipments.
    pub shipments: Arc<dyn emporium_domain::orders::ShipmentRepository>,
    /// Idempotency keys.
    pub idempotency: Arc<dyn emporium_domain::orders::IdempotencyStore>,
    /// The outbox.
    pub outbox: Arc<dyn emporium_domain::orders::Outbox>,
    _guard: Guard,
}

fn order_store(db: DatabaseConnection, guard: Guard) -> OrderStore {
    let store = Arc::new(sql::SqlOrderRepository::new(db));
    OrderStore {
        orders: store.clone(),
        payments: store.clone(),
        shipments: store.clone(),
        idempotency: store.clone(),
        outbox: store,
        _guard: guard,
    }
}

/// The order store on SQLite.
pub async fn sqlite_orders() -> Option<OrderStore> {
    let (dir, db) = sqlite_db().await;
    Some(order_store(db, Some(dir)))
}

/// The order store on PostgreSQL.
pub async fn postgres_orders() -> Option<OrderStore> {
    Some(order_store(postgres_db().await?, None))
}

/// A fixed instant with nanoseconds, `offset_ms` milliseconds after 2026-01-01.
pub fn at(offset_ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 8, 30, 0).unwrap()
        + TimeDelta::milliseconds(offset_ms)
        + TimeDelta::nanoseconds(456_789)
}

/// `t` at the precision the stores keep (microseconds).
pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap()
}

/// A valid product with `sku`, in no category.
#[allow(dead_code)]
pub fn product(sku: &str) -> emporium_domain::catalog::Product {
    use emporium_domain::catalog::{Description, Price, Product, ProductId, ProductName, Sku};
    Product {
        id: ProductId(uuid::Uuid::new_v4()),
        name: ProductName::new(format!("Product {sku}")).unwrap(),
        description: Description::default(),
        price: Price::parse("1.00").unwrap(),
        sku: Sku::new(sku).unwrap(),
        images: vec![],
        active: true,
        category_id: None,
        created_at: at(0),
        updated_at: at(0),
    }
}
