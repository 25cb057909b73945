use std::sync::Arc;

use emporium_domain::accounts::{
    NewUser, PasswordHasher, User, UserRepository, UserRepositoryError,
};
use emporium_domain::{Clock, IdGenerator, Role, UserId};

use super::account_emails::AccountMails;
use crate::failure::{Failure, UseCaseError};

/// Registers a customer account. The role is always `customer`: callers cannot
/// choose it.
pub struct RegisterUser {
    users: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    ids: Arc<dyn IdGenerator>,
    clock: Arc<dyn Clock>,
    verification: Option<AccountMails>,
}

/// Failures of [`RegisterUser`].
#[derive(Debug, thiserror::Error)]
pub enum RegisterUserError {
    /// Another account has this address.
    #[error("An account with this e-mail address already exists.")]
    DuplicateEmail,
    /// Storage or hashing failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for RegisterUserError {
    fn failure(&self) -> Failure {
        match self {
            Self::DuplicateEmail => Failure::conflict("duplicate_email").on_value("email"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl RegisterUser {
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
            verification: None,
        }
    }

    /// Also mails each new account a token that verifies its address.
    pub fn with_verification(mut self, mails: AccountMails) -> Self {
        self.verification = Some(mails);
        self
    }

    /// Creates the account and returns it.
    #[tracing::instrument(name = "register_user", skip_all)]
    pub async fn execute(&self, input: NewUser) -> Result<User, RegisterUserError> {
        let user = create_user(
            self.users.as_ref(),
            self.hasher.as_ref(),
            UserId(self.ids.new_id()),
            self.clock.now(),
            input,
            Role::Customer,
        )
        .await?;
        if let Some(mails) = &self.verification {
            mails.send_verification(&user).await;
        }
        Ok(user)
    }
}

/// Hashes the password and stores a new account with `role`.
pub(super) async fn create_user(
    users: &dyn UserRepository,
    hasher: &dyn PasswordHasher,
    id: UserId,
    now: chrono::DateTime<chrono::Utc>,
    input: NewUser,
    role: Role,
) -> Result<User, RegisterUserError> {
    let password_hash = hasher
        .hash(&input.password)
        .await
        .map_err(|e| anyhow::Error::new(e).context("hashing the password"))?;
    let user = User {
        id,
        email: input.email,
        name: input.name,
        role,
        active: true,
        // An operator creates administrators; customers prove their address.
        email_verified: role == Role::Admin,
        password_hash,
        created_at: now,
        updated_at: now,
    };
    users.insert(&user).await.map_err(|error| match error {
        UserRepositoryError::DuplicateEmail => RegisterUserError::DuplicateEmail,
        other => anyhow::Error::new(other)
            .context("storing the account")
            .into(),
    })?;
    tracing::info!(user_id = %user.id, role = %role, "account created");
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::*;
    use emporium_domain::accounts::{MockPasswordHasher, MockUserRepository, PasswordHash};

    #[tokio::test]
    async fn registers_a_customer_with_a_hashed_password() {
        let logs = captured_logs();
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .returning(|_| Ok(PasswordHash::new("$argon2id$hash")));
        let mut users = MockUserRepository::new();
        users
            .expect_insert()
            .withf(|u| {
                u.role == Role::Customer && u.password_hash.as_str() == "$argon2id$hash" && u.active
            })
            .times(1)
            .returning(|_| Ok(()));
        let user = RegisterUser::new(Arc::new(users), Arc::new(hasher), ids(), clock())
            .execute(new_user("ada@example.com"))
            .await
            .unwrap();
        assert_eq!(user.email.as_str(), "ada@example.com");
        assert_eq!(user.role, Role::Customer);
        assert!(logs.has_line(&["account created", "role=customer"]));
    }

    #[tokio::test]
    async fn duplicate_email_is_reported() {
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .returning(|_| Ok(PasswordHash::new("h")));
        let mut users = MockUserRepository::new();
        users
            .expect_insert()
            .returning(|_| Err(UserRepositoryError::DuplicateEmail));
        let result = RegisterUser::new(Arc::new(users), Arc::new(hasher), ids(), clock())
            .execute(new_user("ada@example.com"))
            .await;
        assert!(matches!(result, Err(RegisterUserError::DuplicateEmail)));
    }
}
