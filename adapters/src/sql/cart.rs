//! [`CartStore`] on sea-orm: one `carts` row per user, saved with a version check.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::UserId;
use emporium_domain::orders::{Cart, CartStore, CartStoreError};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::errors::DbResultExt;
use super::migration::Carts;
use crate::cart_codec;

/// Keeps carts in the `carts` table (SQLite or PostgreSQL): carts survive restarts.
///
/// [`save`](CartStore::save) is one conditional statement: an `INSERT … ON CONFLICT
/// DO NOTHING` for a new cart, an `UPDATE … WHERE version = n` for a stored one; no
/// row changed means another request saved first ([`CartStoreError::Changed`]).
#[derive(Debug, Clone)]
pub struct SqlCartStore {
    db: DatabaseConnection,
}

impl SqlCartStore {
    /// Carts on `db` (migrated with [`super::migrate`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl CartStore for SqlCartStore {
    async fn get(&self, owner: UserId) -> Result<Option<Cart>, CartStoreError> {
        let context = || format!("loading the cart of user {owner}");
        let select = Query::select()
            .columns([Carts::Lines, Carts::Version, Carts::UpdatedAt])
            .from(Carts::Table)
            .and_where(Expr::col(Carts::OwnerId).eq(owner.0))
            .to_owned();
        let Some(row) = self.db.query_one(&select).await.or_store_error(context)? else {
            return Ok(None);
        };
        let lines: String = row.try_get("", "lines").or_store_error(context)?;
        let version: i64 = row.try_get("", "version").or_store_error(context)?;
        let updated_at: DateTime<Utc> = row.try_get("", "updated_at").or_store_error(context)?;
        Ok(Some(cart_codec::decode(
            owner, &lines, updated_at, version,
        )?))
    }

    async fn save(&self, cart: &Cart) -> Result<Cart, CartStoreError> {
        let owner = cart.owner();
        let lines = cart_codec::encode_lines(cart)?;
        let updated_at = super::to_stored_time(cart.updated_at());
        let next = i64::try_from(cart.version() + 1)
            .map_err(|_| anyhow::anyhow!("cart version overflow"))?;
        let changed = if cart.version() == 0 {
            let insert = Query::insert()
                .into_table(Carts::Table)
                .columns([
                    Carts::OwnerId,
                    Carts::Lines,
                    Carts::Version,
                    Carts::UpdatedAt,
                ])
                .values_panic([
                    owner.0.into(),
                    lines.clone().into(),
                    next.into(),
                    updated_at.into(),
                ])
                .on_conflict(OnConflict::column(Carts::OwnerId).do_nothing().to_owned())
                .to_owned();
            self.db.execute(&insert).await
        } else {
            let update = Query::update()
                .table(Carts::Table)
                .value(Carts::Lines, lines.clone())
                .value(Carts::Version, next)
                .value(Carts::UpdatedAt, updated_at)
                .and_where(Expr::col(Carts::OwnerId).eq(owner.0))
                .and_where(Expr::col(Carts::Version).eq(next - 1))
                .to_owned();
            self.db.execute(&update).await
        }
        .or_store_error(|| format!("saving the cart of user {owner}"))?
        .rows_affected();
        if changed == 0 {
            return Err(CartStoreError::Changed);
        }
        Ok(cart_codec::saved(cart, updated_at, cart.version() + 1)?)
    }

    async fn delete(&self, owner: UserId) -> Result<(), CartStoreError> {
        let delete = Query::delete()
            .from_table(Carts::Table)
            .and_where(Expr::col(Carts::OwnerId).eq(owner.0))
            .to_owned();
        self.db
            .execute(&delete)
            .await
            .or_store_error(|| format!("deleting the cart of user {owner}"))?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), CartStoreError> {
        Ok(super::ping_store(&self.db).await?)
    }
}
