//! The user entity.

use chrono::{DateTime, Utc};

use super::values::{DisplayName, Email, PasswordHash};
use crate::access::{Role, UserId};

/// A user account. The password hash is kept with the account but never leaves the
/// application layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identity.
    pub id: UserId,
    /// Sign-in address, unique, normalised.
    pub email: Email,
    /// Display name.
    pub name: DisplayName,
    /// What the account may do.
    pub role: Role,
    /// Whether the account may sign in.
    pub active: bool,
    /// Whether the address was proven to receive mail (accounts from before
    /// verification existed count as verified). Unverified accounts can sign in and
    /// shop.
    pub email_verified: bool,
    /// Hash of the password.
    pub password_hash: PasswordHash,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What registration supplies; the role is decided by the use case, never by the
/// caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in address.
    pub email: Email,
    /// Display name.
    pub name: DisplayName,
    /// The chosen password.
    pub password: super::values::Password,
}

/// An administrator's change to an account: `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserChanges {
    /// New role.
    pub role: Option<Role>,
    /// New active flag.
    pub active: Option<bool>,
}

impl User {
    /// Applies `changes` and stamps `updated_at`.
    pub fn apply(&mut self, changes: UserChanges, now: DateTime<Utc>) {
        if let Some(role) = changes.role {
            self.role = role;
        }
        if let Some(active) = changes.active {
            self.active = active;
        }
        self.updated_at = now.max(self.created_at);
    }
}
