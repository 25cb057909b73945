use std::sync::Arc;

use emporium_domain::accounts::{User, UserRepository};
use emporium_domain::{AccessDenied, Actor};

use crate::failure::{Failure, FailureKind, UseCaseError};

/// The signed-in user's own account.
pub struct GetCurrentUser {
    users: Arc<dyn UserRepository>,
}

/// Failures of [`GetCurrentUser`].
#[derive(Debug, thiserror::Error)]
pub enum GetCurrentUserError {
    /// Not signed in as a user.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The account no longer exists.
    #[error("The account of this access token no longer exists.")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for GetCurrentUserError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound => Failure::new(FailureKind::Rejected, "invalid_token"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl GetCurrentUser {
    /// The use case over its port.
    pub fn new(users: Arc<dyn UserRepository>) -> Self {
        Self { users }
    }

    /// The actor's account.
    pub async fn execute(&self, actor: &Actor) -> Result<User, GetCurrentUserError> {
        let id = actor.ensure_user()?;
        self.users
            .get(id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the account"))?
            .ok_or(GetCurrentUserError::NotFound)
    }
}
