//! [`RefreshTokenRepository`] on sea-orm.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::access::UserId;
use emporium_domain::accounts::{
    RefreshTokenHash, RefreshTokenRecord, RefreshTokenRepository, RefreshTokenRepositoryError,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::entities::refresh_token::{self, Column, Entity};
use super::errors::DbResultExt;
use crate::store_error::StoreError;

/// Stores refresh-token records in the `refresh_tokens` table (SQLite or PostgreSQL).
///
/// Only the token's hash is stored. [`mark_used`](RefreshTokenRepository::mark_used) is
/// one conditional `UPDATE … WHERE id = $id AND used_at IS NULL AND revoked_at IS
/// NULL AND NOT EXISTS (a revoked token of the same family)`: the database serialises
/// concurrent updates of the row and re-checks the condition, so of any number of
/// concurrent calls with one token exactly one sees a changed row; and a token issued
/// into a family just after the family was revoked (a refresh racing a replay) is
/// refused as well. Revocations only fill `revoked_at` where it is still empty, so
/// they are idempotent and keep the time of the first revocation.
#[derive(Debug, Clone)]
pub struct SqlRefreshTokenRepository {
    db: DatabaseConnection,
}

impl SqlRefreshTokenRepository {
    /// A repository on `db` (migrated with [`super::migrate`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Sets `revoked_at = at` on every not-yet-revoked token matching `scope`.
    async fn revoke(
        &self,
        scope: Condition,
        at: DateTime<Utc>,
        what: String,
    ) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::RevokedAt, Expr::value(super::to_stored_time(at)))
            .filter(scope)
            .filter(Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .or_store_error(|| what)?;
        Ok(())
    }
}

fn to_domain(row: refresh_token::Model) -> RefreshTokenRecord {
    RefreshTokenRecord {
        id: row.id,
        family_id: row.family_id,
        user_id: UserId(row.user_id),
        token_hash: RefreshTokenHash::new(row.token_hash),
        issued_at: row.issued_at,
        expires_at: row.expires_at,
        used_at: row.used_at,
        revoked_at: row.revoked_at,
    }
}

#[async_trait]
impl RefreshTokenRepository for SqlRefreshTokenRepository {
    /// Errors: `Unexpected`, also when the id or the hash is already stored or the
    /// user does not exist.
    async fn insert(&self, record: &RefreshTokenRecord) -> Result<(), RefreshTokenRepositoryError> {
        let row = refresh_token::ActiveModel {
            id: Set(record.id),
            family_id: Set(record.family_id),
            user_id: Set(record.user_id.0),
            token_hash: Set(record.token_hash.as_str().to_owned()),
            issued_at: Set(super::to_stored_time(record.issued_at)),
            expires_at: Set(super::to_stored_time(record.expires_at)),
            used_at: Set(record.used_at.map(super::to_stored_time)),
            revoked_at: Set(record.revoked_at.map(super::to_stored_time)),
        };
        Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
            .or_store_error(|| {
                format!(
                    "inserting refresh token {} of user {}",
                    record.id, record.user_id
                )
            })?;
        Ok(())
    }

    async fn get(
        &self,
        id: Uuid,
    ) -> Result<Option<RefreshTokenRecord>, RefreshTokenRepositoryError> {
        let row = Entity::find_by_id(id)
            .one(&self.db)
            .await
            .or_store_error(|| format!("loading refresh token {id}"))?;
        Ok(row.map(to_domain))
    }

    async fn mark_used(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, RefreshTokenRepositoryError> {
        // `NOT EXISTS (SELECT 1 FROM refresh_tokens AS sibling WHERE sibling.family_id =
        // refresh_tokens.family_id AND sibling.user_id = refresh_tokens.user_id AND
        // sibling.revoked_at IS NOT NULL)`: a family is one user's session.
        let sibling = Alias::new("sibling");
        let family_revoked = Query::select()
            .expr(Expr::val(1))
            .from_as(Entity, sibling.clone())
            .and_where(
                Expr::col((sibling.clone(), Column::FamilyId)).equals((Entity, Column::FamilyId)),
            )
            .and_where(
                Expr::col((sibling.clone(), Column::UserId)).equals((Entity, Column::UserId)),
            )
            .and_where(Expr::col((sibling, Column::RevokedAt)).is_not_null())
            .to_owned();
        let result = Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(super::to_stored_time(at)))
            .filter(Column::Id.eq(id))
            .filter(Column::UsedAt.is_null())
            .filter(Column::RevokedAt.is_null())
            .filter(Expr::exists(family_revoked).not())
            .exec(&self.db)
            .await
            .or_store_error(|| format!("marking refresh token {id} used"))?;
        Ok(result.rows_affected == 1)
    }

    async fn revoke_family(
        &self,
        family_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), RefreshTokenRepositoryError> {
        self.revoke(
            Condition::all().add(Column::FamilyId.eq(family_id)),
            at,
            format!("revoking refresh-token family {family_id}"),
        )
        .await?;
        Ok(())
    }

    async fn revoke_all_for_user(
        &self,
        user_id: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), RefreshTokenRepositoryError> {
        self.revoke(
            Condition::all().add(Column::UserId.eq(user_id.0)),
            at,
            format!("revoking the refresh tokens of user {user_id}"),
        )
        .await?;
        Ok(())
    }
}
