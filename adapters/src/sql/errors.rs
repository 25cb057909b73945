//! Recognising constraint violations in database errors, on PostgreSQL and SQLite.

use sea_orm::{DbErr, RuntimeErr};

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

/// The constraint violation behind `err`, if it is one.
///
/// PostgreSQL: SQLSTATE 23505 (unique) and 23503 (foreign key), with the constraint
/// name. SQLite: extended codes 2067 (unique), 1555 (primary key) and 787 (foreign
/// key), with the columns in the message.
pub(crate) fn violation(err: &DbErr) -> Option<Violation> {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx_err))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx_err))) = err
    else {
        return None;
    };
    let sea_orm::sqlx::Error::Database(db_err) = &**sqlx_err else {
        return None;
    };
    let code = db_err.code()?;
    match code.as_ref() {
        "23505" | "2067" | "1555" => Some(Violation::Unique {
            target: db_err
                .constraint()
                .map_or_else(|| db_err.message().to_owned(), str::to_owned),
        }),
        "23503" | "787" => Some(Violation::ForeignKey),
        _ => None,
    }
}
