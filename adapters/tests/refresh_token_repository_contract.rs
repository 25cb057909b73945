//! The contract of the `RefreshTokenRepository` port, written once (`suite`) and run
//! unchanged against every adapter on its real server: sea-orm on SQLite (a file in a
//! temporary directory) and on PostgreSQL (a fresh database named by
//! `EMPORIUM_TEST_POSTGRES_URL`; SKIP when unset, failure when
//! `EMPORIUM_REQUIRE_SERVICES=1`).

#[macro_use]
mod contract;

use std::sync::Arc;

use emporium_adapters::sql::{SqlRefreshTokenRepository, SqlUserRepository};
use emporium_domain::accounts::{RefreshTokenRepository, UserRepository};
use sea_orm::DatabaseConnection;

/// A refresh-token repository, and the user repository on the same database (tokens
/// belong to stored users).
pub struct TokenStore {
    /// The repository under test.
    pub tokens: Arc<dyn RefreshTokenRepository>,
    /// Users, to own the tokens.
    pub users: Arc<dyn UserRepository>,
    _guard: contract::Guard,
}

fn token_store(db: DatabaseConnection, guard: contract::Guard) -> TokenStore {
    TokenStore {
        tokens: Arc::new(SqlRefreshTokenRepository::new(db.clone())),
        users: Arc::new(SqlUserRepository::new(db)),
        _guard: guard,
    }
}

/// Refresh tokens on SQLite.
pub async fn sqlite_tokens() -> Option<TokenStore> {
    let (dir, db) = contract::sqlite_db().await;
    Some(token_store(db, Some(dir)))
}

/// Refresh tokens on PostgreSQL.
pub async fn postgres_tokens() -> Option<TokenStore> {
    Some(token_store(contract::postgres_db().await?, None))
}

/// The contract, as async functions over a [`TokenStore`].
mod suite {
    use std::sync::Arc;

    use chrono::{DateTime, TimeDelta, Utc};
    use emporium_domain::accounts::{
        DisplayName, Email, PasswordHash, RefreshTokenHash, RefreshTokenRecord,
        RefreshTokenRepositoryError, User,
    };
    use emporium_domain::{Role, UserId};
    use uuid::Uuid;

    use super::TokenStore;
    use super::contract::{at, micros};

    /// A stored user to own tokens.
    async fn user(store: &TokenStore) -> UserId {
        let id = UserId(Uuid::new_v4());
        let user = User {
            id,
            email: Email::parse(&format!("{}@example.com", id.0.simple())).unwrap(),
            name: DisplayName::new("Owner").unwrap(),
            role: Role::Customer,
            active: true,
            email_verified: true,
            password_hash: PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
            created_at: at(0),
            updated_at: at(0),
        };
        store.users.insert(&user).await.unwrap();
        id
    }

    /// A fresh, unused, unrevoked token of `user` in `family`, issued at `offset_ms`.
    fn token(user_id: UserId, family_id: Uuid, offset_ms: i64) -> RefreshTokenRecord {
        RefreshTokenRecord {
            id: Uuid::new_v4(),
            family_id,
            user_id,
            token_hash: RefreshTokenHash::new(format!(
                "{}{}",
                Uuid::new_v4().simple(),
                Uuid::new_v4().simple()
            )),
            issued_at: at(offset_ms),
            expires_at: at(offset_ms) + TimeDelta::days(30),
            used_at: None,
            revoked_at: None,
        }
    }

    async fn inserted(store: &TokenStore, record: RefreshTokenRecord) -> RefreshTokenRecord {
        store.tokens.insert(&record).await.unwrap();
        record
    }

    /// `r` as the store gives it back: times at microsecond precision.
    fn stored(r: &RefreshTokenRecord) -> RefreshTokenRecord {
        RefreshTokenRecord {
            issued_at: micros(r.issued_at),
            expires_at: micros(r.expires_at),
            used_at: r.used_at.map(micros),
            revoked_at: r.revoked_at.map(micros),
            ..r.clone()
        }
    }

