//! Table `notifications`: one row per message (unique `message_key`: one per event,
//! recipient and channel), kept as rendered, with its delivery state. A new table
//! only (expand).

use sea_orm_migration::prelude::*;

/// Creates the notifications table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Notifications {
    Table,
    Id,
    UserId,
    OrderId,
    Channel,
    EventId,
    EventType,
    MessageKey,
    Recipient,
    Subject,
    BodyHtml,
    BodyText,
    Status,
    Attempts,
    LastError,
    NextAttemptAt,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let text = |column: Notifications| ColumnDef::new(column).text().not_null().to_owned();
        let time = |column: Notifications| {
            ColumnDef::new(column)
                .timestamp_with_time_zone()
                .not_null()
                .to_owned()
        };
        let maybe_time = |column: Notifications| {
            ColumnDef::new(column)
                .timestamp_with_time_zone()
                .null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(
                        ColumnDef::new(Notifications::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Notifications::UserId).uuid().not_null())
                    .col(ColumnDef::new(Notifications::OrderId).uuid().not_null())
                    .col(text(Notifications::Channel))
                    .col(ColumnDef::new(Notifications::EventId).uuid().not_null())
                    .col(text(Notifications::EventType))
                    .col(text(Notifications::MessageKey).unique_key().to_owned())
                    .col(text(Notifications::Recipient))
                    .col(text(Notifications::Subject))
                    .col(text(Notifications::BodyHtml))
                    .col(text(Notifications::BodyText))
                    .col(text(Notifications::Status))
                    .col(
                        ColumnDef::new(Notifications::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Notifications::LastError).text().null())
                    .col(maybe_time(Notifications::NextAttemptAt))
                    .col(time(Notifications::CreatedAt))
                    .col(time(Notifications::UpdatedAt))
                    .col(maybe_time(Notifications::SentAt))
                    .check(Check::named(
                        "ck_notifications_status",
                        Expr::col(Notifications::Status).is_in(["pending", "sent", "failed"]),
                    ))
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        for index in [
            "CREATE INDEX ix_notifications_user ON notifications (user_id, created_at)",
            "CREATE INDEX ix_notifications_created ON notifications (created_at)",
            // The delivery task's scan: pending rows by due time.
            "CREATE INDEX ix_notifications_due ON notifications (next_attempt_at) \
             WHERE status = 'pending'",
        ] {
            connection.execute_unprepared(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await
    }
}
