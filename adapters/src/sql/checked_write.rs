//! Checked writes: a write transaction of several statements that commits only if
//! every check holds, in one round trip on SQLite.
//!
//! On SQLite the whole transaction is one multi-statement query — `BEGIN IMMEDIATE`,
//! the steps, `COMMIT` — so the connection's worker thread holds the database's one
//! write lock only while SQLite itself works, never across a hand-off to the async
//! caller (those hand-offs were most of an order's time under load). A check is an
//! `INSERT OR ROLLBACK INTO write_checks … WHERE <it failed>` whose row the table's
//! CHECK constraint refuses (migration `m20261201_000001_write_checks`), which ends
//! the transaction at once.
//!
//! The batches of one database file go through one connection of their own (the
//! file's [`SqliteWriter`], shared by every [`CheckedWriter`] of that file in the
//! process): they never wait in SQLite's sleeping busy handler for each other, they
//! queue in order instead, and the connection's page cache stays warm because no
//! other connection wrote in between. A batch runs in a task of its own, so a caller
//! that gives up (its request cancelled) never leaves it half-run: it commits or
//! rolls back whole, and no connection keeps an open transaction. A batch whose
//! caller gave up before its turn is skipped, and a batch that waits longer than the
//! pool's acquire timeout for its turn is not run and counts as the database being
//! unavailable (503), as an exhausted pool would.
//!
//! PostgreSQL runs the same steps one by one in a transaction and checks each result
//! between them.

use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};

use super::roll_back;

/// One step of a checked write.
pub(crate) enum WriteStep {
    /// A statement whose effect is not checked.
    Run(Statement),
    /// A statement that must change exactly this many rows, or the write is refused.
    Changes(Statement, u64),
    /// A query that returns a row when the write must not stand (checked after the
    /// steps before it, so it sees their changes).
    RefuseIf(Box<SelectStatement>),
}

/// How a checked write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// Every check held and the transaction committed.
    Committed,
    /// A check failed: nothing was written.
    Refused,
}

/// Runs checked writes on one database; see the [module docs](self).
#[derive(Debug, Clone)]
pub(crate) struct CheckedWriter {
    db: DatabaseConnection,
    #[cfg(feature = "sqlite")]
    sqlite: Option<std::sync::Arc<sqlite::SqliteWriter>>,
}

impl CheckedWriter {
    /// Checked writes on `db` (on a SQLite file, through the file's writer).
    pub(crate) fn new(db: &DatabaseConnection) -> Self {
        Self {
            #[cfg(feature = "sqlite")]
            sqlite: (db.get_database_backend() == DbBackend::Sqlite)
                .then(|| sqlite::SqliteWriter::of(db)),
            db: db.clone(),
        }
    }

