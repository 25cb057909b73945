//! Who moved a shipment: `dispatched_by` and `delivered_by` on `shipments`, so the
//! order's audit trail names the admin (or the carrier's callback) behind the order
//! move the shipment's event causes. Added columns only (expand): replicas of the
//! previous version keep working beside this one.

use sea_orm_migration::prelude::*;

use super::m20261130_000004_orders::Shipments;

/// Adds the shipment actor columns.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [Shipments::DispatchedBy, Shipments::DeliveredBy] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Shipments::Table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Shipments::DispatchedBy, Shipments::DeliveredBy] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Shipments::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
