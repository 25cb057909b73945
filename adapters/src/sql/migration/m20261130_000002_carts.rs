//! Table `carts`: one row per user, its lines as JSON text, a version for optimistic
//! saves.

use sea_orm_migration::prelude::*;

/// Creates the carts table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Carts {
    Table,
    OwnerId,
    Lines,
    Version,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Carts::Table)
                    .col(
                        ColumnDef::new(Carts::OwnerId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Carts::Lines).text().not_null())
                    .col(ColumnDef::new(Carts::Version).big_integer().not_null())
                    .col(
                        ColumnDef::new(Carts::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Check::named(
                        "ck_carts_version_positive",
                        Expr::col(Carts::Version).gt(0),
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Carts::Table).to_owned())
            .await
    }
}
