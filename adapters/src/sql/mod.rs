//! Storage adapters on sea-orm, for SQLite (the embedded default) and PostgreSQL.
//!
//! - [`connect`] opens a pool for a `sqlite://…` or `postgres://…` URL;
//! - [`migrate`] brings the schema up to date ([`migration::Migrator`]);
//! - [`SqlProductRepository`], [`SqlCategoryRepository`] and [`SqlInventoryRepository`]
//!   implement the catalog and inventory ports;
//! - [`SqlUserRepository`] and [`SqlRefreshTokenRepository`] implement the accounts
//!   ports (refresh tokens are stored as hashes only);
//! - [`SqlStockReservations`] holds stock for orders in the same database as the
//!   inventory it changes;
//! - [`SqlCartStore`] keeps carts (the embedded default: they survive restarts);
//! - [`SqlOrderRepository`] keeps orders, shipments, audit trails, order attempts,
//!   the outbox and idempotency keys.
//!
//! Database errors are translated at this border: unique and foreign-key violations
//! become the port's domain variants, everything else `Unexpected` with context.
//!
//! Storage notes:
//! - Prices are `NUMERIC(12,2)` on PostgreSQL. On SQLite, where sea-orm would store a
//!   decimal as a floating-point `REAL`, they are kept as exact decimal text
//!   (`decimal_text` column, TEXT affinity) and read back as text on both databases.
//! - Times are stored with microsecond precision (PostgreSQL's); finer parts are
//!   truncated on write so both databases return the same value.

mod account_token;
#[cfg(feature = "sqlite")]
mod backup;
mod cart;
mod category;
mod checked_write;
#[cfg(feature = "sqlite")]
mod checkpoint;
mod entities;
mod errors;
mod inventory;
pub mod migration;
mod notification;
mod order;
mod payment;
mod product;
mod refresh_token;
#[cfg(feature = "postgres")]
mod relay_election;
mod reservation;
mod settings;
mod shipment;
mod user;
mod webhook;

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use emporium_domain::{Page, PageRequest};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseTransaction, DbBackend, PaginatorTrait,
    SelectorTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

pub(crate) use self::checked_write::{CheckedWriter, WriteStep, Written};
use self::errors::DbResultExt;
use crate::store_error::StoreError;

pub use account_token::SqlAccountTokenRepository;
#[cfg(feature = "sqlite")]
pub use backup::{DatabaseLock, backup_sqlite, restore_sqlite};
pub use cart::SqlCartStore;
pub use category::SqlCategoryRepository;
#[cfg(feature = "sqlite")]
pub use checkpoint::{Checkpoint, DEFAULT_WAL_THRESHOLD, WalCheckpointer};
pub use inventory::SqlInventoryRepository;
pub use notification::SqlNotificationRepository;
pub use order::SqlOrderRepository;
pub use product::SqlProductRepository;
pub use refresh_token::SqlRefreshTokenRepository;
#[cfg(feature = "postgres")]
pub use relay_election::OutboxRelayElection;
pub use reservation::SqlStockReservations;
pub use sea_orm::DatabaseConnection;
pub use settings::record_currency;
pub use user::SqlUserRepository;
pub use webhook::SqlWebhookRepository;

/// The bytes a restarted SQLite WAL keeps on disk at most (`journal_size_limit`).
const SQLITE_JOURNAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;
/// How long a SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections in a SQLite pool (one writer at a time, readers in parallel under WAL).
/// The hot writes (orders, reservations, the outbox) go through a connection of
/// their own (`checked_write`), so the pool serves mostly reads: four kept the
/// order benchmark ~12 % ahead of eight, whose threads cost more in hand-offs than
/// their parallelism gave on two cores.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// Connections in a PostgreSQL pool. Ten per process keeps a few replicas of every
/// service within PostgreSQL's default `max_connections` (100).
const POSTGRES_MAX_CONNECTIONS: u32 = 10;
/// How long an idle PostgreSQL connection is kept before the pool closes it.
const POSTGRES_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a caller waits for a pooled SQLite connection (a local file: waiting
/// means other requests hold them all).
const SQLITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a caller waits for a PostgreSQL connection, making one included: past
/// it the database counts as unavailable (503), and start-up against a server that
/// does not answer fails within it. (sea-orm hands sqlx this one deadline for both.)
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Opens a connection pool for `url`.
///
/// - `sqlite://path/to/file.db` (or `sqlite:path`): the file and its parent directory
///   are created when missing (unless the URL sets its own `mode=`), the journal is
///   switched to WAL, and writers wait up to 10 s for the write lock instead of failing
///   with `SQLITE_BUSY`. `sqlite::memory:` gives a private in-memory database on a
///   single connection.
/// - `postgres://…` / `postgresql://…`: a pool of up to 10 connections.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    if url.starts_with("sqlite:") {
        connect_sqlite(url).await
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        connect_postgres(url).await
    } else {
        bail!("unsupported database URL (expected sqlite:// or postgres://)")
    }
}

