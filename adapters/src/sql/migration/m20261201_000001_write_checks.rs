//! `write_checks`: the table a SQLite write batch uses to refuse itself (see
//! `sql::write_checked`). It stays empty: a check inserts a row only when the write
//! must not stand, and its CHECK constraint refuses that row with `OR ROLLBACK`,
//! which ends the whole transaction. PostgreSQL checks each statement's result
//! between round trips instead, so the table exists on SQLite only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Creates `write_checks` on SQLite.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The SQL of the table (SQLite's syntax: a named CHECK constraint, so its error
/// names it).
const CREATE_WRITE_CHECKS: &str = "CREATE TABLE IF NOT EXISTS write_checks (\
     refused INTEGER NOT NULL, \
     CONSTRAINT write_check_refused CHECK (refused = 0))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(CREATE_WRITE_CHECKS)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS write_checks")
            .await?;
        Ok(())
    }
}
