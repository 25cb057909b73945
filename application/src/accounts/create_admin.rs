use std::sync::Arc;

use emporium_domain::accounts::{NewUser, PasswordHasher, User, UserRepository};
use emporium_domain::{Clock, IdGenerator, Role, UserId};

use super::register_user::{RegisterUserError, create_user};

use crate::failure::{Failure, UseCaseError};

/// Creates an administrator account. Not reachable over HTTP: the operator runs it
/// (`emporium users create-admin`, or `EMPORIUM_ADMIN_EMAIL`/`EMPORIUM_ADMIN_PASSWORD`
/// on first start).
pub struct CreateAdmin {
    users: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    ids: Arc<dyn IdGenerator>,
    clock: Arc<dyn Clock>,
}

/// Failures of [`CreateAdmin`].
#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    /// An account with this address exists already (it is left unchanged).
    #[error("An account with this e-mail address already exists.")]
    AlreadyExists,
    /// Storage or hashing failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for CreateAdminError {
    fn failure(&self) -> Failure {
        match self {
            Self::AlreadyExists => Failure::conflict("duplicate_email").on_value("email"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl CreateAdmin {
    /// The use case over its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        hasher: Arc<dyn PasswordHasher>,
        ids: Arc<dyn IdGenerator>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            hasher,
            ids,
            clock,
        }
    }

    /// Creates the admin account.
    #[tracing::instrument(name = "create_admin", skip_all)]
    pub async fn execute(&self, input: NewUser) -> Result<User, CreateAdminError> {
        create_user(
            self.users.as_ref(),
            self.hasher.as_ref(),
            UserId(self.ids.new_id()),
            self.clock.now(),
            input,
            Role::Admin,
        )
        .await
        .map_err(|error| match error {
            RegisterUserError::DuplicateEmail => CreateAdminError::AlreadyExists,
            RegisterUserError::Unexpected(e) => CreateAdminError::Unexpected(e),
        })
    }
}