/// The file of a SQLite URL (`sqlite://path`, `sqlite:path`, as sqlx reads it);
/// `None` for another URL or an in-memory database.
#[cfg(feature = "sqlite")]
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    use std::str::FromStr;

    use sea_orm::sqlx::sqlite::SqliteConnectOptions;

    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    Some(options.get_filename().to_path_buf())
}

#[cfg(feature = "sqlite")]
async fn connect_sqlite(url: &str) -> anyhow::Result<DatabaseConnection> {
    use std::str::FromStr;

    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

    let parsed = SqliteConnectOptions::from_str(url).context("parsing the SQLite URL")?;
    let mode = url_parameter(url, "mode");
    let in_memory = url.contains(":memory:") || mode == Some("memory");
    // `mode=rwc` semantics unless the URL asks for something else (`ro`, `rw`).
    let create = matches!(mode, None | Some("rwc"));
    if !in_memory && create {
        let file = parsed.get_filename();
        if let Some(dir) = file.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            create_dir(dir)?;
        }
        keep_private(file)?;
    }

    let mut options = ConnectOptions::new(url);
    options
        .max_connections(if in_memory { 1 } else { SQLITE_MAX_CONNECTIONS })
        .min_connections(if in_memory { 1 } else { 0 })
        .acquire_timeout(SQLITE_ACQUIRE_TIMEOUT)
        .connect_timeout(SQLITE_ACQUIRE_TIMEOUT)
        // A local file does not hang up: pinging each idle connection before handing
        // it out (sqlx's default) is one more round trip to its worker thread per
        // query, for nothing.
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            // WAL with synchronous=NORMAL: a commit is durable against a crash of
            // this process (kill -9) but the last transactions may be lost if the
            // machine itself loses power; FULL would fsync every commit.
            let opts = opts
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .pragma("wal_autocheckpoint", "1000")
                .pragma("journal_size_limit", SQLITE_JOURNAL_SIZE_LIMIT.to_string())
                .foreign_keys(true);
            if create {
                opts.create_if_missing(true)
            } else {
                opts
            }
        });
    if in_memory {
        // An in-memory database lives as long as its connection: keep it.
        options.idle_timeout(None).max_lifetime(None);
    }
    Database::connect(options)
        .await
        .context("opening the SQLite database")
}

#[cfg(not(feature = "sqlite"))]
async fn connect_sqlite(_url: &str) -> anyhow::Result<DatabaseConnection> {
    bail!("this build has no SQLite support (feature `sqlite`)")
}

#[cfg(feature = "postgres")]
async fn connect_postgres(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(POSTGRES_MAX_CONNECTIONS)
        .min_connections(0)
        .idle_timeout(POSTGRES_IDLE_TIMEOUT)
        .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
        .connect_timeout(POSTGRES_ACQUIRE_TIMEOUT)
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .context("connecting to PostgreSQL")
}

#[cfg(not(feature = "postgres"))]
async fn connect_postgres(_url: &str) -> anyhow::Result<DatabaseConnection> {
    bail!("this build has no PostgreSQL support (feature `postgres`)")
}

/// The value of the query parameter `name` in `url`, if present.
#[cfg(feature = "sqlite")]
fn url_parameter<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The database holds password hashes: its file is created readable by its owner
/// only (SQLite gives its `-wal` and `-shm` files the same mode), and an existing one
/// that others may read is made private.
#[cfg(all(feature = "sqlite", unix))]
fn keep_private(file: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::metadata(file) {
        Ok(metadata) if metadata.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} private (mode 0600)", file.display()))?;
            tracing::info!(file = %file.display(), "made the database file private (mode 0600)");
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file)
                .with_context(|| format!("creating the database file {}", file.display()))?;
        }
        Err(error) => {
            return Err(error).with_context(|| format!("reading {}", file.display()));
        }
    }
    Ok(())
}

#[cfg(all(feature = "sqlite", not(unix)))]
fn keep_private(_file: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(feature = "sqlite")]
fn create_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the database directory {}", dir.display()))
}

/// The PostgreSQL advisory lock that serialises migration runs ("emporium" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x656d_706f_7269_756d;

/// Applies every pending migration of [`migration::Migrator`].
///
/// On PostgreSQL, services that start at once on one database (`serve products` and
/// `serve users`, say) take turns: each run waits for a transaction-scoped advisory
/// lock held on a connection of its own, so the second finds the schema up to date
/// instead of racing the first's `CREATE TABLE`s. The lock goes with its transaction,
/// also when the process dies. A SQLite file has one server process.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return apply_migrations(db).await;
    }
    let lock = db
        .begin()
        .await
        .context("opening the migration lock's transaction")?;
    lock.execute_unprepared(&format!(
        "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
    ))
    .await
    .context("waiting for the migration lock")?;
    let applied = apply_migrations(db).await;
    lock.commit()
        .await
        .context("releasing the migration lock")?;
    applied
}

