//! The contract of the `AccountTokenRepository` port, run unchanged on sea-orm over
//! SQLite and PostgreSQL (SKIP when unset, failure when
//! `EMPORIUM_REQUIRE_SERVICES=1`).

#[macro_use]
mod contract;

use std::sync::Arc;

use emporium_adapters::sql::{SqlAccountTokenRepository, SqlUserRepository};
use emporium_domain::accounts::{AccountTokenRepository, UserRepository};
use sea_orm::DatabaseConnection;

/// The token store, and users to own the tokens.
pub struct Store {
    tokens: Arc<dyn AccountTokenRepository>,
    users: Arc<dyn UserRepository>,
    _guard: contract::Guard,
}

fn store(db: DatabaseConnection, guard: contract::Guard) -> Store {
    Store {
        tokens: Arc::new(SqlAccountTokenRepository::new(db.clone())),
        users: Arc::new(SqlUserRepository::new(db)),
        _guard: guard,
    }
}

/// On SQLite.
pub async fn sqlite_tokens() -> Option<Store> {
    let (dir, db) = contract::sqlite_db().await;
    Some(store(db, Some(dir)))
}

/// On PostgreSQL.
pub async fn postgres_tokens() -> Option<Store> {
    Some(store(contract::postgres_db().await?, None))
}

mod suite {
    use emporium_domain::accounts::{
        AccountToken, AccountTokenPurpose, DisplayName, Email, PasswordHash, RefreshTokenHash, User,
    };
    use emporium_domain::{Role, UserId};
    use uuid::Uuid;

    use super::Store;
    use super::contract::at;

    async fn user(store: &Store) -> UserId {
        let id = UserId(Uuid::new_v4());
        store
            .users
            .insert(&User {
                id,
                email: Email::parse(&format!("{}@example.com", id.0.simple())).unwrap(),
                name: DisplayName::new("Ada").unwrap(),
                role: Role::Customer,
                active: true,
                email_verified: false,
                password_hash: PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
                created_at: at(0),
                updated_at: at(0),
            })
            .await
            .unwrap();
        id
    }

    fn token(user_id: UserId, purpose: AccountTokenPurpose, hash: &str) -> AccountToken {
        AccountToken {
            id: Uuid::new_v4(),
            user_id,
            purpose,
            token_hash: RefreshTokenHash::new(hash),
            expires_at: at(60_000),
            created_at: at(0),
        }
    }

    /// A token is used up once, for its purpose, before it expires; concurrent
    /// uses of one token have one winner.
    pub async fn tokens_work_once_for_their_purpose_before_they_expire(store: &Store) {
        let ada = user(store).await;
        let reset = token(ada, AccountTokenPurpose::PasswordReset, "hash-reset");
        store.tokens.insert(&reset).await.unwrap();
        let hash = RefreshTokenHash::new("hash-reset");
        assert_eq!(
            store
                .tokens
                .consume(AccountTokenPurpose::EmailVerification, &hash, at(1_000))
                .await
                .unwrap(),
            None,
            "another purpose"
        );
        let uses = (0..6).map(|_| {
            let tokens = store.tokens.clone();
            let hash = hash.clone();
            tokio::spawn(async move {
                tokens
                    .consume(AccountTokenPurpose::PasswordReset, &hash, at(1_000))
                    .await
                    .unwrap()
            })
        });
        let mut won = Vec::new();
        for used in uses.collect::<Vec<_>>() {
            won.extend(used.await.unwrap());
        }
        assert_eq!(won, [ada]);
        let late = token(ada, AccountTokenPurpose::EmailVerification, "hash-late");
        store.tokens.insert(&late).await.unwrap();
        assert_eq!(
            store
                .tokens
                .consume(
                    AccountTokenPurpose::EmailVerification,
                    &RefreshTokenHash::new("hash-late"),
                    at(60_000),
                )
                .await
                .unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            store
                .tokens
                .consume(
                    AccountTokenPurpose::PasswordReset,
                    &RefreshTokenHash::new("unknown"),
                    at(0)
                )
                .await
                .unwrap(),
            None
        );
        // Revoking a purpose's tokens leaves the other purpose's working.
        let other = token(ada, AccountTokenPurpose::PasswordReset, "hash-other");
        let verify = token(ada, AccountTokenPurpose::EmailVerification, "hash-verify");
        store.tokens.insert(&other).await.unwrap();
        store.tokens.insert(&verify).await.unwrap();
        store
            .tokens
            .revoke_all(ada, AccountTokenPurpose::PasswordReset, at(2_000))
            .await
            .unwrap();
        let consume = |purpose, hash: &'static str| {
            let tokens = store.tokens.clone();
            async move {
                tokens
                    .consume(purpose, &RefreshTokenHash::new(hash), at(3_000))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            consume(AccountTokenPurpose::PasswordReset, "hash-other").await,
            None
        );
        assert_eq!(
            consume(AccountTokenPurpose::EmailVerification, "hash-verify").await,
            Some(ada)
        );
    }
}

mod sqlite {
    contract_tests!(crate::sqlite_tokens => tokens_work_once_for_their_purpose_before_they_expire);
}

mod postgres {
    contract_tests!(crate::postgres_tokens => tokens_work_once_for_their_purpose_before_they_expire);
}
