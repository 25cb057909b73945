//! The contract of the `UserRepository` port, written once (`suite`) and run unchanged
//! against every adapter on its real server: sea-orm on SQLite (a file in a temporary
//! directory) and on PostgreSQL (a fresh database named by
//! `EMPORIUM_TEST_POSTGRES_URL`; SKIP when unset, failure when
//! `EMPORIUM_REQUIRE_SERVICES=1`).

#[macro_use]
mod contract;

use std::sync::Arc;

use emporium_adapters::sql::SqlUserRepository;
use emporium_domain::accounts::UserRepository;
use sea_orm::DatabaseConnection;

/// A user repository, with its database for the tests that tamper with rows.
pub struct UserStore {
    /// The repository under test.
    pub users: Arc<dyn UserRepository>,
    /// The database behind it.
    pub db: DatabaseConnection,
    _guard: contract::Guard,
}

fn user_store(db: DatabaseConnection, guard: contract::Guard) -> UserStore {
    UserStore {
        users: Arc::new(SqlUserRepository::new(db.clone())),
        db,
        _guard: guard,
    }
}

/// Users on SQLite.
pub async fn sqlite_users() -> Option<UserStore> {
    let (dir, db) = contract::sqlite_db().await;
    Some(user_store(db, Some(dir)))
}

/// Users on PostgreSQL.
pub async fn postgres_users() -> Option<UserStore> {
    Some(user_store(contract::postgres_db().await?, None))
}

/// The contract, as async functions over a [`UserStore`].
mod suite {
    use chrono::TimeDelta;
    use emporium_domain::accounts::{
        DisplayName, Email, PasswordHash, User, UserChanges, UserRepositoryError,
    };
    use emporium_domain::{PageRequest, Role, UserId};
    use sea_orm::ConnectionTrait;
    use uuid::Uuid;

    use super::UserStore;
    use super::contract::{at, micros};

    fn user(email: &str, name: &str, offset_ms: i64) -> User {
        User {
            id: UserId(Uuid::new_v4()),
            email: Email::parse(email).unwrap(),
            name: DisplayName::new(name).unwrap(),
            role: Role::Customer,
            active: true,
            email_verified: false,
            password_hash: PasswordHash::new(format!(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ${}",
                Uuid::new_v4().simple()
            )),
            created_at: at(offset_ms),
            updated_at: at(offset_ms),
        }
    }

    /// `u` as the store gives it back: times at microsecond precision.
    fn stored(u: &User) -> User {
        User {
            created_at: micros(u.created_at),
            updated_at: micros(u.updated_at),
            ..u.clone()
        }
    }

    fn email(text: &str) -> Email {
        Email::parse(text).unwrap()
    }

    async fn emails(store: &UserStore, number: u32, size: u32) -> (Vec<String>, u64) {
        let request = PageRequest::new(number, size).unwrap();
        let page = store.users.list(request).await.unwrap();
        assert_eq!(page.request, request);
        let emails = page
            .items
            .iter()
            .map(|u| u.email.as_str().to_owned())
            .collect();
        (emails, page.total)
    }

    pub async fn insert_then_get_round_trips_every_field(store: &UserStore) {
        let mut admin = user(
            "  Ada.Lovelace+shop@Example.COM ",
            "Ada Lovelace — «ç» ☕",
            0,
        );
        admin.role = Role::Admin;
        admin.active = false;
        admin.created_at = at(0) + TimeDelta::nanoseconds(999);
        admin.updated_at = at(90_000);
        let customer = user("bob@example.org", "Bob", 10);
        for u in [&admin, &customer] {
            store.users.insert(u).await.unwrap();
        }
        for u in [&admin, &customer] {
            let got = store.users.get(u.id).await.unwrap().expect("stored user");
            assert_eq!(got, stored(u));
            assert_eq!(got.password_hash.as_str(), u.password_hash.as_str());
        }
        let got = store.users.get(admin.id).await.unwrap().unwrap();
        assert_eq!(got.email.as_str(), "ada.lovelace+shop@example.com");
        assert_eq!(
            got.created_at.timestamp_subsec_micros(),
            admin.created_at.timestamp_subsec_micros()
        );
        assert_ne!(got.created_at, admin.created_at, "nanoseconds are dropped");
        assert_eq!(store.users.get(UserId(Uuid::new_v4())).await.unwrap(), None);
    }

