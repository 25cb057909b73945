//! Test support: the real servers tests run against, and a fresh database per test.
//!
//! Servers are named by environment variables, which `scripts/test` sets after
//! starting (or reusing) them:
//!
//! | variable | example |
//! |---|---|
//! | `EMPORIUM_TEST_POSTGRES_URL` | `postgres://postgres@127.0.0.1:5432/postgres` |
//! | `EMPORIUM_TEST_MONGO_URL` | `mongodb://127.0.0.1:27018` |
//! | `EMPORIUM_TEST_REDIS_URL` | `redis://127.0.0.1:6379` |
//! | `EMPORIUM_TEST_SMTP_PYTHON` | a Python with `aiosmtpd`, for [`smtp::SmtpSink`] |
//! | `EMPORIUM_TEST_WEBHOOK_PYTHON` | a Python with `standardwebhooks`, for [`webhook_receiver::WebhookReceiver`] |
//!
//! When a variable is missing, the lookup returns `None` and prints a `SKIP` line, so a
//! plain `cargo test` on a laptop without the servers still runs everything else. With
//! `EMPORIUM_REQUIRE_SERVICES=1` (set by `scripts/test` and CI) a missing server
//! panics instead: nothing is skipped silently there.
//!
//! [`Proxy`] stands between a store and its real server so that a test can cut the
//! connection ([`Proxy::cut`]).

pub mod gateway;
mod proxy;
pub mod smtp;
pub mod stock_reservations;
pub mod webhook_receiver;

pub use proxy::{Proxy, address_of, through};

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

/// A real server the tests may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// PostgreSQL.
    Postgres,
    /// MongoDB (or the wire-compatible test server).
    Mongo,
    /// Redis.
    Redis,
}

impl Service {
    /// The environment variable that names the server.
    pub fn variable(self) -> &'static str {
        match self {
            Service::Postgres => "EMPORIUM_TEST_POSTGRES_URL",
            Service::Mongo => "EMPORIUM_TEST_MONGO_URL",
            Service::Redis => "EMPORIUM_TEST_REDIS_URL",
        }
    }
}

/// True when `EMPORIUM_REQUIRE_SERVICES=1`: a missing server is then a failure.
pub fn services_required() -> bool {
    std::env::var("EMPORIUM_REQUIRE_SERVICES").is_ok_and(|v| v == "1" || v == "true")
}

/// The base URL of `service`, or `None` (after printing a SKIP line) when it is not
/// configured. Panics when it is not configured but services are required.
pub fn service_url(service: Service) -> Option<String> {
    match std::env::var(service.variable()) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if services_required() => panic!(
            "{} is not set but EMPORIUM_REQUIRE_SERVICES=1: run the tests with scripts/test",
            service.variable()
        ),
        _ => {
            eprintln!(
                "SKIP: {} not set; run scripts/test to test against {service:?}",
                service.variable()
            );
            None
        }
    }
}

/// The Python interpreter `variable` names (a virtualenv holding the package a test
/// server needs, which `scripts/test` provides); `None` (after a SKIP line) when it
/// is unset, a failure when servers are required. `what` says what it serves.
pub(crate) fn python_of(variable: &str, what: &str) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => {
            assert!(
                !services_required(),
                "{variable} is not set but EMPORIUM_REQUIRE_SERVICES=1: run the tests with \
                 scripts/test"
            );
            eprintln!("SKIP: {variable} not set; run scripts/test to test {what}");
            None
        }
    }
}

/// A free address on 127.0.0.1, for a test server to listen on.
pub(crate) fn free_local_address() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
}

/// Waits until `address` accepts connections, at most 15 s; past that, fails with
/// the server's `log`.
pub(crate) fn wait_until_listening(
    address: std::net::SocketAddr,
    log: &std::path::Path,
    what: &str,
) {
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(address).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "the {what} did not start: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The database that holds every test's schema.
pub const POSTGRES_TEST_DATABASE: &str = "emporium_test";

/// A fresh, empty PostgreSQL schema for one test, named `emporium_test_<uuid>`, in
/// the database [`POSTGRES_TEST_DATABASE`] (created when missing); returns a URL whose
/// connections see only that schema (`search_path`). A schema is dropped cheaply,
/// where a database each would cost a forced checkpoint: `scripts/test` drops these
/// schemas when the run ends.
pub async fn postgres_database() -> Option<String> {
    let base = service_url(Service::Postgres)?;
    let database = replace_database(&base, POSTGRES_TEST_DATABASE);
    let schema = format!("emporium_test_{}", Uuid::new_v4().simple());
    let connection = match Database::connect(database.as_str()).await {
        Ok(connection) => connection,
        Err(_) => {
            create_test_database(&base).await;
            Database::connect(database.as_str())
                .await
                .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {database}: {e}"))
        }
    };
    connection
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap_or_else(|e| panic!("cannot create schema {schema}: {e}"));
    connection.close().await.ok();
    let separator = if database.contains('?') { '&' } else { '?' };
    Some(format!(
        "{database}{separator}options=-c%20search_path%3D{schema}"
    ))
}

/// Creates [`POSTGRES_TEST_DATABASE`]; another test creating it at the same time is
/// fine.
async fn create_test_database(base: &str) {
    let admin = Database::connect(base)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {base}: {e}"));
    if let Err(error) = admin
        .execute_unprepared(&format!("CREATE DATABASE {POSTGRES_TEST_DATABASE}"))
        .await
    {
        let message = error.to_string();
        assert!(
            message.contains("already exists") || message.contains("duplicate key"),
            "cannot create database {POSTGRES_TEST_DATABASE}: {message}"
        );
    }
    admin.close().await.ok();
}

/// The MongoDB URL and a fresh database name for one test.
pub fn mongo_database() -> Option<(String, String)> {
    let url = service_url(Service::Mongo)?;
    Some((url, format!("emporium_test_{}", Uuid::new_v4().simple())))
}

/// The Redis URL. Tests isolate themselves with a unique key prefix (see
/// [`unique_prefix`]).
pub fn redis_url() -> Option<String> {
    service_url(Service::Redis)
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("emporium_test:{}:", Uuid::new_v4().simple())
}

/// A SQLite database file in a fresh temporary directory; the directory (and the
/// database) is removed when the returned guard is dropped.
pub fn sqlite_database() -> (TempDir, String) {
    let dir = TempDir::new();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("emporium.db").display()
    );
    (dir, url)
}

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a new, empty directory under the system temp dir.
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("emporium-test-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self(path)
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `base` with its database path replaced by `name` (query string kept).
fn replace_database(base: &str, name: &str) -> String {
    let (without_query, query) = match base.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (base, None),
    };
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    let host_part = match without_query[scheme_end..].find('/') {
        Some(slash) => &without_query[..scheme_end + slash],
        None => without_query,
    };
    match query {
        Some(query) => format!("{host_part}/{name}?{query}"),
        None => format!("{host_part}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h:1/db?sslmode=disable", "x"),
            "postgres://u:p@h:1/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }
}
