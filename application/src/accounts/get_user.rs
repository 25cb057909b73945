use std::sync::Arc;

use emporium_domain::accounts::{User, UserRepository};
use emporium_domain::{AccessDenied, Actor, Role, UserId};

use crate::failure::{Failure, UseCaseError};

/// Reads one account: a user their own, an admin any. Another user's account answers
/// as if it did not exist.
pub struct GetUser {
    users: Arc<dyn UserRepository>,
}

/// Failures of [`GetUser`].
#[derive(Debug, thiserror::Error)]
pub enum GetUserError {
    /// Not signed in as a user.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such account, or not one the caller may see.
    #[error("There is no user with id {0}.")]
    NotFound(UserId),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for GetUserError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl GetUser {
    /// The use case over its port.
    pub fn new(users: Arc<dyn UserRepository>) -> Self {
        Self { users }
    }

    /// The account `id`.
    pub async fn execute(&self, actor: &Actor, id: UserId) -> Result<User, GetUserError> {
        let caller = actor.ensure_user()?;
        let is_admin = matches!(
            actor,
            Actor::User {
                role: Role::Admin,
                ..
            }
        );
        if caller != id && !is_admin {
            return Err(GetUserError::NotFound(id));
        }
        self.users
            .get(id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the account"))?
            .ok_or(GetUserError::NotFound(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::*;
    use emporium_domain::accounts::MockUserRepository;
    use uuid::Uuid;

    fn signed_in(id: u128, role: Role) -> Actor {
        Actor::User {
            id: UserId(Uuid::from_u128(id)),
            role,
        }
    }

    #[tokio::test]
    async fn users_see_themselves_and_admins_see_everyone() {
        let mut users = MockUserRepository::new();
        users
            .expect_get()
            .returning(|id| Ok(Some(user(id.0.as_u128(), Role::Customer, true))));
        let uc = GetUser::new(Arc::new(users));
        let own = uc
            .execute(&signed_in(2, Role::Customer), UserId(Uuid::from_u128(2)))
            .await
            .unwrap();
        assert_eq!(own.id.0, Uuid::from_u128(2));
        assert!(
            uc.execute(&signed_in(1, Role::Admin), UserId(Uuid::from_u128(2)))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn another_users_account_does_not_exist_for_a_customer() {
        let uc = GetUser::new(Arc::new(MockUserRepository::new()));
        let result = uc
            .execute(&signed_in(3, Role::Customer), UserId(Uuid::from_u128(2)))
            .await;
        assert!(matches!(result, Err(GetUserError::NotFound(_))));
        assert!(matches!(
            uc.execute(&Actor::Service, UserId(Uuid::from_u128(2)))
                .await,
            Err(GetUserError::Denied(AccessDenied::Forbidden))
        ));
    }
}