    /// A password is set alone, and only on an active account; marking the address
    /// verified touches nothing else either.
    pub async fn targeted_writes_touch_one_column(store: &UserStore) {
        let mut ada = user("ada@example.com", "Ada", 0);
        ada.role = Role::Admin;
        store.users.insert(&ada).await.unwrap();
        let hash = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3aGFzaA");
        assert!(
            store
                .users
                .set_password_hash(ada.id, &hash, at(5_000))
                .await
                .unwrap()
        );
        store
            .users
            .mark_email_verified(ada.id, at(6_000))
            .await
            .unwrap();
        let got = store.users.get(ada.id).await.unwrap().unwrap();
        assert_eq!(got.password_hash.as_str(), hash.as_str());
        assert!(got.email_verified);
        assert_eq!((got.role, got.active), (Role::Admin, true));
        assert_eq!(got.updated_at, micros(at(6_000)));
        let mut bob = user("bob@example.com", "Bob", 0);
        bob.active = false;
        store.users.insert(&bob).await.unwrap();
        assert!(
            !store
                .users
                .set_password_hash(bob.id, &hash, at(5_000))
                .await
                .unwrap()
        );
        let got = store.users.get(bob.id).await.unwrap().unwrap();
        assert_eq!(got.password_hash.as_str(), bob.password_hash.as_str());
        assert!(!got.active, "a deactivated account stays deactivated");
    }

    pub async fn duplicate_email_is_refused(store: &UserStore) {
        let first = user("ada@example.com", "Ada", 0);
        store.users.insert(&first).await.unwrap();

        // Same address, differently typed: `Email` normalises it, so it clashes.
        let clash = user("  ADA@example.com", "Impostor", 1);
        match store.users.insert(&clash).await {
            Err(UserRepositoryError::DuplicateEmail) => {}
            other => panic!("expected DuplicateEmail, got {other:?}"),
        }
        assert_eq!(store.users.get(clash.id).await.unwrap(), None);
        assert_eq!(
            store.users.find_by_email(&first.email).await.unwrap(),
            Some(stored(&first))
        );

        // Taking another account's address on update is refused too.
        let mut second = user("grace@example.com", "Grace", 2);
        store.users.insert(&second).await.unwrap();
        second.email = email("ada@example.com");
        match store.users.update(&second).await {
            Err(UserRepositoryError::DuplicateEmail) => {}
            other => panic!("expected DuplicateEmail, got {other:?}"),
        }
        let kept = store.users.get(second.id).await.unwrap().unwrap();
        assert_eq!(kept.email.as_str(), "grace@example.com");

        // Keeping one's own address is no clash.
        let mut first = first;
        first.name = DisplayName::new("Ada L.").unwrap();
        store.users.update(&first).await.unwrap();
    }

    pub async fn find_by_email_hits_and_misses(store: &UserStore) {
        let ada = user("Ada@Example.com", "Ada", 0);
        let grace = user("grace@example.com", "Grace", 1);
        for u in [&ada, &grace] {
            store.users.insert(u).await.unwrap();
        }
        assert_eq!(
            store
                .users
                .find_by_email(&email("ada@example.com"))
                .await
                .unwrap(),
            Some(stored(&ada))
        );
        assert_eq!(
            store
                .users
                .find_by_email(&email(" GRACE@EXAMPLE.COM "))
                .await
                .unwrap(),
            Some(stored(&grace))
        );
        for miss in ["nobody@example.com", "ada@example.org", "da@example.com"] {
            assert_eq!(
                store.users.find_by_email(&email(miss)).await.unwrap(),
                None,
                "{miss}"
            );
        }
    }

    pub async fn list_pages_oldest_first_with_total(store: &UserStore) {
        assert_eq!(emails(store, 1, 20).await, (vec![], 0));

        // Inserted out of creation order.
        for i in [4, 0, 6, 2, 5, 1, 3] {
            store
                .users
                .insert(&user(&format!("u{i}@example.com"), "U", i * 1_000))
                .await
                .unwrap();
        }
        let names = |ids: &[i64]| -> Vec<String> {
            ids.iter().map(|i| format!("u{i}@example.com")).collect()
        };
        assert_eq!(emails(store, 1, 3).await, (names(&[0, 1, 2]), 7));
        assert_eq!(emails(store, 2, 3).await, (names(&[3, 4, 5]), 7));
        assert_eq!(emails(store, 3, 3).await, (names(&[6]), 7));
        assert_eq!(emails(store, 4, 3).await, (vec![], 7));
        assert_eq!(emails(store, 1, 100).await.0.len(), 7);

        // Equal creation times are ordered by id, whatever the insertion order.
        let mut twins: Vec<User> = (0..4)
            .map(|i| user(&format!("twin{i}@example.com"), "Twin", 10_000))
            .collect();
        for twin in twins.iter().rev() {
            store.users.insert(twin).await.unwrap();
        }
        twins.sort_by_key(|u| u.id.0);
        let expected: Vec<String> = twins.iter().map(|u| u.email.to_string()).collect();
        assert_eq!(emails(store, 2, 7).await, (expected[..4].to_vec(), 11));
        let page = store
            .users
            .list(PageRequest::new(1, 100).unwrap())
            .await
            .unwrap();
        assert_eq!(
            page.items[7..],
            twins.iter().map(stored).collect::<Vec<_>>()[..]
        );
    }