    async fn get(store: &TokenStore, id: Uuid) -> RefreshTokenRecord {
        store.tokens.get(id).await.unwrap().expect("stored token")
    }

    async fn used_at(store: &TokenStore, id: Uuid) -> Option<DateTime<Utc>> {
        get(store, id).await.used_at
    }

    async fn revoked_at(store: &TokenStore, id: Uuid) -> Option<DateTime<Utc>> {
        get(store, id).await.revoked_at
    }

    pub async fn insert_then_get_round_trips_every_field(store: &TokenStore) {
        let owner = user(store).await;
        let family = Uuid::new_v4();
        let fresh = token(owner, family, 0);
        let mut spent = token(owner, family, 1_000);
        spent.issued_at += TimeDelta::nanoseconds(999);
        spent.used_at = Some(at(2_000));
        spent.revoked_at = Some(at(3_000) + TimeDelta::nanoseconds(1));
        for r in [&fresh, &spent] {
            store.tokens.insert(r).await.unwrap();
        }
        for r in [&fresh, &spent] {
            let got = get(store, r.id).await;
            assert_eq!(got, stored(r));
            assert_eq!(got.token_hash.as_str(), r.token_hash.as_str());
        }
        let got = get(store, spent.id).await;
        assert_eq!(
            got.issued_at.timestamp_subsec_micros(),
            spent.issued_at.timestamp_subsec_micros()
        );
        assert!(!got.is_usable(at(4_000)));
        assert!(get(store, fresh.id).await.is_usable(at(1)));
        assert_eq!(store.tokens.get(Uuid::new_v4()).await.unwrap(), None);
    }

    /// Token hashes are unique and tokens belong to stored users; the port reports
    /// both refusals as `Unexpected` and stores nothing.
    pub async fn duplicate_hash_and_unknown_user_are_refused(store: &TokenStore) {
        let owner = user(store).await;
        let first = inserted(store, token(owner, Uuid::new_v4(), 0)).await;

        let mut same_hash = token(owner, Uuid::new_v4(), 1);
        same_hash.token_hash = first.token_hash.clone();
        assert!(matches!(
            store.tokens.insert(&same_hash).await,
            Err(RefreshTokenRepositoryError::Unexpected(_))
        ));
        assert_eq!(store.tokens.get(same_hash.id).await.unwrap(), None);

        let orphan = token(UserId(Uuid::new_v4()), Uuid::new_v4(), 2);
        assert!(matches!(
            store.tokens.insert(&orphan).await,
            Err(RefreshTokenRepositoryError::Unexpected(_))
        ));
        assert_eq!(store.tokens.get(orphan.id).await.unwrap(), None);
        assert_eq!(get(store, first.id).await, stored(&first));
    }

    pub async fn mark_used_succeeds_once(store: &TokenStore) {
        let owner = user(store).await;
        let family = Uuid::new_v4();
        let first = inserted(store, token(owner, family, 0)).await;
        let other = inserted(store, token(owner, family, 1)).await;

        let used = at(5_000) + TimeDelta::nanoseconds(999);
        assert!(store.tokens.mark_used(first.id, used).await.unwrap());
        assert_eq!(used_at(store, first.id).await, Some(micros(used)));
        // A second use is refused and keeps the first time.
        assert!(!store.tokens.mark_used(first.id, at(6_000)).await.unwrap());
        assert_eq!(used_at(store, first.id).await, Some(micros(used)));
        // Nothing else changed.
        let got = get(store, first.id).await;
        assert_eq!(
            got,
            stored(&RefreshTokenRecord {
                used_at: Some(used),
                ..first.clone()
            })
        );
        assert_eq!(get(store, other.id).await, stored(&other));
        // An unknown token is never "used".
        assert!(
            !store
                .tokens
                .mark_used(Uuid::new_v4(), at(7_000))
                .await
                .unwrap()
        );
    }

