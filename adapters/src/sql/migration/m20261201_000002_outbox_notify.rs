//! On PostgreSQL, a committed insert into `outbox` notifies the channel
//! `emporium_outbox` (one notification per statement; PostgreSQL delivers it at
//! commit and folds repeats within a transaction), so the relay publishes at once
//! instead of waiting for its next poll. SQLite has one process and no NOTIFY.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Adds the notifying trigger on PostgreSQL.
#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: &str = r"
CREATE OR REPLACE FUNCTION emporium_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('emporium_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION emporium_outbox_notify();
";

const DROP: &str = r"
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS emporium_outbox_notify();
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared(CREATE).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared(DROP).await?;
        Ok(())
    }
}
