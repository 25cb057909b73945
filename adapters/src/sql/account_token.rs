//! [`AccountTokenRepository`] on sea-orm: hashes of mailed single-use tokens,
//! used up by one conditional update.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::UserId;
use emporium_domain::accounts::{
    AccountToken, AccountTokenPurpose, AccountTokenRepository, AccountTokenRepositoryError,
    RefreshTokenHash,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::errors::DbResultExt;
use super::migration::AccountTokens;
use super::to_stored_time;

/// The token store (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct SqlAccountTokenRepository {
    db: DatabaseConnection,
}

impl SqlAccountTokenRepository {
    /// The store on `db` (migrated).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AccountTokenRepository for SqlAccountTokenRepository {
    async fn insert(&self, token: &AccountToken) -> Result<(), AccountTokenRepositoryError> {
        let insert = Query::insert()
            .into_table(AccountTokens::Table)
            .columns([
                AccountTokens::Id,
                AccountTokens::UserId,
                AccountTokens::Purpose,
                AccountTokens::TokenHash,
                AccountTokens::ExpiresAt,
                AccountTokens::CreatedAt,
            ])
            .values_panic([
                token.id.into(),
                token.user_id.0.into(),
                token.purpose.as_str().into(),
                token.token_hash.as_str().into(),
                to_stored_time(token.expires_at).into(),
                to_stored_time(token.created_at).into(),
            ])
            .to_owned();
        self.db
            .execute(&insert)
            .await
            .or_store_error(|| format!("storing account token {}", token.id))?;
        Ok(())
    }

    async fn consume(
        &self,
        purpose: AccountTokenPurpose,
        hash: &RefreshTokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, AccountTokenRepositoryError> {
        let now = to_stored_time(now);
        let consume = Query::update()
            .table(AccountTokens::Table)
            .value(AccountTokens::UsedAt, now)
            .and_where(Expr::col(AccountTokens::TokenHash).eq(hash.as_str()))
            .and_where(Expr::col(AccountTokens::Purpose).eq(purpose.as_str()))
            .and_where(Expr::col(AccountTokens::UsedAt).is_null())
            .and_where(Expr::col(AccountTokens::ExpiresAt).gt(now))
            .to_owned();
        let used = self
            .db
            .execute(&consume)
            .await
            .or_store_error(|| "using an account token")?
            .rows_affected();
        if used == 0 {
            return Ok(None);
        }
        let select = Query::select()
            .column(AccountTokens::UserId)
            .from(AccountTokens::Table)
            .and_where(Expr::col(AccountTokens::TokenHash).eq(hash.as_str()))
            .to_owned();
        let row = self
            .db
            .query_one(&select)
            .await
            .or_store_error(|| "reading a used account token")?;
        Ok(row
            .map(|row| row.try_get::<Uuid>("", "user_id").map(UserId))
            .transpose()
            .or_store_error(|| "reading a used account token")?)
    }

    async fn revoke_all(
        &self,
        user: UserId,
        purpose: AccountTokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<(), AccountTokenRepositoryError> {
        let revoke = Query::update()
            .table(AccountTokens::Table)
            .value(AccountTokens::UsedAt, to_stored_time(now))
            .and_where(Expr::col(AccountTokens::UserId).eq(user.0))
            .and_where(Expr::col(AccountTokens::Purpose).eq(purpose.as_str()))
            .and_where(Expr::col(AccountTokens::UsedAt).is_null())
            .to_owned();
        self.db
            .execute(&revoke)
            .await
            .or_store_error(|| format!("revoking the account tokens of user {user}"))?;
        Ok(())
    }
}