    pub async fn mark_used_refuses_a_revoked_token(store: &TokenStore) {
        let owner = user(store).await;
        let family = Uuid::new_v4();
        let revoked = inserted(store, token(owner, family, 0)).await;
        store.tokens.revoke_family(family, at(1_000)).await.unwrap();

        assert!(!store.tokens.mark_used(revoked.id, at(2_000)).await.unwrap());
        let got = get(store, revoked.id).await;
        assert_eq!(got.used_at, None);
        assert_eq!(got.revoked_at, Some(micros(at(1_000))));

        // Stored already revoked: refused as well.
        let mut born_revoked = token(owner, Uuid::new_v4(), 3_000);
        born_revoked.revoked_at = Some(at(3_000));
        let born_revoked = inserted(store, born_revoked).await;
        assert!(
            !store
                .tokens
                .mark_used(born_revoked.id, at(4_000))
                .await
                .unwrap()
        );
        assert_eq!(used_at(store, born_revoked.id).await, None);
    }

    /// A token issued into a family after the family was revoked (a refresh that
    /// raced a replay) is refused too, while other families are untouched.
    pub async fn mark_used_refuses_a_token_of_a_revoked_family(store: &TokenStore) {
        let owner = user(store).await;
        let family = Uuid::new_v4();
        let spent = inserted(store, token(owner, family, 0)).await;
        assert!(store.tokens.mark_used(spent.id, at(10)).await.unwrap());
        store.tokens.revoke_family(family, at(20)).await.unwrap();
        // Inserted after the revocation: not revoked itself, yet unusable.
        let late = inserted(store, token(owner, family, 30)).await;
        assert_eq!(revoked_at(store, late.id).await, None);
        assert!(!store.tokens.mark_used(late.id, at(40)).await.unwrap());
        assert_eq!(used_at(store, late.id).await, None);

        let elsewhere = inserted(store, token(owner, Uuid::new_v4(), 50)).await;
        assert!(store.tokens.mark_used(elsewhere.id, at(60)).await.unwrap());
    }

