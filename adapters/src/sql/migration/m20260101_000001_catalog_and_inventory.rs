//! Tables `categories`, `products` and `inventory`.

use emporium_domain::inventory::Quantity;
use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

/// Creates the catalog and inventory tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    Name,
    Slug,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Name,
    Description,
    Price,
    Sku,
    Images,
    Active,
    CategoryId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Inventory {
    Table,
    ProductId,
    OnHand,
    Reserved,
    UpdatedAt,
}

/// Names of the constraints and indexes whose violations the repositories translate.
pub(crate) mod names {
    /// Unique index on `categories.name`.
    pub const CATEGORIES_NAME: &str = "uq_categories_name";
    /// Unique index on `categories.slug`.
    pub const CATEGORIES_SLUG: &str = "uq_categories_slug";
    /// Unique index on `products.sku`.
    pub const PRODUCTS_SKU: &str = "uq_products_sku";
    /// Foreign key `products.category_id → categories.id`.
    pub const PRODUCTS_CATEGORY_FK: &str = "fk_products_category";
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = manager.get_database_backend() == DbBackend::Sqlite;

        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(
                        ColumnDef::new(Categories::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Categories::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Categories::Slug).string_len(100).not_null())
                    .col(
                        ColumnDef::new(Categories::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (names::CATEGORIES_NAME, Categories::Name),
            (names::CATEGORIES_SLUG, Categories::Slug),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Categories::Table)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }

        let mut price = ColumnDef::new(Products::Price);
        if sqlite {
            // sea-orm would store a decimal as REAL on SQLite; keep the exact text
            // instead ("decimal_text" has TEXT affinity).
            price.custom(Alias::new("decimal_text"));
        } else {
            price.decimal_len(12, 2);
        }
        price.not_null();
        let mut images = ColumnDef::new(Products::Images);
        images.json_binary().not_null();
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(ColumnDef::new(Products::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Products::Name).string_len(255).not_null())
                    .col(ColumnDef::new(Products::Description).text().not_null())
                    .col(price)
                    .col(ColumnDef::new(Products::Sku).string_len(64).not_null())
                    .col(images)
                    .col(ColumnDef::new(Products::Active).boolean().not_null())
                    .col(ColumnDef::new(Products::CategoryId).uuid().null())
                    .col(
                        ColumnDef::new(Products::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name(names::PRODUCTS_CATEGORY_FK)
                            .from(Products::Table, Products::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .on_update(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(names::PRODUCTS_SKU)
                    .table(Products::Table)
                    .col(Products::Sku)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_products_category_id", Products::CategoryId),
            ("ix_products_created_at", Products::CreatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Products::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Inventory::Table)
                    .col(
                        ColumnDef::new(Inventory::ProductId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Inventory::OnHand).big_integer().not_null())
                    .col(ColumnDef::new(Inventory::Reserved).big_integer().not_null())
                    .col(
                        ColumnDef::new(Inventory::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .check(Check::named(
                        "ck_inventory_on_hand_non_negative",
                        Expr::col(Inventory::OnHand).gte(0),
                    ))
                    .check(Check::named(
                        "ck_inventory_on_hand_max",
                        Expr::col(Inventory::OnHand).lte(Quantity::MAX),
                    ))
                    .check(Check::named(
                        "ck_inventory_reserved_non_negative",
                        Expr::col(Inventory::Reserved).gte(0),
                    ))
                    .check(Check::named(
                        "ck_inventory_reserved_within_on_hand",
                        Expr::col(Inventory::Reserved).lte(Expr::col(Inventory::OnHand)),
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Inventory::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Products::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Categories::Table).to_owned())
            .await?;
        Ok(())
    }
}
