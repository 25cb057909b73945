//! The purchase flow's tables: `orders`, `order_events` (audit trail), `shipments`,
//! `order_attempts` (the saga's first step), `outbox` and `processed_events`
//! (events and who applied them), and `idempotency_keys`.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

/// Creates the purchase-flow tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Orders {
    Table,
    Id,
    UserId,
    Email,
    Lines,
    Total,
    Currency,
    ShippingAddress,
    Status,
    PayBy,
    CancelReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum OrderEvents {
    Table,
    Id,
    OrderId,
    Kind,
    FromStatus,
    ToStatus,
    Actor,
    Detail,
    OccurredAt,
}

#[derive(DeriveIden)]
pub(crate) enum Shipments {
    Table,
    Id,
    OrderId,
    UserId,
    Status,
    Carrier,
    TrackingNumber,
    /// Added by `m20261130_000006_shipment_actors`.
    DispatchedBy,
    /// Added by `m20261130_000006_shipment_actors`.
    DeliveredBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum OrderAttempts {
    Table,
    OrderId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Outbox {
    Table,
    Position,
    EventId,
    EventType,
    Payload,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
pub(crate) enum ProcessedEvents {
    Table,
    Consumer,
    EventId,
    ProcessedAt,
}

#[derive(DeriveIden)]
pub(crate) enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    Fingerprint,
    OrderId,
    HeldUntil,
    CreatedAt,
    CompletedAt,
}

fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn optional_timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn uuid(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).uuid().not_null().to_owned()
}

fn text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).text().not_null().to_owned()
}

fn optional_text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).text().null().to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = manager.get_database_backend() == DbBackend::Sqlite;
        let mut total = ColumnDef::new(Orders::Total);
        if sqlite {
            // Exact decimal text on SQLite, as product prices.
            total.custom(Alias::new("decimal_text"));
        } else {
            // 50 lines × 99 units × 9,999,999,999.99 fits.
            total.decimal_len(18, 2);
        }
        total.not_null();

        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(uuid(Orders::Id).primary_key())
                    .col(uuid(Orders::UserId))
                    .col(text(Orders::Email))
                    // JSON array of lines (product, SKU, name, unit price, quantity).
                    .col(text(Orders::Lines))
                    .col(total)
                    .col(text(Orders::Currency))
                    // JSON object of the address parts.
                    .col(text(Orders::ShippingAddress))
                    .col(text(Orders::Status))
                    .col(timestamp(Orders::PayBy))
                    .col(optional_text(Orders::CancelReason))
                    .col(timestamp(Orders::CreatedAt))
                    .col(timestamp(Orders::UpdatedAt))
                    .check(Check::named(
                        "ck_orders_status",
                        Expr::col(Orders::Status).is_in([
                            "pending",
                            "paid",
                            "shipped",
                            "delivered",
                            "cancelled",
                        ]),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_orders_user_id_status",
            Orders::Table,
            vec![Orders::UserId.into_iden(), Orders::Status.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "ix_orders_status_pay_by",
            Orders::Table,
            vec![Orders::Status.into_iden(), Orders::PayBy.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "ix_orders_created_at",
            Orders::Table,
            vec![Orders::CreatedAt.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderEvents::Table)
                    .col(uuid(OrderEvents::Id).primary_key())
                    .col(uuid(OrderEvents::OrderId))
                    .col(text(OrderEvents::Kind))
                    .col(optional_text(OrderEvents::FromStatus))
                    .col(text(OrderEvents::ToStatus))
                    .col(text(OrderEvents::Actor))
                    .col(optional_text(OrderEvents::Detail))
                    .col(timestamp(OrderEvents::OccurredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_events_order")
                            .from(OrderEvents::Table, OrderEvents::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_order_events_order_id",
            OrderEvents::Table,
            vec![OrderEvents::OrderId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Shipments::Table)
                    .col(uuid(Shipments::Id).primary_key())
                    .col(uuid(Shipments::OrderId))
                    .col(uuid(Shipments::UserId))
                    .col(text(Shipments::Status))
                    .col(optional_text(Shipments::Carrier))
                    .col(optional_text(Shipments::TrackingNumber))
                    .col(timestamp(Shipments::CreatedAt))
                    .col(timestamp(Shipments::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_shipments_order")
                            .from(Shipments::Table, Shipments::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Check::named(
                        "ck_shipments_status",
                        Expr::col(Shipments::Status).is_in([
                            "pending_payment",
                            "ready_to_ship",
                            "dispatched",
                            "delivered",
                            "cancelled",
                        ]),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_shipments_order_id",
            Shipments::Table,
            vec![Shipments::OrderId.into_iden()],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderAttempts::Table)
                    .col(uuid(OrderAttempts::OrderId).primary_key())
                    .col(uuid(OrderAttempts::UserId))
                    .col(timestamp(OrderAttempts::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_order_attempts_created_at",
            OrderAttempts::Table,
            vec![OrderAttempts::CreatedAt.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(
                        ColumnDef::new(Outbox::Position)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(uuid(Outbox::EventId))
                    .col(text(Outbox::EventType))
                    // The event's envelope as JSON (design §6).
                    .col(text(Outbox::Payload))
                    .col(timestamp(Outbox::CreatedAt))
                    .col(optional_timestamp(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_outbox_event_id",
            Outbox::Table,
            vec![Outbox::EventId.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "ix_outbox_sent_at_position",
            Outbox::Table,
            vec![Outbox::SentAt.into_iden(), Outbox::Position.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProcessedEvents::Table)
                    .col(text(ProcessedEvents::Consumer))
                    .col(uuid(ProcessedEvents::EventId))
                    .col(timestamp(ProcessedEvents::ProcessedAt))
                    .primary_key(
                        Index::create()
                            .col(ProcessedEvents::Consumer)
                            .col(ProcessedEvents::EventId),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::UserId))
                    .col(text(IdempotencyKeys::Key))
                    .col(text(IdempotencyKeys::Fingerprint))
                    .col(ColumnDef::new(IdempotencyKeys::OrderId).uuid().null())
                    .col(timestamp(IdempotencyKeys::HeldUntil))
                    .col(timestamp(IdempotencyKeys::CreatedAt))
                    .col(optional_timestamp(IdempotencyKeys::CompletedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::UserId)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            ProcessedEvents::Table.into_iden(),
            Outbox::Table.into_iden(),
            OrderAttempts::Table.into_iden(),
            Shipments::Table.into_iden(),
            OrderEvents::Table.into_iden(),
            Orders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
