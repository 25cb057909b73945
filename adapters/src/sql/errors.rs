//! Database errors at the border: constraint violations (through sea-orm's
//! `DbErr::sql_err`), and the errors that mean "the database cannot be reached now",
//! which become [`Unavailable`](emporium_domain::Unavailable) (see
//! [`StoreError`]).

use std::fmt::Display;

use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, SqlErr, sqlx};

use crate::store_error::StoreError;

/// A constraint violation reported by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Violation {
    /// A unique or primary-key violation. `target` is the constraint name on
    /// PostgreSQL and the message (`UNIQUE constraint failed: table.column`) on SQLite.
    Unique { target: String },
    /// A foreign-key violation.
    ForeignKey,
}

impl Violation {
    /// Whether this is a unique violation of the index `index` on `table.column`.
    pub(crate) fn is_unique(&self, index: &str, table: &str, column: &str) -> bool {
        match self {
            Violation::Unique { target } => {
                target == index || target.contains(&format!("{table}.{column}"))
            }
            Violation::ForeignKey => false,
        }
    }
}

/// The constraint violation behind `err`, if it is one. On PostgreSQL the target is
/// the constraint's name (its message is translated by the server); on SQLite, the
/// message naming `table.column`.
pub(crate) fn violation(err: &DbErr) -> Option<Violation> {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => Some(Violation::Unique {
            target: constraint(err).map_or(message, str::to_owned),
        }),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => Some(Violation::ForeignKey),
        _ if is_sqlite_restricted_delete(err) => Some(Violation::ForeignKey),
        _ => None,
    }
}

/// SQLite refuses deleting a row that an `ON DELETE RESTRICT` foreign key still
/// points at with the extended code 1811 (`SQLITE_CONSTRAINT_TRIGGER`), which
/// `sql_err` does not recognise as a foreign-key violation.
fn is_sqlite_restricted_delete(err: &DbErr) -> bool {
    sqlx_error(err)
        .and_then(|error| error.as_database_error())
        .is_some_and(|database| {
            database.code().as_deref() == Some("1811") && database.message().contains("FOREIGN KEY")
        })
}

fn sqlx_error(err: &DbErr) -> Option<&sqlx::Error> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => Some(error),
        _ => None,
    }
}

fn constraint(err: &DbErr) -> Option<&str> {
    sqlx_error(err)?.as_database_error()?.constraint()
}

/// Whether `err` means the database cannot be reached now: no connection could be
/// made or kept (refused, reset, timed out, pool exhausted or closed), or the server
/// says it is shutting down, starting, out of connections or resources, or (SQLite)
/// busy, locked, out of disk or unable to open the file.
pub(crate) fn is_unavailable(err: &DbErr) -> bool {
    if matches!(
        err,
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed)
    ) {
        return true;
    }
    let Some(error) = sqlx_error(err) else {
        return false;
    };
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            #[cfg(feature = "postgres")]
            if database
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                // Class 08 (connection exception, but 08P01: a protocol bug), shutdowns,
                // "cannot connect now", resource exhaustion, system I/O errors.
                return (code.starts_with("08") && code != "08P01")
                    || matches!(
                        code.as_ref(),
                        "57P01"
                            | "57P02"
                            | "57P03"
                            | "57P05"
                            | "53000"
                            | "53100"
                            | "53200"
                            | "53300"
                            | "58000"
                            | "58030"
                    );
            }
            // SQLite: the primary result code of BUSY, LOCKED, IOERR, FULL, CANTOPEN.
            let primary = code.parse::<i32>().map(|code| code & 0xff);
            matches!(primary, Ok(5 | 6 | 10 | 13 | 14))
        }
        _ => false,
    }
}

/// `err` classified for the repository ports: `Unavailable` when the database cannot
/// be reached, otherwise `Unexpected` with `context`.
pub(crate) fn store_error(err: DbErr, context: impl Display + Send + Sync + 'static) -> StoreError {
    StoreError::classify(err, "the database", is_unavailable, context)
}

/// Classifies database errors for the repository ports.
pub(crate) trait DbResultExt<T> {
    /// `Unavailable` when the database cannot be reached, otherwise `Unexpected` with
    /// `context`.
    fn or_store_error<C: Display + Send + Sync + 'static>(
        self,
        context: impl FnOnce() -> C,
    ) -> Result<T, StoreError>;
}

impl<T> DbResultExt<T> for Result<T, DbErr> {
    fn or_store_error<C: Display + Send + Sync + 'static>(
        self,
        context: impl FnOnce() -> C,
    ) -> Result<T, StoreError> {
        self.map_err(|err| store_error(err, context()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable_and_others_are_not() {
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        let refused = DbErr::Conn(RuntimeErr::SqlxError(std::sync::Arc::new(sqlx::Error::Io(
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        ))));
        assert!(is_unavailable(&refused));
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
        assert!(!is_unavailable(&DbErr::Custom("bug".into())));
    }
}