async fn apply_migrations(db: &DatabaseConnection) -> anyhow::Result<()> {
    migration::Migrator::up(db, None)
        .await
        .context("applying database migrations")
}

/// Begins a write transaction on `db`: `IMMEDIATE` on SQLite, so it holds the write
/// lock from its first statement; the default elsewhere.
async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, StoreError> {
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    db.begin_with_options(options)
        .await
        .or_store_error(|| "beginning a write transaction")
}

/// Ends `txn` without changes; a failed rollback is only logged (the connection
/// discards the transaction anyway).
async fn roll_back(txn: DatabaseTransaction) {
    if let Err(error) = txn.rollback().await {
        tracing::warn!(error = %error, "rolling back a write transaction failed");
    }
}

/// Checks that the database answers (`SELECT 1`), for readiness probes.
pub async fn ping(db: &DatabaseConnection) -> anyhow::Result<()> {
    Ok(ping_store(db).await?)
}

/// Whether `query` returns a row; `what` names it in errors.
async fn exists<C: std::fmt::Display + Send + Sync + 'static>(
    conn: &impl ConnectionTrait,
    query: &sea_orm::sea_query::SelectStatement,
    what: impl FnOnce() -> C,
) -> Result<bool, StoreError> {
    Ok(conn.query_one(query).await.or_store_error(what)?.is_some())
}

/// Runs `SELECT 1`.
async fn ping_store(db: &DatabaseConnection) -> Result<(), StoreError> {
    db.execute_unprepared("SELECT 1")
        .await
        .or_store_error(|| "running SELECT 1")?;
    Ok(())
}

/// One page of `select` — ordered by the caller, ties broken by id so that paging is
/// stable — with the number of rows it matches across all pages; each row is read by
/// `convert`. Every SQL `list` goes through here. `what` names the rows in errors.
async fn fetch_page<'db, S, T>(
    db: &'db DatabaseConnection,
    select: S,
    page: PageRequest,
    what: &'static str,
    convert: impl Fn(<S::Selector as SelectorTrait>::Item) -> anyhow::Result<T>,
) -> Result<Page<T>, StoreError>
where
    S: PaginatorTrait<'db, DatabaseConnection>,
{
    let paginator = select.paginate(db, u64::from(page.size()));
    let total = paginator
        .num_items()
        .await
        .or_store_error(|| format!("counting {what}"))?;
    let rows = paginator
        .fetch_page(u64::from(page.number() - 1))
        .await
        .or_store_error(|| format!("listing {what}"))?;
    let items = rows
        .into_iter()
        .map(convert)
        .collect::<anyhow::Result<Vec<_>>>()
        .with_context(|| format!("reading {what}"))?;
    Ok(Page {
        items,
        total,
        request: page,
    })
}

/// One page of the rows `select` picks (from one table), newest first by the
/// columns `created_at` then `id`, read by `read`, with the total that `count` (the
/// same table and filters; this adds `COUNT(id) AS total`) finds. `what` names the
/// rows in errors.
pub(crate) async fn newest_first<T>(
    db: &impl ConnectionTrait,
    mut count: sea_orm::sea_query::SelectStatement,
    mut select: sea_orm::sea_query::SelectStatement,
    (created_at, id): (
        impl sea_orm::sea_query::IntoIden,
        impl sea_orm::sea_query::IntoIden,
    ),
    page: PageRequest,
    what: &'static str,
    read: impl Fn(&sea_orm::QueryResult) -> anyhow::Result<T>,
) -> Result<Page<T>, StoreError> {
    use sea_orm::sea_query::{Expr, ExprTrait, Order};
    let id = id.into_iden();
    count.expr_as(Expr::col(id.clone()).count(), "total");
    select
        .order_by(created_at.into_iden(), Order::Desc)
        .order_by(id, Order::Desc)
        .limit(u64::from(page.size()))
        .offset(page.offset());
    let total: i64 = db
        .query_one(&count)
        .await
        .or_store_error(|| format!("counting {what}"))?
        .context("COUNT returned no row")?
        .try_get("", "total")
        .or_store_error(|| format!("reading the count of {what}"))?;
    let rows = db
        .query_all(&select)
        .await
        .or_store_error(|| format!("listing {what}"))?;
    Ok(Page {
        items: rows.iter().map(read).collect::<anyhow::Result<Vec<_>>>()?,
        total: u64::try_from(total).unwrap_or(0),
        request: page,
    })
}

