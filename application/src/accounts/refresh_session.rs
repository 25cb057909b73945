use std::sync::Arc;

use emporium_domain::accounts::UserRepository;

use super::session::{Session, SessionIssuer};

use crate::failure::{Failure, FailureKind, UseCaseError};

/// Exchanges a refresh token for a new session in the same family. Each refresh
/// token works once: the old one stops working, and presenting an already-used
/// token again (a sign it was stolen) revokes the whole family. A deactivated
/// account cannot refresh, so its access ends when its access token expires. The
/// new access token carries the account's current role.
pub struct RefreshSession {
    users: Arc<dyn UserRepository>,
    sessions: SessionIssuer,
}

/// Failures of [`RefreshSession`].
#[derive(Debug, thiserror::Error)]
pub enum RefreshSessionError {
    /// The token is invalid, expired, used, revoked, or its account is inactive.
    #[error("The refresh token is not valid, has expired or was already used.")]
    InvalidToken,
    /// Storage or signing failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for RefreshSessionError {
    fn failure(&self) -> Failure {
        match self {
            Self::InvalidToken => Failure::new(FailureKind::Rejected, "invalid_token"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl RefreshSession {
    /// The use case over its ports.
    pub fn new(users: Arc<dyn UserRepository>, sessions: SessionIssuer) -> Self {
        Self { users, sessions }
    }

    /// Uses up `refresh_token` and returns the next session.
    #[tracing::instrument(name = "refresh_session", skip_all)]
    pub async fn execute(&self, refresh_token: &str) -> Result<Session, RefreshSessionError> {
        let record = self
            .sessions
            .record_of(refresh_token)
            .await?
            .ok_or(RefreshSessionError::InvalidToken)?;
        let now = self.sessions.now();
        if record.used_at.is_some() {
            tracing::warn!(user_id = %record.user_id, family_id = %record.family_id, "refresh token reused; revoking its family");
            self.revoke_family(&record).await?;
            return Err(RefreshSessionError::InvalidToken);
        }
        if !record.is_usable(now) {
            return Err(RefreshSessionError::InvalidToken);
        }
        let user = self
            .users
            .get(record.user_id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the account"))?;
        let Some(user) = user.filter(|user| user.active) else {
            self.revoke_family(&record).await?;
            return Err(RefreshSessionError::InvalidToken);
        };
        let used = self
            .sessions
            .refresh_tokens()
            .mark_used(record.id, now)
            .await
            .map_err(|e| anyhow::Error::new(e).context("using up the refresh token"))?;
        if !used {
            // Another request used it between our read and our update: a replay.
            tracing::warn!(user_id = %record.user_id, family_id = %record.family_id, "refresh token raced; revoking its family");
            self.revoke_family(&record).await?;
            return Err(RefreshSessionError::InvalidToken);
        }
        Ok(self.sessions.start(user, record.family_id).await?)
    }

    async fn revoke_family(
        &self,
        record: &emporium_domain::accounts::RefreshTokenRecord,
    ) -> anyhow::Result<()> {
        self.sessions
            .refresh_tokens()
            .revoke_family(record.family_id, self.sessions.now())
            .await
            .map_err(|e| anyhow::Error::new(e).context("revoking the session"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::session::hash_refresh_token;
    use crate::accounts::test_support::*;
    use emporium_domain::accounts::{
        IssuedToken, MockRefreshTokenRepository, MockTokenIssuer, MockUserRepository,
        RefreshClaims, RefreshTokenRecord, TokenError,
    };
    use emporium_domain::{Role, UserId};
    use std::time::Duration;
    use uuid::Uuid;

    fn record(used: bool, revoked: bool) -> RefreshTokenRecord {
        RefreshTokenRecord {
            id: Uuid::from_u128(50),
            family_id: Uuid::from_u128(60),
            user_id: UserId(Uuid::from_u128(1)),
            token_hash: hash_refresh_token("old-refresh"),
            issued_at: now(),
            expires_at: now() + chrono::Duration::days(30),
            used_at: used.then(now),
            revoked_at: revoked.then(now),
        }
    }

    fn tokens() -> MockTokenIssuer {
        let mut tokens = MockTokenIssuer::new();
        tokens.expect_verify_refresh().returning(|token| {
            if token == "old-refresh" {
                Ok(RefreshClaims {
                    user_id: UserId(Uuid::from_u128(1)),
                    token_id: Uuid::from_u128(50),
                })
            } else {
                Err(TokenError::Invalid)
            }
        });
        tokens.expect_issue_access().returning(|_, _| {
            Ok(IssuedToken {
                token: "new-access".into(),
                expires_in: Duration::from_secs(900),
            })
        });
        tokens.expect_issue_refresh().returning(|_, _| {
            Ok(IssuedToken {
                token: "new-refresh".into(),
                expires_in: Duration::from_secs(3600),
            })
        });
        tokens
    }

    fn use_case(users: MockUserRepository, refresh: MockRefreshTokenRepository) -> RefreshSession {
        RefreshSession::new(
            Arc::new(users),
            SessionIssuer::new(Arc::new(tokens()), Arc::new(refresh), ids(), clock()),
        )
    }

    #[tokio::test]
    async fn rotates_within_the_same_family() {
        let mut users = MockUserRepository::new();
        users
            .expect_get()
            .returning(|_| Ok(Some(user(1, Role::Admin, true))));
        let mut refresh = MockRefreshTokenRepository::new();
        refresh
            .expect_get()
            .returning(|_| Ok(Some(record(false, false))));
        refresh
            .expect_mark_used()
            .times(1)
            .returning(|_, _| Ok(true));
        refresh
            .expect_insert()
            .withf(|r| r.family_id == Uuid::from_u128(60) && r.id != Uuid::from_u128(50))
            .times(1)
            .returning(|_| Ok(()));
        let session = use_case(users, refresh)
            .execute("old-refresh")
            .await
            .unwrap();
        assert_eq!(session.refresh.token, "new-refresh");
    }

    #[tokio::test]
    async fn a_reused_token_revokes_its_family() {
        let mut refresh = MockRefreshTokenRepository::new();
        refresh
            .expect_get()
            .returning(|_| Ok(Some(record(true, false))));
        refresh
            .expect_revoke_family()
            .withf(|family, _| *family == Uuid::from_u128(60))
            .times(1)
            .returning(|_, _| Ok(()));
        let result = use_case(MockUserRepository::new(), refresh)
            .execute("old-refresh")
            .await;
        assert!(matches!(result, Err(RefreshSessionError::InvalidToken)));
    }

    #[tokio::test]
    async fn losing_the_race_to_use_a_token_counts_as_reuse() {
        let mut users = MockUserRepository::new();
        users
            .expect_get()
            .returning(|_| Ok(Some(user(1, Role::Customer, true))));
        let mut refresh = MockRefreshTokenRepository::new();
        refresh
            .expect_get()
            .returning(|_| Ok(Some(record(false, false))));
        refresh.expect_mark_used().returning(|_, _| Ok(false));
        refresh
            .expect_revoke_family()
            .times(1)
            .returning(|_, _| Ok(()));
        let result = use_case(users, refresh).execute("old-refresh").await;
        assert!(matches!(result, Err(RefreshSessionError::InvalidToken)));
    }

    #[tokio::test]
    async fn a_deactivated_account_cannot_refresh() {
        let mut users = MockUserRepository::new();
        users
            .expect_get()
            .returning(|_| Ok(Some(user(1, Role::Customer, false))));
        let mut refresh = MockRefreshTokenRepository::new();
        refresh
            .expect_get()
            .returning(|_| Ok(Some(record(false, false))));
        refresh.expect_revoke_family().returning(|_, _| Ok(()));
        let result = use_case(users, refresh).execute("old-refresh").await;
        assert!(matches!(result, Err(RefreshSessionError::InvalidToken)));
    }

    #[tokio::test]
    async fn revoked_unknown_and_forged_tokens_are_refused() {
        let mut refresh = MockRefreshTokenRepository::new();
        refresh
            .expect_get()
            .returning(|_| Ok(Some(record(false, true))));
        let uc = use_case(MockUserRepository::new(), refresh);
        assert!(matches!(
            uc.execute("old-refresh").await,
            Err(RefreshSessionError::InvalidToken)
        ));
        assert!(matches!(
            uc.execute("forged").await,
            Err(RefreshSessionError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn a_token_whose_hash_does_not_match_the_record_is_refused() {
        let mut refresh = MockRefreshTokenRepository::new();
        refresh.expect_get().returning(|_| {
            let mut r = record(false, false);
            r.token_hash = hash_refresh_token("some other token");
            Ok(Some(r))
        });
        let result = use_case(MockUserRepository::new(), refresh)
            .execute("old-refresh")
            .await;
        assert!(matches!(result, Err(RefreshSessionError::InvalidToken)));
    }
}
