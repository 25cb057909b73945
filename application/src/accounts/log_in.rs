use std::sync::{Arc, OnceLock};

use emporium_domain::accounts::{Email, Password, PasswordHash, PasswordHasher, UserRepository};

use super::session::{Session, SessionIssuer};

use crate::failure::{Failure, FailureKind, UseCaseError};

/// Signs a user in with e-mail and password, starting a new session (a new
/// refresh-token family).
///
/// Every failure — unknown address, wrong password, deactivated account, malformed
/// input — is the same [`LogInError::InvalidCredentials`], and an unknown address
/// still costs one password verification (against a dummy hash), so neither the
/// answer nor its timing tells whether an account exists. Passwords outside the
/// policy's length are refused before any hashing.
pub struct LogIn {
    users: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    sessions: SessionIssuer,
    dummy_hash: OnceLock<PasswordHash>,
}

/// Failures of [`LogIn`].
#[derive(Debug, thiserror::Error)]
pub enum LogInError {
    /// The address and password do not open an active account.
    #[error("The e-mail address or password is not correct.")]
    InvalidCredentials,
    /// Storage, hashing or signing failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for LogInError {
    fn failure(&self) -> Failure {
        match self {
            Self::InvalidCredentials => Failure::new(FailureKind::Rejected, "invalid_credentials"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl LogIn {
    /// The use case over its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        hasher: Arc<dyn PasswordHasher>,
        sessions: SessionIssuer,
    ) -> Self {
        Self {
            users,
            hasher,
            sessions,
            dummy_hash: OnceLock::new(),
        }
    }

    /// Checks the credentials and starts a session.
    #[tracing::instrument(name = "log_in", skip_all)]
    pub async fn execute(&self, email: &str, password: &str) -> Result<Session, LogInError> {
        let (Ok(email), Ok(password)) = (Email::parse(email), Password::new(password)) else {
            return Err(LogInError::InvalidCredentials);
        };
        let user = self
            .users
            .find_by_email(&email)
            .await
            .map_err(|e| anyhow::Error::new(e).context("looking up the account"))?;
        let Some(user) = user else {
            let dummy = self.dummy_hash().await?;
            let _ = self.hasher.verify(&password, &dummy).await;
            return Err(LogInError::InvalidCredentials);
        };
        let matches = self
            .hasher
            .verify(&password, &user.password_hash)
            .await
            .map_err(|e| anyhow::Error::new(e).context("verifying the password"))?;
        if !matches || !user.active {
            tracing::info!(user_id = %user.id, active = user.active, "log-in refused");
            return Err(LogInError::InvalidCredentials);
        }
        let family = self.sessions.new_family();
        let session = self.sessions.start(user, family).await?;
        tracing::info!(user_id = %session.user.id, "logged in");
        Ok(session)
    }

    /// A hash of a fixed dummy password, made with the real hasher (so it costs the
    /// same to verify) on first need.
    async fn dummy_hash(&self) -> anyhow::Result<PasswordHash> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash.clone());
        }
        let password = Password::new("dummy password for unknown accounts")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let hash = self.hasher.hash(&password).await?;
        Ok(self.dummy_hash.get_or_init(|| hash).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::test_support::*;
    use emporium_domain::Role;
    use emporium_domain::accounts::{
        IssuedToken, MockPasswordHasher, MockRefreshTokenRepository, MockTokenIssuer,
        MockUserRepository,
    };
    use std::time::Duration;

    fn tokens() -> MockTokenIssuer {
        let mut tokens = MockTokenIssuer::new();
        tokens.expect_issue_access().returning(|_, _| {
            Ok(IssuedToken {
                token: "access".into(),
                expires_in: Duration::from_secs(900),
            })
        });
        tokens.expect_issue_refresh().returning(|_, _| {
            Ok(IssuedToken {
                token: "refresh".into(),
                expires_in: Duration::from_secs(3600),
            })
        });
        tokens
    }

    fn use_case(
        users: MockUserRepository,
        hasher: MockPasswordHasher,
        refresh: MockRefreshTokenRepository,
    ) -> LogIn {
        LogIn::new(
            Arc::new(users),
            Arc::new(hasher),
            SessionIssuer::new(Arc::new(tokens()), Arc::new(refresh), ids(), clock()),
        )
    }

    #[tokio::test]
    async fn right_password_starts_a_session_and_stores_only_the_refresh_hash() {
        let mut users = MockUserRepository::new();
        users
            .expect_find_by_email()
            .returning(|_| Ok(Some(user(1, Role::Customer, true))));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|_, _| Ok(true));
        let mut refresh = MockRefreshTokenRepository::new();
        refresh
            .expect_insert()
            .withf(|r| r.token_hash.as_str() != "refresh" && r.token_hash.as_str().len() == 64)
            .times(1)
            .returning(|_| Ok(()));
        let session = use_case(users, hasher, refresh)
            .execute("ADA@example.com", "correct horse battery")
            .await
            .unwrap();
        assert_eq!(session.access.token, "access");
        assert_eq!(session.refresh.token, "refresh");
    }

    #[tokio::test]
    async fn unknown_email_still_verifies_a_dummy_hash_and_fails_like_a_wrong_password() {
        let mut users = MockUserRepository::new();
        users.expect_find_by_email().returning(|_| Ok(None));
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .times(1)
            .returning(|_| Ok(PasswordHash::new("$dummy")));
        hasher.expect_verify().times(1).returning(|_, _| Ok(true));
        let result = use_case(users, hasher, MockRefreshTokenRepository::new())
            .execute("nobody@example.com", "correct horse battery")
            .await;
        assert!(matches!(result, Err(LogInError::InvalidCredentials)));
    }

    #[tokio::test]
    async fn wrong_password_and_deactivated_account_fail_the_same_way() {
        for (active, password_ok) in [(true, false), (false, true)] {
            let mut users = MockUserRepository::new();
            users
                .expect_find_by_email()
                .returning(move |_| Ok(Some(user(1, Role::Customer, active))));
            let mut hasher = MockPasswordHasher::new();
            hasher
                .expect_verify()
                .returning(move |_, _| Ok(password_ok));
            let result = use_case(users, hasher, MockRefreshTokenRepository::new())
                .execute("ada@example.com", "correct horse battery")
                .await;
            assert!(matches!(result, Err(LogInError::InvalidCredentials)));
        }
    }

    #[tokio::test]
    async fn an_over_long_password_is_refused_before_any_hashing() {
        // No expectations: any repository or hasher call would panic.
        let result = use_case(
            MockUserRepository::new(),
            MockPasswordHasher::new(),
            MockRefreshTokenRepository::new(),
        )
        .execute("ada@example.com", &"x".repeat(100_000))
        .await;
        assert!(matches!(result, Err(LogInError::InvalidCredentials)));
    }
}
