//! Table `payments`: at most one pending or succeeded payment per order (a partial
//! unique index), so two racing "pay" requests cannot both open one.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

use super::m20261130_000004_orders::Orders;

/// Creates the payments table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Payments {
    Table,
    Id,
    OrderId,
    UserId,
    Amount,
    Currency,
    Status,
    ProviderReference,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut amount = ColumnDef::new(Payments::Amount);
        if manager.get_database_backend() == DbBackend::Sqlite {
            amount.custom(Alias::new("decimal_text"));
        } else {
            amount.decimal_len(18, 2);
        }
        amount.not_null();
        let text = |column: Payments| ColumnDef::new(column).text().not_null().to_owned();
        let time = |column: Payments| {
            ColumnDef::new(column)
                .timestamp_with_time_zone()
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(ColumnDef::new(Payments::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Payments::OrderId).uuid().not_null())
                    .col(ColumnDef::new(Payments::UserId).uuid().not_null())
                    .col(amount)
                    .col(text(Payments::Currency))
                    .col(text(Payments::Status))
                    .col(text(Payments::ProviderReference))
                    .col(time(Payments::CreatedAt))
                    .col(time(Payments::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_payments_order")
                            .from(Payments::Table, Payments::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Check::named(
                        "ck_payments_status",
                        Expr::col(Payments::Status).is_in([
                            "pending",
                            "succeeded",
                            "failed",
                            "refunded",
                        ]),
                    ))
                    .to_owned(),
            )
            .await?;
        // Partial indexes read the same on PostgreSQL and SQLite.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_payments_open_per_order ON payments (order_id) \
                 WHERE status IN ('pending', 'succeeded')",
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX ix_payments_order_id ON payments (order_id)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Payments::Table).to_owned())
            .await
    }
}