    /// Runs `steps` as one write transaction that commits only if every check holds.
    pub(crate) async fn write(&self, steps: Vec<WriteStep>) -> Result<Written, DbErr> {
        #[cfg(feature = "sqlite")]
        if let Some(writer) = &self.sqlite {
            return writer.clone().run(steps).await;
        }
        let backend = self.db.get_database_backend();
        let txn = self.db.begin().await?;
        for step in steps {
            let holds = match step {
                WriteStep::Run(statement) => {
                    txn.execute_raw(statement).await?;
                    true
                }
                WriteStep::Changes(statement, rows) => {
                    txn.execute_raw(statement).await?.rows_affected() == rows
                }
                WriteStep::RefuseIf(query) => {
                    txn.query_one_raw(backend.build(&*query)).await?.is_none()
                }
            };
            if !holds {
                roll_back(txn).await;
                return Ok(Written::Refused);
            }
        }
        txn.commit().await?;
        Ok(Written::Committed)
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    //! The SQLite side: one batch, one round trip, on the file's own writer
    //! connection.

    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::{Arc, LazyLock, Mutex, Weak};

    use sea_orm::sea_query::Values;
    use sea_orm::sqlx::sqlite::SqliteConnectOptions;
    use sea_orm::sqlx::{self, ConnectOptions, SqliteConnection};
    use sea_orm::{DatabaseConnection, DbBackend, DbErr, RuntimeErr};
    use sea_query_sqlx::SqlxValues;

    use super::{WriteStep, Written};

    /// The named CHECK constraint of `write_checks`: its error means a check
    /// refused the write.
    const REFUSED: &str = "write_check_refused";
    /// How long a batch waits for its turn on the writer before the database counts
    /// as unavailable (the pool's acquire timeout: waiting means a queue of writes).
    const WRITER_WAIT: std::time::Duration = super::super::SQLITE_ACQUIRE_TIMEOUT;
    /// The prefix of a check: its row is inserted only when the check failed.
    const CHECK: &str = "INSERT OR ROLLBACK INTO write_checks (refused) SELECT 1 WHERE ";

    /// The writers of the process, one per database file while anything uses it.
    static WRITERS: LazyLock<Mutex<HashMap<PathBuf, Weak<SqliteWriter>>>> =
        LazyLock::new(Mutex::default);

    /// Where a file's batches run.
    #[derive(Debug)]
    pub(super) enum Connection {
        /// A connection of the writer's own, opened on first use (and again after
        /// one failed), with the pool's options (WAL, busy timeout, foreign keys).
        Own {
            options: Box<SqliteConnectOptions>,
            open: Option<SqliteConnection>,
        },
        /// An in-memory database lives in its pool's one connection: borrow it.
        Pooled(sqlx::SqlitePool),
    }

    /// Runs one database file's checked writes, one at a time, in arrival order.
    #[derive(Debug)]
    pub(super) struct SqliteWriter {
        pub(super) connection: tokio::sync::Mutex<Connection>,
    }

    impl SqliteWriter {
        /// The writer of `db`'s file, shared with every other user of the file.
        pub(super) fn of(db: &DatabaseConnection) -> Arc<Self> {
            let pool = db.get_sqlite_connection_pool();
            let options = (*pool.connect_options()).clone();
            // `connect` gives an in-memory database a pool of one connection.
            if pool.options().get_max_connections() == 1 {
                return Arc::new(Self {
                    connection: tokio::sync::Mutex::new(Connection::Pooled(pool.clone())),
                });
            }
            // One key per file however its path was written (relative, `./`, links).
            let file = std::fs::canonicalize(options.get_filename())
                .unwrap_or_else(|_| options.get_filename().to_path_buf());
            let mut writers = WRITERS
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            writers.retain(|_, writer| writer.strong_count() > 0);
            if let Some(writer) = writers.get(&file).and_then(Weak::upgrade) {
                return writer;
            }
            let writer = Arc::new(Self {
                connection: tokio::sync::Mutex::new(Connection::Own {
                    options: Box::new(options),
                    open: None,
                }),
            });
            writers.insert(file, Arc::downgrade(&writer));
            writer
        }

        /// Runs `steps` as one batch, in a task of its own: once begun it finishes
        /// (commits or rolls back) even when the caller stops waiting, and a batch
        /// whose caller stopped waiting before its turn never begins (a late
        /// reservation would hold stock for an attempt the recovery task already
        /// released).
        pub(super) async fn run(self: Arc<Self>, steps: Vec<WriteStep>) -> Result<Written, DbErr> {
            let (sql, values) = batch(steps);
            let (answer, answered) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                let connection = tokio::time::timeout(WRITER_WAIT, self.connection.lock()).await;
                let written = match connection {
                    Err(_) => Err(conn_error(sqlx::Error::PoolTimedOut)),
                    Ok(_) if answer.is_closed() => return,
                    Ok(mut connection) => Self::run_batch(&mut connection, sql, values).await,
                };
                let _ = answer.send(written);
            });
            answered.await.map_err(|_| {
                DbErr::Custom("the write batch's task ended without an answer".to_owned())
            })?
        }

