//! [`InventoryRepository`] on sea-orm.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{
    InventoryItem, InventoryRepository, InventoryRepositoryError, Quantity, QuantityDelta,
};
use emporium_domain::{Page, PageRequest};

use crate::stock_adjustment::{adjust_stock, delete_stock};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder,
};

use super::entities::inventory::{self, Column, Entity};
use super::errors::{DbResultExt, Violation, store_error, violation};
use crate::store_error::StoreError;

/// Stores stock records in the `inventory` table (SQLite or PostgreSQL).
///
/// [`adjust`](InventoryRepository::adjust) is one conditional `UPDATE … RETURNING`,
/// so concurrent changes can never take stock below the reserved quantity or above
/// [`Quantity::MAX`]; the table's CHECK constraints guard the same invariants.
#[derive(Debug, Clone)]
pub struct SqlInventoryRepository {
    db: DatabaseConnection,
}

impl SqlInventoryRepository {
    /// A repository on `db` (migrated with [`super::migrate`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The conditional update; `None` when no row matched.
    async fn try_adjust(
        &self,
        product_id: ProductId,
        delta: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<InventoryItem>, StoreError> {
        let on_hand_after = || Expr::col(Column::OnHand).add(delta);
        let statement = Query::update()
            .table(Entity)
            .value(Column::OnHand, on_hand_after())
            .value(Column::UpdatedAt, super::to_stored_time(at))
            .and_where(Column::ProductId.eq(product_id.0))
            .and_where(on_hand_after().gte(Expr::col(Column::Reserved)))
            .and_where(on_hand_after().lte(Quantity::MAX))
            .returning_all()
            .to_owned();
        let row = self
            .db
            .query_one(&statement)
            .await
            .or_store_error(|| "running the conditional stock update")?;
        let item = row.map(|row| {
            let model = inventory::Model::from_query_result(&row, "")
                .context("reading the updated stock record")?;
            to_domain(model)
        });
        Ok(item.transpose()?)
    }

    /// Deletes the record if nothing of it is reserved; whether a row went.
    async fn try_delete(&self, product_id: ProductId) -> Result<bool, StoreError> {
        let result = Entity::delete_many()
            .filter(Column::ProductId.eq(product_id.0))
            .filter(Column::Reserved.eq(0))
            .exec(&self.db)
            .await
            .or_store_error(|| format!("deleting the stock record of product {product_id}"))?;
        Ok(result.rows_affected > 0)
    }
}

fn to_domain(row: inventory::Model) -> anyhow::Result<InventoryItem> {
    let product_id = row.product_id;
    InventoryItem::new(
        ProductId(product_id),
        Quantity::new(row.on_hand).context("stored on-hand quantity is out of range")?,
        Quantity::new(row.reserved).context("stored reserved quantity is out of range")?,
        row.updated_at,
    )
    .context("stored stock record is inconsistent")
    .with_context(|| format!("reading the stock record of product {product_id}"))
}

#[async_trait]
impl InventoryRepository for SqlInventoryRepository {
    async fn create(&self, item: &InventoryItem) -> Result<(), InventoryRepositoryError> {
        let row = inventory::ActiveModel {
            product_id: Set(item.product_id().0),
            on_hand: Set(item.on_hand().value()),
            reserved: Set(item.reserved().value()),
            updated_at: Set(super::to_stored_time(item.updated_at())),
        };
        match Entity::insert(row).exec_without_returning(&self.db).await {
            Ok(_) => Ok(()),
            Err(err) => match violation(&err) {
                Some(Violation::Unique { .. }) => {
                    Err(InventoryRepositoryError::AlreadyExists(item.product_id()))
                }
                _ => Err(store_error(
                    err,
                    format!("creating the stock record of product {}", item.product_id()),
                )
                .into()),
            },
        }
    }

    async fn get(
        &self,
        product_id: ProductId,
    ) -> Result<Option<InventoryItem>, InventoryRepositoryError> {
        let row = Entity::find_by_id(product_id.0)
            .one(&self.db)
            .await
            .or_store_error(|| format!("loading the stock record of product {product_id}"))?;
        Ok(row.map(to_domain).transpose()?)
    }

    async fn list(
        &self,
        page: PageRequest,
    ) -> Result<Page<InventoryItem>, InventoryRepositoryError> {
        let select = Entity::find().order_by_asc(Column::ProductId);
        Ok(super::fetch_page(&self.db, select, page, "stock records", to_domain).await?)
    }

    async fn adjust(
        &self,
        product_id: ProductId,
        delta: QuantityDelta,
        at: DateTime<Utc>,
    ) -> Result<InventoryItem, InventoryRepositoryError> {
        adjust_stock(
            product_id,
            delta,
            at,
            move || async move { Ok(self.try_adjust(product_id, delta.value(), at).await?) },
            move || self.get(product_id),
        )
        .await
    }

    async fn delete(&self, product_id: ProductId) -> Result<(), InventoryRepositoryError> {
        delete_stock(
            product_id,
            move || async move { Ok(self.try_delete(product_id).await?) },
            move || self.get(product_id),
        )
        .await
    }

    async fn ping(&self) -> Result<(), InventoryRepositoryError> {
        Ok(super::ping_store(&self.db).await?)
    }
}