    pub async fn update_replaces_the_stored_user(store: &UserStore) {
        let mut u = user("ada@example.com", "Ada", 0);
        store.users.insert(&u).await.unwrap();

        u.apply(
            UserChanges {
                role: Some(Role::Admin),
                active: Some(false),
            },
            at(60_000) + TimeDelta::nanoseconds(1),
        );
        u.email = email("ada.lovelace@example.com");
        u.name = DisplayName::new("Ada Lovelace").unwrap();
        u.password_hash = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3aGFzaA");
        store.users.update(&u).await.unwrap();
        let got = store.users.get(u.id).await.unwrap().unwrap();
        assert_eq!(got, stored(&u));
        // The old address is free again; the new one finds the account.
        assert_eq!(
            store
                .users
                .find_by_email(&email("ada@example.com"))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store.users.find_by_email(&u.email).await.unwrap(),
            Some(stored(&u))
        );
        store
            .users
            .insert(&user("ada@example.com", "New Ada", 1))
            .await
            .unwrap();

        // Back again: every field can return to its earlier value.
        u.role = Role::Customer;
        u.active = true;
        u.updated_at = at(120_000);
        store.users.update(&u).await.unwrap();
        assert_eq!(store.users.get(u.id).await.unwrap().unwrap(), stored(&u));

        let ghost = user("ghost@example.com", "Ghost", 0);
        match store.users.update(&ghost).await {
            Err(UserRepositoryError::NotFound(id)) => assert_eq!(id, ghost.id),
            other => panic!("expected NotFound, got {other:?}"),
        }
        assert_eq!(store.users.get(ghost.id).await.unwrap(), None);
        assert_eq!(store.users.find_by_email(&ghost.email).await.unwrap(), None);
    }

    /// `ping` answers while the database does, and fails once it is gone — as
    /// `Unavailable`, a database that cannot be used, so `/ready` tells the truth and
    /// requests get 503.
    pub async fn ping_answers(store: &UserStore) {
        store.users.ping().await.unwrap();
        store.db.clone().close().await.unwrap();
        assert!(matches!(
            store.users.ping().await,
            Err(UserRepositoryError::Unavailable(_))
        ));
    }

    /// A row that no longer satisfies the domain's rules is an `Unexpected` failure
    /// naming the user, never a silently repaired or half-read account.
    pub async fn corrupt_rows_are_unexpected(store: &UserStore) {
        let u = user("ada@example.com", "Ada", 0);
        store.users.insert(&u).await.unwrap();

        let expect_unexpected = |result: Result<_, UserRepositoryError>, what: &str| match result {
            Err(UserRepositoryError::Unexpected(err)) => {
                let message = format!("{err:#}");
                assert!(message.contains(&u.id.to_string()), "{what}: {message}");
            }
            other => panic!("{what}: expected Unexpected, got {other:?}"),
        };

        store
            .db
            .execute_unprepared("UPDATE users SET email = 'not an address'")
            .await
            .unwrap();
        expect_unexpected(store.users.get(u.id).await.map(|_| ()), "bad e-mail, get");
        let page = store.users.list(PageRequest::new(1, 10).unwrap()).await;
        expect_unexpected(page.map(|_| ()), "bad e-mail, list");

        store
            .db
            .execute_unprepared("UPDATE users SET email = 'ada@example.com', name = '   '")
            .await
            .unwrap();
        expect_unexpected(
            store.users.find_by_email(&u.email).await.map(|_| ()),
            "blank name, find_by_email",
        );

        // The schema itself refuses unknown roles.
        assert!(
            store
                .db
                .execute_unprepared("UPDATE users SET role = 'root'")
                .await
                .is_err()
        );
        store
            .db
            .execute_unprepared("UPDATE users SET name = 'Ada'")
            .await
            .unwrap();
        assert_eq!(store.users.get(u.id).await.unwrap(), Some(stored(&u)));
    }
}

mod sqlite {
    contract_tests!(crate::sqlite_users =>
        insert_then_get_round_trips_every_field,
        duplicate_email_is_refused,
        find_by_email_hits_and_misses,
        list_pages_oldest_first_with_total,
        update_replaces_the_stored_user,
        targeted_writes_touch_one_column,
        corrupt_rows_are_unexpected,
        ping_answers,
    );
}

mod postgres {
    contract_tests!(crate::postgres_users =>
        insert_then_get_round_trips_every_field,
        duplicate_email_is_refused,
        find_by_email_hits_and_misses,
        list_pages_oldest_first_with_total,
        update_replaces_the_stored_user,
        targeted_writes_touch_one_column,
        corrupt_rows_are_unexpected,
        ping_answers,
    );
}
