//! [`UserRepository`] on sea-orm.

use anyhow::{Context, bail};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::access::{Role, UserId};
use emporium_domain::accounts::{
    DisplayName, Email, PasswordHash, User, UserRepository, UserRepositoryError,
};
use emporium_domain::{Page, PageRequest};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::user::{self, Column, Entity};
use super::errors::{DbResultExt, store_error, violation};
use super::migration::account_names as names;

/// Stores user accounts in the `users` table (SQLite or PostgreSQL).
///
/// E-mail addresses are stored as [`Email`] normalised them and are unique (a unique
/// index, so concurrent registrations with one address cannot both succeed). Rows are
/// read back through the domain constructors: a row that no longer satisfies them is
/// reported as `Unexpected`, naming the user.
#[derive(Debug, Clone)]
pub struct SqlUserRepository {
    db: DatabaseConnection,
}

impl SqlUserRepository {
    /// A repository on `db` (migrated with [`super::migrate`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Maps a failed write of `user` to the port's error.
    fn write_error(err: DbErr, user: &User, action: &str) -> UserRepositoryError {
        match violation(&err) {
            Some(v) if v.is_unique(names::USERS_EMAIL, "users", "email") => {
                UserRepositoryError::DuplicateEmail
            }
            _ => store_error(err, format!("{action} user {}", user.id)).into(),
        }
    }
}

/// The stored text of `role`.
fn role_text(role: Role) -> &'static str {
    match role {
        Role::Customer => "customer",
        Role::Admin => "admin",
    }
}

/// The role stored as `text`.
fn parse_role(text: &str) -> anyhow::Result<Role> {
    match text {
        "customer" => Ok(Role::Customer),
        "admin" => Ok(Role::Admin),
        other => bail!("stored role {other:?} is unknown"),
    }
}

fn to_domain(row: user::Model) -> anyhow::Result<User> {
    let id = row.id;
    convert(row).with_context(|| format!("reading user {id}"))
}

fn convert(row: user::Model) -> anyhow::Result<User> {
    Ok(User {
        id: UserId(row.id),
        email: Email::parse(&row.email).context("stored e-mail address is invalid")?,
        name: DisplayName::new(row.name).context("stored display name is invalid")?,
        role: parse_role(&row.role)?,
        active: row.active,
        email_verified: row.email_verified,
        password_hash: PasswordHash::new(row.password_hash),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The row written for `user` (every column set).
fn active_model(user: &User) -> user::ActiveModel {
    user::ActiveModel {
        id: Set(user.id.0),
        email: Set(user.email.as_str().to_owned()),
        name: Set(user.name.as_str().to_owned()),
        role: Set(role_text(user.role).to_owned()),
        active: Set(user.active),
        email_verified: Set(user.email_verified),
        password_hash: Set(user.password_hash.as_str().to_owned()),
        created_at: Set(super::to_stored_time(user.created_at)),
        updated_at: Set(super::to_stored_time(user.updated_at)),
    }
}

#[async_trait]
impl UserRepository for SqlUserRepository {
    async fn insert(&self, user: &User) -> Result<(), UserRepositoryError> {
        Entity::insert(active_model(user))
            .exec_without_returning(&self.db)
            .await
            .map_err(|err| Self::write_error(err, user, "inserting"))?;
        Ok(())
    }

    async fn get(&self, id: UserId) -> Result<Option<User>, UserRepositoryError> {
        let row = Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .or_store_error(|| format!("loading user {id}"))?;
        Ok(row.map(to_domain).transpose()?)
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, UserRepositoryError> {
        let row = Entity::find()
            .filter(Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await
            .or_store_error(|| "looking up a user by e-mail address")?;
        Ok(row.map(to_domain).transpose()?)
    }

    async fn list(&self, page: PageRequest) -> Result<Page<User>, UserRepositoryError> {
        // Oldest first; ties broken by id, so paging is stable.
        let select = Entity::find()
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id);
        Ok(super::fetch_page(&self.db, select, page, "users", to_domain).await?)
    }

    /// Replaces every mutable column (e-mail, name, role, active flag, password hash,
    /// `updated_at`); the id and `created_at` are kept as inserted.
    async fn update(&self, user: &User) -> Result<(), UserRepositoryError> {
        let row = user::ActiveModel {
            id: NotSet,
            created_at: NotSet,
            ..active_model(user)
        };
        let result = Entity::update_many()
            .set(row)
            .filter(Column::Id.eq(user.id.0))
            .exec(&self.db)
            .await
            .map_err(|err| Self::write_error(err, user, "updating"))?;
        if result.rows_affected == 0 {
            return Err(UserRepositoryError::NotFound(user.id));
        }
        Ok(())
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, UserRepositoryError> {
        let result = Entity::update_many()
            .col_expr(Column::PasswordHash, Expr::value(hash.as_str()))
            .col_expr(Column::UpdatedAt, Expr::value(super::to_stored_time(at)))
            .filter(Column::Id.eq(id.0))
            .filter(Column::Active.eq(true))
            .exec(&self.db)
            .await
            .or_store_error(|| format!("setting the password of user {id}"))?;
        Ok(result.rows_affected == 1)
    }

    async fn mark_email_verified(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), UserRepositoryError> {
        Entity::update_many()
            .col_expr(Column::EmailVerified, Expr::value(true))
            .col_expr(Column::UpdatedAt, Expr::value(super::to_stored_time(at)))
            .filter(Column::Id.eq(id.0))
            .filter(Column::EmailVerified.eq(false))
            .exec(&self.db)
            .await
            .or_store_error(|| format!("verifying the address of user {id}"))?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), UserRepositoryError> {
        Ok(super::ping_store(&self.db).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_role, role_text};
    use emporium_domain::access::Role;

    #[test]
    fn roles_round_trip_through_their_stored_text() {
        for role in [Role::Customer, Role::Admin] {
            assert_eq!(parse_role(role_text(role)).unwrap(), role);
        }
        assert!(parse_role("root").is_err());
        assert!(parse_role("Admin").is_err());
    }
}
