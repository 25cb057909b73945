use super::session::SessionIssuer;

use crate::failure::{Failure, FailureKind, UseCaseError};

/// Ends a session: revokes the presented refresh token and every other token of
/// its family. Logging out twice is not an error.
pub struct LogOut {
    sessions: SessionIssuer,
}

/// Failures of [`LogOut`].
#[derive(Debug, thiserror::Error)]
pub enum LogOutError {
    /// The token is not a valid refresh token of ours.
    #[error("The refresh token is not valid, has expired or was already used.")]
    InvalidToken,
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for LogOutError {
    fn failure(&self) -> Failure {
        match self {
            Self::InvalidToken => Failure::new(FailureKind::Rejected, "invalid_token"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl LogOut {
    /// The use case over its ports.
    pub fn new(sessions: SessionIssuer) -> Self {
        Self { sessions }
    }

    /// Revokes the session of `refresh_token`.
    #[tracing::instrument(name = "log_out", skip_all)]
    pub async fn execute(&self, refresh_token: &str) -> Result<(), LogOutError> {
        let record = self
            .sessions
            .record_of(refresh_token)
            .await?
            .ok_or(LogOutError::InvalidToken)?;
        self.sessions
            .refresh_tokens()
            .revoke_family(record.family_id, self.sessions.now())
            .await
            .map_err(|e| anyhow::Error::new(e).context("revoking the session"))?;
        tracing::info!(user_id = %record.user_id, "logged out");
        Ok(())
    }
}
