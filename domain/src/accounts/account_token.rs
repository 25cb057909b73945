//! Single-use tokens mailed to an account's address: a password reset, or the
//! verification of the address. Only a hash of each token is stored; a token works
//! once, before it expires.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::UserId;

use super::RefreshTokenHash;

/// What a mailed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountTokenPurpose {
    /// Setting a new password without the old one.
    PasswordReset,
    /// Proving the account's address receives mail.
    EmailVerification,
}

impl AccountTokenPurpose {
    /// As stored (`password_reset`, `email_verification`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
        }
    }
}

/// A stored token (its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountToken {
    /// Identity (also the mail's message key).
    pub id: Uuid,
    /// Whose.
    pub user_id: UserId,
    /// What for.
    pub purpose: AccountTokenPurpose,
    /// Hex SHA-256 of the token.
    pub token_hash: RefreshTokenHash,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Failures of the token store.
#[derive(Debug, thiserror::Error)]
pub enum AccountTokenRepositoryError {
    /// The store cannot be reached.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores mailed tokens (hashes only).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AccountTokenRepository: Send + Sync {
    /// Stores a new token. Errors: `Unavailable`, `Unexpected`.
    async fn insert(&self, token: &AccountToken) -> Result<(), AccountTokenRepositoryError>;
    /// Uses up the token with `hash` for `purpose`, atomically, if it is unused and
    /// unexpired at `now`; returns its account (`None`: no such usable token).
    /// Errors: `Unavailable`, `Unexpected`.
    async fn consume(
        &self,
        purpose: AccountTokenPurpose,
        hash: &RefreshTokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, AccountTokenRepositoryError>;
    /// Uses up every unused token of `user` for `purpose` (after a password reset,
    /// the other reset mails stop working). Errors: `Unavailable`, `Unexpected`.
    async fn revoke_all(
        &self,
        user: UserId,
        purpose: AccountTokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<(), AccountTokenRepositoryError>;
}
