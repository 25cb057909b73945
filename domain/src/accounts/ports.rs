//! Ports of accounts: user and refresh-token storage, password hashing, and token
//! issuing.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::session::RefreshTokenRecord;
use super::user::User;
use super::values::{Email, Password, PasswordHash};
use crate::access::{Role, UserId};
use crate::pagination::{Page, PageRequest};

/// Failures of [`UserRepository`].
#[derive(Debug, thiserror::Error)]
pub enum UserRepositoryError {
    /// Another account has this e-mail address.
    #[error("an account with this e-mail address already exists")]
    DuplicateEmail,
    /// The account to update does not exist.
    #[error("user {0} not found")]
    NotFound(UserId),
    /// The store cannot be reached now (connection refused, no free connection,
    /// server gone); the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores user accounts.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Inserts a new account. Errors: `DuplicateEmail`, `Unavailable`, `Unexpected`.
    async fn insert(&self, user: &User) -> Result<(), UserRepositoryError>;
    /// The account with this id. Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, id: UserId) -> Result<Option<User>, UserRepositoryError>;
    /// The account with this (normalised) address. Errors: `Unavailable`, `Unexpected`.
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, UserRepositoryError>;
    /// A page of accounts, oldest first. Errors: `Unavailable`, `Unexpected`.
    async fn list(&self, page: PageRequest) -> Result<Page<User>, UserRepositoryError>;
    /// Replaces the stored account with the same id. Errors: `NotFound`, `DuplicateEmail`,
    /// `Unavailable`, `Unexpected`.
    async fn update(&self, user: &User) -> Result<(), UserRepositoryError>;
    /// Sets the password hash of account `id` alone, if the account is active (a
    /// change of role or active flag meanwhile is kept); whether it did.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, UserRepositoryError>;
    /// Marks the address of account `id` verified, touching nothing else.
    /// Errors: `Unavailable`, `Unexpected`.
    async fn mark_email_verified(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), UserRepositoryError>;
    /// Checks that the store answers (readiness probes). Errors: `Unavailable`, `Unexpected`.
    async fn ping(&self) -> Result<(), UserRepositoryError>;
}

/// Failures of [`RefreshTokenRepository`].
#[derive(Debug, thiserror::Error)]
pub enum RefreshTokenRepositoryError {
    /// The store cannot be reached now (connection refused, no free connection,
    /// server gone); the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores refresh-token records (hashes only).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RefreshTokenRepository: Send + Sync {
    /// Stores a newly issued token. Errors: `Unavailable`, `Unexpected`.
    async fn insert(&self, record: &RefreshTokenRecord) -> Result<(), RefreshTokenRepositoryError>;
    /// The record with this id (`jti`). Errors: `Unavailable`, `Unexpected`.
    async fn get(
        &self,
        id: Uuid,
    ) -> Result<Option<RefreshTokenRecord>, RefreshTokenRepositoryError>;
    /// Marks the token used, atomically and only if it is unused, unrevoked and no
    /// token of its family is revoked: `true` when this call used it, `false`
    /// otherwise (so two concurrent refreshes with one token can never both succeed,
    /// and a token issued into a family while the family was being revoked never
    /// works). Errors: `Unavailable`, `Unexpected`.
    async fn mark_used(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, RefreshTokenRepositoryError>;
    /// Revokes every not-yet-revoked token of the family. Errors: `Unavailable`, `Unexpected`.
    async fn revoke_family(
        &self,
        family_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), RefreshTokenRepositoryError>;
    /// Revokes every not-yet-revoked token of the user. Errors: `Unavailable`, `Unexpected`.
    async fn revoke_all_for_user(
        &self,
        user_id: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), RefreshTokenRepositoryError>;
}

/// Failures of [`PasswordHasher`].
#[derive(Debug, thiserror::Error)]
pub enum PasswordHasherError {
    /// The stored hash could not be read (corrupt or of an unknown scheme).
    #[error("malformed password hash")]
    MalformedHash,
    /// Hashing failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Hashes and verifies passwords (argon2id in production).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A salted hash of `password`. Errors: `Unexpected`.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordHasherError>;
    /// Whether `password` matches `hash`, in time independent of where they differ.
    /// Errors: `MalformedHash`, `Unexpected`.
    async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<bool, PasswordHasherError>;
}

/// What an access token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The account (`sub`).
    pub user_id: UserId,
    /// Its role when the token was issued (`role`).
    pub role: Role,
    /// Its email when the token was issued (`email`), so a service without the
    /// account store (orders) can name the buyer; absent in older tokens.
    pub email: Option<Email>,
}

/// What a refresh token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshClaims {
    /// The account (`sub`).
    pub user_id: UserId,
    /// The token's record id (`jti`).
    pub token_id: Uuid,
}

/// A signed token and how long it lives.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The encoded token.
    pub token: String,
    /// Lifetime from issue.
    pub expires_in: Duration,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Why a token was refused. Deliberately coarse: callers learn nothing about which
/// check failed beyond expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token was valid but has expired.
    #[error("token expired")]
    Expired,
    /// Bad signature, algorithm, issuer, audience, type or shape.
    #[error("invalid token")]
    Invalid,
}

/// Issues and verifies signed tokens. Access and refresh tokens carry a type claim,
/// and each verify method accepts only its own type.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    /// A short-lived access token for `claims`.
    fn issue_access(&self, claims: AccessClaims, now: DateTime<Utc>)
    -> anyhow::Result<IssuedToken>;
    /// A refresh token for `claims`.
    fn issue_refresh(
        &self,
        claims: RefreshClaims,
        now: DateTime<Utc>,
    ) -> anyhow::Result<IssuedToken>;
    /// The claims of a valid access token.
    fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError>;
    /// The claims of a valid refresh token.
    fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError>;
}

/// An account's role and active flag as they are now: what the services without the
/// account store check access tokens against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountStanding {
    /// The role now.
    pub role: Role,
    /// Whether the account may still sign in.
    pub active: bool,
}

/// Failures of [`AccountChanges`].
#[derive(Debug, thiserror::Error)]
pub enum AccountChangesError {
    /// The store cannot be reached now.
    #[error("the account changes cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// It failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Carries role and active-flag changes from the users service to every other
/// service within seconds, so a token issued before a change stops speaking for
/// the account everywhere, not only where the account store is at hand.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AccountChanges: Send + Sync {
    /// Tells every service that `user` now stands as `standing`. Errors:
    /// `Unavailable`, `Unexpected`.
    async fn publish(
        &self,
        user: UserId,
        standing: AccountStanding,
    ) -> Result<(), AccountChangesError>;
    /// How `user` stands, if their role or active flag changed within the lifetime
    /// of an access token (`None`: no change a live token could predate). Errors:
    /// `Unavailable`, `Unexpected`.
    async fn standing(&self, user: UserId) -> Result<Option<AccountStanding>, AccountChangesError>;
}