        async fn run_batch(
            connection: &mut Connection,
            sql: String,
            values: Values,
        ) -> Result<Written, DbErr> {
            match connection {
                Connection::Own { options, open } => {
                    if open.is_none() {
                        *open = Some(options.connect().await.map_err(conn_error)?);
                    }
                    let Some(conn) = open.as_mut() else {
                        unreachable!("opened above");
                    };
                    let (written, healthy) = execute(conn, sql, values).await;
                    if !healthy {
                        // Closing it makes SQLite roll back whatever is open.
                        *open = None;
                    }
                    written
                }
                Connection::Pooled(pool) => {
                    let mut conn = pool.acquire().await.map_err(conn_error)?;
                    // Even when its rollback failed the one connection is kept: closing it
                    // would drop the in-memory database with it.
                    execute(&mut conn, sql, values).await.0
                }
            }
        }
    }

    /// The batch: `BEGIN IMMEDIATE`, each step with its check, `COMMIT`.
    fn batch(steps: Vec<WriteStep>) -> (String, Values) {
        let mut sql = String::from("BEGIN IMMEDIATE;\n");
        let mut values = Vec::new();
        for step in steps {
            match step {
                WriteStep::Run(statement) => push(&mut sql, &mut values, statement),
                WriteStep::Changes(statement, rows) => {
                    push(&mut sql, &mut values, statement);
                    // A literal, not a parameter: a parameter sqlx found no value for
                    // would be NULL, and `changes() <> NULL` never refuses.
                    sql.push_str(CHECK);
                    sql.push_str(&format!("changes() <> {rows};\n"));
                }
                WriteStep::RefuseIf(query) => {
                    let query = DbBackend::Sqlite.build(&*query);
                    sql.push_str(CHECK);
                    sql.push_str("EXISTS (");
                    sql.push_str(&query.sql);
                    sql.push_str(");\n");
                    values.extend(query.values.into_iter().flat_map(|v| v.0));
                }
            }
        }
        sql.push_str("COMMIT;");
        (sql, Values(values))
    }

    fn push(sql: &mut String, values: &mut Vec<sea_orm::Value>, statement: sea_orm::Statement) {
        sql.push_str(&statement.sql);
        sql.push_str(";\n");
        values.extend(statement.values.into_iter().flat_map(|v| v.0));
    }

    /// Runs the batch on `conn`; the flag says whether `conn` is fit for the next
    /// one (no transaction left open).
    async fn execute(
        conn: &mut SqliteConnection,
        sql: String,
        values: Values,
    ) -> (Result<Written, DbErr>, bool) {
        let ran = sqlx::query_with(sqlx::AssertSqlSafe(sql), SqlxValues(values))
            .execute(&mut *conn)
            .await;
        let error = match ran {
            Ok(_) => return (Ok(Written::Committed), true),
            Err(error) => error,
        };
        // A refused check has rolled back already; any other failure may have left
        // the transaction open.
        let healthy = match sqlx::query("ROLLBACK").execute(&mut *conn).await {
            Ok(_) => true,
            Err(rollback) if mentions(&rollback, "no transaction") => true,
            Err(rollback) => {
                tracing::warn!(error = %rollback, "rolling back a failed write batch failed; closing its connection");
                false
            }
        };
        let written = if is_refusal(&error) {
            Ok(Written::Refused)
        } else {
            Err(DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error))))
        };
        (written, healthy)
    }

    /// `SQLITE_CONSTRAINT_CHECK` (275) from `write_checks`' own constraint.
    fn is_refusal(error: &sqlx::Error) -> bool {
        error.as_database_error().is_some_and(|database| {
            database.code().as_deref() == Some("275") && database.message().contains(REFUSED)
        })
    }

    fn mentions(error: &sqlx::Error, text: &str) -> bool {
        error
            .as_database_error()
            .is_some_and(|database| database.message().contains(text))
    }

    fn conn_error(error: sqlx::Error) -> DbErr {
        DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error)))
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use std::sync::Arc;

    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
    use uuid::Uuid;

    use super::{CheckedWriter, WriteStep, Written};

    /// A migrated SQLite database (a file in a fresh directory, or in memory) with a
    /// table `t`.
    async fn database(url: &str) -> DatabaseConnection {
        let db = crate::sql::connect(url).await.unwrap();
        crate::sql::migrate(&db).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, batch INTEGER, \
             n INTEGER NOT NULL CHECK (n >= 0))",
        )
        .await
        .unwrap();
        db.execute_unprepared("INSERT INTO t (id, n) VALUES (1, 5)")
            .await
            .unwrap();
        db
    }

    fn file_url() -> (String, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("emporium-chk-{}", Uuid::new_v4().simple()));
        (format!("sqlite://{}", dir.join("shop.db").display()), dir)
    }

    fn sql(text: &str) -> Statement {
        Statement::from_string(DbBackend::Sqlite, text)
    }

    async fn count(db: &DatabaseConnection, filter: &str) -> i64 {
        db.query_one_raw(sql(&format!("SELECT COUNT(*) FROM t WHERE {filter}")))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index(0)
            .unwrap()
    }

    /// Every connection of the pool can begin a transaction and the writer can
    /// write: no transaction was left open anywhere.
    async fn nothing_is_left_open(db: &DatabaseConnection, writer: &CheckedWriter) {
        // A transaction on every connection of the pool at once; one already inside
        // a transaction would refuse the BEGIN.
        let connections = db
            .get_sqlite_connection_pool()
            .options()
            .get_max_connections();
        let mut txns = Vec::new();
        for _ in 0..connections {
            txns.push(db.begin().await.unwrap());
        }
        for txn in txns {
            txn.rollback().await.unwrap();
        }
        for _ in 0..16 {
            let steps = vec![WriteStep::Changes(
                sql("UPDATE t SET n = n WHERE id = 1"),
                1,
            )];
            assert_eq!(writer.write(steps).await.unwrap(), Written::Committed);
        }
    }

    async fn commits_only_when_every_check_holds(db: &DatabaseConnection) {
        let writer = CheckedWriter::new(db);
        let held = vec![
            WriteStep::Changes(sql("UPDATE t SET n = n - 1 WHERE id = 1"), 1),
            WriteStep::Run(sql("INSERT INTO t (id, n) VALUES (2, 0)")),
        ];
        assert_eq!(writer.write(held).await.unwrap(), Written::Committed);
        assert_eq!(count(db, "id = 1 AND n = 4").await, 1);
        assert_eq!(count(db, "id = 2").await, 1);

        // A statement that changed fewer rows than it must: nothing stands.
        let short = vec![
            WriteStep::Run(sql("INSERT INTO t (id, n) VALUES (3, 0)")),
            WriteStep::Changes(sql("UPDATE t SET n = n - 1 WHERE id = 1"), 1),
            WriteStep::Changes(sql("UPDATE t SET n = n - 1 WHERE id = 99"), 1),
        ];
        assert_eq!(writer.write(short).await.unwrap(), Written::Refused);
        assert_eq!(count(db, "id = 3").await, 0);
        assert_eq!(count(db, "id = 1 AND n = 4").await, 1);

        // A refusing query sees the steps before it.
        let over = |limit: i64| {
            vec![
                WriteStep::Run(sql("INSERT INTO t (id, n) VALUES (4, 0)")),
                WriteStep::RefuseIf(Box::new(
                    Query::select()
                        .expr(Expr::cust("COUNT(*)"))
                        .from(Alias::new("t"))
                        .and_having(Expr::cust("COUNT(*)").gt(limit))
                        .to_owned(),
                )),
            ]
        };
        assert_eq!(writer.write(over(2)).await.unwrap(), Written::Refused);
        assert_eq!(count(db, "id = 4").await, 0);
        assert_eq!(writer.write(over(3)).await.unwrap(), Written::Committed);
        assert_eq!(count(db, "id = 4").await, 1);

        // A statement that fails (another table's CHECK, which leaves SQLite's
        // transaction open) is an error, and the statements before it are undone.
        for _ in 0..3 {
            let failing = vec![
                WriteStep::Run(sql("INSERT INTO t (id, n) VALUES (5, 0)")),
                WriteStep::Run(sql("UPDATE t SET n = n - 100 WHERE id = 1")),
            ];
            let error = writer.write(failing).await.unwrap_err();
            assert!(
                error.to_string().contains("CHECK constraint failed"),
                "{error}"
            );
        }
        assert_eq!(count(db, "id = 5").await, 0);
        nothing_is_left_open(db, &writer).await;
    }

    #[tokio::test]
    async fn a_checked_write_commits_only_when_every_check_holds_on_a_file() {
        let (url, dir) = file_url();
        let db = database(&url).await;
        commits_only_when_every_check_holds(&db).await;
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_checked_write_commits_only_when_every_check_holds_in_memory() {
        commits_only_when_every_check_holds(&database("sqlite::memory:").await).await;
    }

    /// The writers of one file are one (so its batches queue instead of contending
    /// for the lock); another file has its own.
    #[tokio::test]
    async fn one_file_has_one_writer() {
        let (url, dir) = file_url();
        let (other_url, other_dir) = file_url();
        let db = database(&url).await;
        let other = database(&other_url).await;
        let (a, b, c) = (
            CheckedWriter::new(&db),
            CheckedWriter::new(&db.clone()),
            CheckedWriter::new(&other),
        );
        let (a, b, c) = (a.sqlite.unwrap(), b.sqlite.unwrap(), c.sqlite.unwrap());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        for db in [db, other] {
            db.close().await.unwrap();
        }
        for dir in [dir, other_dir] {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    /// A write whose caller gave up before its turn on the writer never happens:
    /// done late, a reservation would hold stock for an attempt the recovery task
    /// already released.
    #[tokio::test]
    async fn a_write_given_up_before_its_turn_never_happens() {
        let (url, dir) = file_url();
        let db = database(&url).await;
        let writer = CheckedWriter::new(&db);
        let turn = writer.sqlite.as_ref().unwrap().connection.lock().await;
        let late = vec![WriteStep::Run(sql("INSERT INTO t (id, n) VALUES (7, 0)"))];
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(50), writer.write(late)).await;
        assert!(waited.is_err(), "the write ran while the writer was busy");
        drop(turn);
        // The next write queues behind the abandoned one and runs.
        let next = vec![WriteStep::Run(sql("INSERT INTO t (id, n) VALUES (8, 0)"))];
        assert_eq!(writer.write(next).await.unwrap(), Written::Committed);
        assert_eq!(count(&db, "id = 7").await, 0);
        assert_eq!(count(&db, "id = 8").await, 1);
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A caller that gives up mid-write (its future dropped while the batch runs)
    /// leaves every batch whole or absent, and no transaction open: a batch that
    /// began runs to its end.
    #[tokio::test]
    async fn a_cancelled_write_is_whole_or_absent_and_leaves_no_transaction_open() {
        let (url, dir) = file_url();
        let db = database(&url).await;
        let writer = CheckedWriter::new(&db);
        let rows = 2000;
        let mut cancelled = Vec::new();
        for batch in 0..30_i64 {
            let steps = (0..rows)
                .map(|row| {
                    WriteStep::Changes(
                        sql(&format!(
                            "INSERT INTO t (id, batch, n) VALUES ({}, {batch}, 0)",
                            1000 + batch * rows + row
                        )),
                        1,
                    )
                })
                .collect();
            // Cut off at 1 to 10 ms: a batch takes a few.
            let deadline = std::time::Duration::from_millis(1 + batch as u64 % 10);
            if tokio::time::timeout(deadline, writer.write(steps))
                .await
                .is_err()
            {
                cancelled.push(batch);
            }
        }
        nothing_is_left_open(&db, &writer).await;
        let partial = count(
            &db,
            &format!(
                "batch IN (SELECT batch FROM t WHERE batch IS NOT NULL \
                 GROUP BY batch HAVING COUNT(*) <> {rows})"
            ),
        )
        .await;
        assert_eq!(partial, 0);
        // Some caller gave up while its batch ran, and the batch still stood whole.
        let mut finished_anyway = 0;
        for batch in &cancelled {
            if count(&db, &format!("batch = {batch}")).await == rows {
                finished_anyway += 1;
            }
        }
        assert!(
            finished_anyway > 0,
            "no write was cancelled mid-batch: {cancelled:?}"
        );
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
