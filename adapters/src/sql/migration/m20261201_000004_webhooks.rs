//! Tables `webhooks` (subscriptions) and `webhook_deliveries` (one per event and
//! subscription: unique `(webhook_id, event_id)`, with the attempt log as JSON).
//! New tables only (expand).

use sea_orm_migration::prelude::*;

/// Creates the webhook tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Webhooks {
    Table,
    Id,
    Url,
    Events,
    Description,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    Enabled,
    DisabledReason,
    ConsecutiveFailures,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    EventId,
    EventType,
    MessageId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    Log,
    CreatedAt,
    UpdatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        fn text<T: IntoIden>(column: T) -> ColumnDef {
            ColumnDef::new(column).text().not_null().to_owned()
        }
        fn time<T: IntoIden>(column: T, null: bool) -> ColumnDef {
            let mut column = ColumnDef::new(column);
            column.timestamp_with_time_zone();
            if null {
                column.null();
            } else {
                column.not_null();
            }
            column
        }
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(ColumnDef::new(Webhooks::Id).uuid().not_null().primary_key())
                    .col(text(Webhooks::Url))
                    .col(text(Webhooks::Events))
                    .col(text(Webhooks::Description))
                    .col(text(Webhooks::Secret))
                    .col(ColumnDef::new(Webhooks::PreviousSecret).text().null())
                    .col(time(Webhooks::PreviousSecretUntil, true))
                    .col(ColumnDef::new(Webhooks::Enabled).boolean().not_null())
                    .col(ColumnDef::new(Webhooks::DisabledReason).text().null())
                    .col(
                        ColumnDef::new(Webhooks::ConsecutiveFailures)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(time(Webhooks::CreatedAt, false))
                    .col(time(Webhooks::UpdatedAt, false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(
                        ColumnDef::new(WebhookDeliveries::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::WebhookId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::EventId).uuid().not_null())
                    .col(text(WebhookDeliveries::EventType))
                    .col(text(WebhookDeliveries::MessageId))
                    .col(text(WebhookDeliveries::Payload))
                    .col(text(WebhookDeliveries::Status))
                    .col(
                        ColumnDef::new(WebhookDeliveries::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(time(WebhookDeliveries::NextAttemptAt, true))
                    .col(text(WebhookDeliveries::Log))
                    .col(time(WebhookDeliveries::CreatedAt, false))
                    .col(time(WebhookDeliveries::UpdatedAt, false))
                    .col(time(WebhookDeliveries::DeliveredAt, true))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_webhook")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Check::named(
                        "ck_webhook_deliveries_status",
                        Expr::col(WebhookDeliveries::Status).is_in([
                            "pending",
                            "succeeded",
                            "failed",
                        ]),
                    ))
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        for index in [
            "CREATE UNIQUE INDEX uq_webhook_deliveries_event \
             ON webhook_deliveries (webhook_id, event_id)",
            "CREATE INDEX ix_webhook_deliveries_log \
             ON webhook_deliveries (webhook_id, created_at)",
            "CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) \
             WHERE status = 'pending'",
        ] {
            connection.execute_unprepared(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Webhooks::Table).to_owned())
            .await
    }
}