    /// 20 concurrent `mark_used` calls with one token: exactly one gets `true`, and the
    /// stored time is the winner's.
    pub async fn concurrent_mark_used_has_exactly_one_winner(store: &TokenStore) {
        const CALLS: i64 = 20;
        let owner = user(store).await;
        let record = inserted(store, token(owner, Uuid::new_v4(), 0)).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(CALLS as usize));
        let tasks: Vec<_> = (0..CALLS)
            .map(|i| {
                let tokens = Arc::clone(&store.tokens);
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    tokens.mark_used(record.id, at(1_000 + i)).await
                })
            })
            .collect();
        let mut winners = Vec::new();
        for (i, task) in (0..CALLS).zip(tasks) {
            if task.await.unwrap().unwrap() {
                winners.push(i);
            }
        }
        assert_eq!(winners.len(), 1, "winners: {winners:?}");
        assert_eq!(
            used_at(store, record.id).await,
            Some(micros(at(1_000 + winners[0])))
        );
    }

    pub async fn revoke_family_revokes_only_that_family(store: &TokenStore) {
        let owner = user(store).await;
        let (family, other_family) = (Uuid::new_v4(), Uuid::new_v4());
        let a = inserted(store, token(owner, family, 0)).await;
        let b = inserted(store, token(owner, family, 1)).await;
        assert!(store.tokens.mark_used(a.id, at(10)).await.unwrap());
        let bystander = inserted(store, token(owner, other_family, 2)).await;

        let first = at(1_000) + TimeDelta::nanoseconds(500);
        store.tokens.revoke_family(family, first).await.unwrap();
        // Used tokens are revoked too; the use is kept.
        assert_eq!(revoked_at(store, a.id).await, Some(micros(first)));
        assert_eq!(used_at(store, a.id).await, Some(micros(at(10))));
        assert_eq!(revoked_at(store, b.id).await, Some(micros(first)));
        assert_eq!(get(store, bystander.id).await, stored(&bystander));

        // A later token of the family, then a second revocation: the earlier
        // revocation times are kept, only the new token gets the new time.
        let c = inserted(store, token(owner, family, 2_000)).await;
        store.tokens.revoke_family(family, at(3_000)).await.unwrap();
        assert_eq!(revoked_at(store, a.id).await, Some(micros(first)));
        assert_eq!(revoked_at(store, b.id).await, Some(micros(first)));
        assert_eq!(revoked_at(store, c.id).await, Some(micros(at(3_000))));
        assert_eq!(revoked_at(store, bystander.id).await, None);

        // Idempotent; unknown families are no error.
        store.tokens.revoke_family(family, at(4_000)).await.unwrap();
        assert_eq!(revoked_at(store, c.id).await, Some(micros(at(3_000))));
        store
            .tokens
            .revoke_family(Uuid::new_v4(), at(5_000))
            .await
            .unwrap();
        assert!(
            store
                .tokens
                .mark_used(bystander.id, at(6_000))
                .await
                .unwrap()
        );
    }

    pub async fn revoke_all_for_user_revokes_only_that_user(store: &TokenStore) {
        let (owner, neighbour) = (user(store).await, user(store).await);
        let (family, second_family) = (Uuid::new_v4(), Uuid::new_v4());
        let a = inserted(store, token(owner, family, 0)).await;
        let b = inserted(store, token(owner, second_family, 1)).await;
        let mut early = token(owner, second_family, 2);
        early.revoked_at = Some(at(500));
        let early = inserted(store, early).await;
        // The neighbour's token even shares a family id: only the user counts.
        let theirs = inserted(store, token(neighbour, family, 3)).await;

        store
            .tokens
            .revoke_all_for_user(owner, at(1_000))
            .await
            .unwrap();
        assert_eq!(revoked_at(store, a.id).await, Some(micros(at(1_000))));
        assert_eq!(revoked_at(store, b.id).await, Some(micros(at(1_000))));
        assert_eq!(revoked_at(store, early.id).await, Some(micros(at(500))));
        assert_eq!(get(store, theirs.id).await, stored(&theirs));

        // Idempotent; a user without tokens is no error.
        store
            .tokens
            .revoke_all_for_user(owner, at(2_000))
            .await
            .unwrap();
        assert_eq!(revoked_at(store, a.id).await, Some(micros(at(1_000))));
        store
            .tokens
            .revoke_all_for_user(UserId(Uuid::new_v4()), at(3_000))
            .await
            .unwrap();
        for id in [a.id, b.id, early.id] {
            assert!(!store.tokens.mark_used(id, at(4_000)).await.unwrap());
        }
        assert!(store.tokens.mark_used(theirs.id, at(4_000)).await.unwrap());
    }
}

mod sqlite {
    contract_tests!(crate::sqlite_tokens =>
        insert_then_get_round_trips_every_field,
        duplicate_hash_and_unknown_user_are_refused,
        mark_used_succeeds_once,
        mark_used_refuses_a_revoked_token,
        mark_used_refuses_a_token_of_a_revoked_family,
        concurrent_mark_used_has_exactly_one_winner,
        revoke_family_revokes_only_that_family,
        revoke_all_for_user_revokes_only_that_user,
    );
}

mod postgres {
    contract_tests!(crate::postgres_tokens =>
        insert_then_get_round_trips_every_field,
        duplicate_hash_and_unknown_user_are_refused,
        mark_used_succeeds_once,
        mark_used_refuses_a_revoked_token,
        mark_used_refuses_a_token_of_a_revoked_family,
        concurrent_mark_used_has_exactly_one_winner,
        revoke_family_revokes_only_that_family,
        revoke_all_for_user_revokes_only_that_user,
    );
}
