use std::sync::Arc;

use emporium_domain::accounts::{
    AccountChanges, AccountStanding, RefreshTokenRepository, User, UserChanges, UserRepository,
    UserRepositoryError,
};
use emporium_domain::{AccessDenied, Actor, Clock, Role, UserId};

use crate::failure::{Failure, UseCaseError};

/// An administrator changes an account's role or active flag. Deactivating an
/// account revokes all its sessions, so it can neither log in nor refresh; its
/// current access token lapses within its (short) lifetime. Admins cannot demote or
/// deactivate themselves, so the shop always keeps the admin making the change.
///
/// In a split deployment the change is also published ([`AccountChanges`]), so the
/// other services refuse the account's older tokens within seconds. The account is
/// stored first: if publishing fails the request fails (503) and repeating it
/// publishes the standing again, changed or not.
pub struct UpdateUser {
    users: Arc<dyn UserRepository>,
    refresh_tokens: Arc<dyn RefreshTokenRepository>,
    clock: Arc<dyn Clock>,
    changes: Option<Arc<dyn AccountChanges>>,
}

/// Failures of [`UpdateUser`].
#[derive(Debug, thiserror::Error)]
pub enum UpdateUserError {
    /// Not an admin.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such account.
    #[error("There is no user with id {0}.")]
    NotFound(UserId),
    /// An admin tried to demote or deactivate their own account.
    #[error("Admins cannot demote or deactivate their own account.")]
    OwnAccount,
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for UpdateUserError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::OwnAccount => Failure::conflict("own_account"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl UpdateUser {
    /// The use case over its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        refresh_tokens: Arc<dyn RefreshTokenRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            refresh_tokens,
            clock,
            changes: None,
        }
    }

    /// Also publishes role and active-flag changes to `changes`, when given.
    pub fn with_account_changes(mut self, changes: Option<Arc<dyn AccountChanges>>) -> Self {
        self.changes = changes;
        self
    }

