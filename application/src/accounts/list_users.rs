use std::sync::Arc;

use emporium_domain::accounts::{User, UserRepository};
use emporium_domain::{AccessDenied, Actor, Page, PageRequest};

use crate::failure::{Failure, UseCaseError};

/// Lists accounts, oldest first. Admins only.
pub struct ListUsers {
    users: Arc<dyn UserRepository>,
}

/// Failures of [`ListUsers`].
#[derive(Debug, thiserror::Error)]
pub enum ListUsersError {
    /// Not an admin.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for ListUsersError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl ListUsers {
    /// The use case over its port.
    pub fn new(users: Arc<dyn UserRepository>) -> Self {
        Self { users }
    }

    /// One page of accounts.
    pub async fn execute(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<User>, ListUsersError> {
        actor.ensure_admin()?;
        Ok(self
            .users
            .list(page)
            .await
            .map_err(|e| anyhow::Error::new(e).context("listing accounts"))?)
    }
}
