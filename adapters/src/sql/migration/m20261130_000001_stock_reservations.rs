//! Tables `stock_reservations` and `stock_reservation_lines`: the stock each order
//! holds, keyed by order id so every reservation action is idempotent.

use sea_orm_migration::prelude::*;

/// Creates the reservation tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum StockReservations {
    Table,
    OrderId,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum StockReservationLines {
    Table,
    OrderId,
    ProductId,
    Quantity,
}

fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StockReservations::Table)
                    .col(
                        ColumnDef::new(StockReservations::OrderId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StockReservations::Status).text().not_null())
                    .col(timestamp(StockReservations::CreatedAt))
                    .col(timestamp(StockReservations::UpdatedAt))
                    .check(Check::named(
                        "ck_stock_reservations_status",
                        Expr::col(StockReservations::Status).is_in([
                            "reserved",
                            "committed",
                            "released",
                            "restocked",
                        ]),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StockReservationLines::Table)
                    .col(
                        ColumnDef::new(StockReservationLines::OrderId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StockReservationLines::ProductId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StockReservationLines::Quantity)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(StockReservationLines::OrderId)
                            .col(StockReservationLines::ProductId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stock_reservation_lines_reservation")
                            .from(StockReservationLines::Table, StockReservationLines::OrderId)
                            .to(StockReservations::Table, StockReservations::OrderId)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .check(Check::named(
                        "ck_stock_reservation_lines_quantity",
                        Expr::col(StockReservationLines::Quantity).gt(0),
                    ))
                    .to_owned(),
            )
            .await?;
        // The expiry and recovery tasks look reservations up by status and age.
        manager
            .create_index(
                Index::create()
                    .name("ix_stock_reservations_status_updated_at")
                    .table(StockReservations::Table)
                    .col(StockReservations::Status)
                    .col(StockReservations::UpdatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StockReservationLines::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(StockReservations::Table).to_owned())
            .await?;
        Ok(())
    }
}