    /// Applies `changes` to account `id` and returns it.
    #[tracing::instrument(name = "update_user", skip_all, fields(user_id = %id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        id: UserId,
        changes: UserChanges,
    ) -> Result<User, UpdateUserError> {
        let admin = actor.ensure_admin()?;
        let demotes_self =
            changes.role.is_some_and(|role| role != Role::Admin) || changes.active == Some(false);
        if admin == id && demotes_self {
            return Err(UpdateUserError::OwnAccount);
        }
        let mut user = self
            .users
            .get(id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the account"))?
            .ok_or(UpdateUserError::NotFound(id))?;
        let now = self.clock.now();
        user.apply(changes, now);
        self.users
            .update(&user)
            .await
            .map_err(|error| match error {
                UserRepositoryError::NotFound(id) => UpdateUserError::NotFound(id),
                other => anyhow::Error::new(other)
                    .context("storing the account")
                    .into(),
            })?;
        if changes.active == Some(false) {
            self.refresh_tokens
                .revoke_all_for_user(id, now)
                .await
                .map_err(|e| anyhow::Error::new(e).context("revoking the account's sessions"))?;
        }
        if let Some(published) = &self.changes
            && (changes.role.is_some() || changes.active.is_some())
        {
            let standing = AccountStanding {
                role: user.role,
                active: user.active,
            };
            published.publish(id, standing).await.map_err(|e| {
                anyhow::Error::new(e).context("publishing the account change to the other services")
            })?;
        }
        tracing::info!(role = %user.role, active = user.active, "account updated");
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::*;
    use emporium_domain::accounts::{MockRefreshTokenRepository, MockUserRepository};
    use uuid::Uuid;

    fn admin(id: u128) -> Actor {
        Actor::User {
            id: UserId(Uuid::from_u128(id)),
            role: Role::Admin,
        }
    }

    #[tokio::test]
    async fn a_role_change_is_published_for_the_other_services() {
        use emporium_domain::accounts::MockAccountChanges;
        let mut users = MockUserRepository::new();
        users
            .expect_get()
            .returning(|_| Ok(Some(user(2, Role::Admin, true))));
        users.expect_update().times(1).returning(|_| Ok(()));
        let mut changes = MockAccountChanges::new();
        changes
            .expect_publish()
            .withf(|id, standing| {
                id.0 == Uuid::from_u128(2)
                    && *standing
                        == AccountStanding {
                            role: Role::Customer,
                            active: true,
                        }
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let uc = UpdateUser::new(
            Arc::new(users),
            Arc::new(MockRefreshTokenRepository::new()),
            clock(),
        )
        .with_account_changes(Some(Arc::new(changes)));
        let updated = uc
            .execute(
                &admin(1),
                UserId(Uuid::from_u128(2)),
                UserChanges {
                    role: Some(Role::Customer),
                    active: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(updated.role, Role::Customer);
    }

    #[tokio::test]
    async fn deactivating_revokes_every_session() {
        let mut users = MockUserRepository::new();
        users
            .expect_get()
            .returning(|_| Ok(Some(user(2, Role::Customer, true))));
        users
            .expect_update()
            .withf(|u| !u.active)
            .times(1)
            .returning(|_| Ok(()));
        let mut refresh = MockRefreshTokenRepository::new();
        refresh
            .expect_revoke_all_for_user()
            .withf(|id, _| id.0 == Uuid::from_u128(2))
            .times(1)
            .returning(|_, _| Ok(()));
        let uc = UpdateUser::new(Arc::new(users), Arc::new(refresh), clock());
        let user = uc
            .execute(
                &admin(1),
                UserId(Uuid::from_u128(2)),
                UserChanges {
                    role: None,
                    active: Some(false),
                },
            )
            .await
            .unwrap();
        assert!(!user.active);
    }

    #[tokio::test]
    async fn promoting_changes_the_role_only() {
        let logs = captured_logs();
        let mut users = MockUserRepository::new();
        users
            .expect_get()
            .returning(|_| Ok(Some(user(2, Role::Customer, true))));
        users.expect_update().returning(|_| Ok(()));
        let uc = UpdateUser::new(
            Arc::new(users),
            Arc::new(MockRefreshTokenRepository::new()),
            clock(),
        );
        let user = uc
            .execute(
                &admin(1),
                UserId(Uuid::from_u128(2)),
                UserChanges {
                    role: Some(Role::Admin),
                    active: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(user.role, Role::Admin);
        assert!(user.active);
        // The log spells the role as the API does.
        assert!(logs.has_line(&["account updated", "role=admin"]));
    }

    #[tokio::test]
    async fn admins_cannot_demote_or_deactivate_themselves() {
        let uc = UpdateUser::new(
            Arc::new(MockUserRepository::new()),
            Arc::new(MockRefreshTokenRepository::new()),
            clock(),
        );
        for changes in [
            UserChanges {
                role: Some(Role::Customer),
                active: None,
            },
            UserChanges {
                role: None,
                active: Some(false),
            },
        ] {
            let result = uc
                .execute(&admin(1), UserId(Uuid::from_u128(1)), changes)
                .await;
            assert!(matches!(result, Err(UpdateUserError::OwnAccount)));
        }
    }

    #[tokio::test]
    async fn customers_and_services_cannot_administer_accounts() {
        let uc = UpdateUser::new(
            Arc::new(MockUserRepository::new()),
            Arc::new(MockRefreshTokenRepository::new()),
            clock(),
        );
        let customer = Actor::User {
            id: UserId(Uuid::from_u128(3)),
            role: Role::Customer,
        };
        for actor in [customer, Actor::Service] {
            let result = uc
                .execute(
                    &actor,
                    UserId(Uuid::from_u128(3)),
                    UserChanges {
                        role: Some(Role::Admin),
                        active: None,
                    },
                )
                .await;
            assert!(matches!(
                result,
                Err(UpdateUserError::Denied(AccessDenied::Forbidden))
            ));
        }
    }
}