/// `t` truncated to the microsecond, the precision both databases keep.
fn to_stored_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// Whether `db` is SQLite (which needs a few dialect adjustments).
fn is_sqlite(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Sqlite
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use chrono::Utc;
    use emporium_domain::catalog::{
        Description, Price, Product, ProductId, ProductName, ProductRepository, Sku,
    };
    use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
    use uuid::Uuid;

    async fn pragma(db: &DatabaseConnection, sql: &str) -> String {
        let row = db
            .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<String>(0)
            .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn sqlite_file_and_directory_are_created_in_wal_mode() {
        let dir = std::env::temp_dir().join(format!("emporium-sql-{}", Uuid::new_v4().simple()));
        let file = dir.join("nested").join("shop.db");
        let db = super::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        super::migrate(&db).await.unwrap();
        // Migrations run once; a second run has nothing to do.
        super::migrate(&db).await.unwrap();
        assert!(file.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for private in [file.clone(), file.with_extension("db-wal")] {
                let mode = std::fs::metadata(&private).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", private.display());
            }
        }
        assert_eq!(pragma(&db, "PRAGMA journal_mode").await, "wal");
        assert_eq!(pragma(&db, "PRAGMA busy_timeout").await, "10000");
        assert_eq!(pragma(&db, "PRAGMA foreign_keys").await, "1");
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A database file left world-readable (by a version before 0600, or by hand) is
    /// made private when opened.
    #[cfg(unix)]
    #[tokio::test]
    async fn an_existing_readable_sqlite_file_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("emporium-sql-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("shop.db");
        std::fs::write(&file, b"").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let db = super::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn prices_are_stored_as_exact_text_on_sqlite() {
        let db = super::connect("sqlite::memory:").await.unwrap();
        super::migrate(&db).await.unwrap();
        let repository = super::SqlProductRepository::new(db.clone());
        let product = Product {
            id: ProductId(Uuid::new_v4()),
            name: ProductName::new("Cup").unwrap(),
            description: Description::default(),
            price: Price::parse("1234567890.10").unwrap(),
            sku: Sku::new("CUP").unwrap(),
            images: vec![],
            active: true,
            category_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        repository.insert(&product).await.unwrap();
        let stored = pragma(&db, "SELECT price || '/' || typeof(price) FROM products").await;
        assert_eq!(stored, "1234567890.10/text");
        let got = repository.get(product.id).await.unwrap().unwrap();
        assert_eq!(got.price.to_string(), "1234567890.10");
    }

    /// A WAL past its threshold is checkpointed and truncated; a small one is left.
    #[tokio::test]
    async fn the_checkpointer_truncates_a_grown_wal() {
        let dir = std::env::temp_dir().join(format!("emporium-wal-{}", Uuid::new_v4().simple()));
        let url = format!("sqlite://{}", dir.join("shop.db").display());
        let db = super::connect(&url).await.unwrap();
        super::migrate(&db).await.unwrap();
        let mut checkpointer = super::WalCheckpointer::open(&url)
            .await
            .unwrap()
            .unwrap()
            .with_threshold(1024 * 1024);
        assert_eq!(
            checkpointer.run_once().await.unwrap(),
            None,
            "a small WAL is left"
        );
        // A reader holding an old snapshot keeps SQLite's own passive checkpoints
        // from restarting the WAL while 4 MiB are written.
        let reader = db.begin().await.unwrap();
        reader
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT COUNT(*) FROM products",
            ))
            .await
            .unwrap();
        let blob = "x".repeat(64 * 1024);
        db.execute_unprepared("CREATE TABLE filler (body TEXT)")
            .await
            .unwrap();
        for _ in 0..64 {
            db.execute_unprepared(&format!("INSERT INTO filler VALUES ('{blob}')"))
                .await
                .unwrap();
        }
        assert!(
            checkpointer.wal_size() > 4 * 1024 * 1024,
            "{}",
            checkpointer.wal_size()
        );
        drop(reader);
        let checkpoint = checkpointer
            .run_once()
            .await
            .unwrap()
            .expect("a checkpoint");
        assert!(!checkpoint.busy, "{checkpoint:?}");
        assert_eq!(checkpoint.log_frames, checkpoint.checkpointed_frames);
        assert_eq!(checkpointer.wal_size(), 0, "the WAL was truncated");
        // Below the threshold, a WAL that stopped growing is truncated at the next
        // look but one.
        db.execute_unprepared("INSERT INTO filler VALUES ('after')")
            .await
            .unwrap();
        assert!(checkpointer.wal_size() > 0);
        assert_eq!(checkpointer.run_once().await.unwrap(), None, "it just grew");
        assert!(
            checkpointer.run_once().await.unwrap().is_some(),
            "idle since"
        );
        assert_eq!(checkpointer.wal_size(), 0);
        checkpointer.close().await;
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn other_schemes_are_refused() {
        assert!(super::connect("mysql://localhost/shop").await.is_err());
    }
}
