//! Refresh-token records. A session is a *family* of refresh tokens: each refresh
//! uses up one token and issues the next in the same family. Presenting a used token
//! again means it was stolen or replayed, and revokes the whole family.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::access::UserId;

/// A one-way hash of a refresh token (hex SHA-256). Only hashes are stored, so a
/// leaked table yields no usable token. Shown redacted in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshTokenHash(String);

impl RefreshTokenHash {
    /// Wraps a hash computed by the application layer or read from storage.
    pub fn new(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }

    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshTokenHash(<redacted>)")
    }
}

/// One issued refresh token, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// The token's id (its `jti` claim).
    pub id: Uuid,
    /// The session the token belongs to.
    pub family_id: Uuid,
    /// The account.
    pub user_id: UserId,
    /// Hash of the token string.
    pub token_hash: RefreshTokenHash,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for a new one, if it was.
    pub used_at: Option<DateTime<Utc>>,
    /// When it (or its family) was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl RefreshTokenRecord {
    /// True when the token may still be exchanged at `now`.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}
