//! Value objects of accounts. Passwords and hashes never appear in `Debug` output.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::ValueError;

/// An e-mail address: trimmed, lower-cased, at most 254 characters, one `@` with a
/// non-empty local part (at most 64 characters) and a domain of dot-separated labels
/// of letters, digits and hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses and normalises an address.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let email = value.trim().to_lowercase();
        let invalid =
            || ValueError("email must be a valid address such as name@example.com".into());
        if email.len() > 254 {
            return Err(ValueError("email must be at most 254 characters".into()));
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(email))
        } else {
            Err(invalid())
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, ValueError> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> String {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::catalog::string_value!(
    /// A user's display name: trimmed, 1 to 100 characters.
    DisplayName,
    |value| crate::catalog::trimmed_with_length(value, "name", 100)
);

/// A plain-text password as typed, 8 to 128 characters. It is checked before any
/// hashing (so an over-long password costs nothing), is never stored, and shows as
/// `Password(<redacted>)` in `Debug` output. It implements neither `Display` nor
/// `Serialize`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// The shortest accepted password.
    pub const MIN_CHARS: usize = 8;
    /// The longest accepted password (bounds hashing work).
    pub const MAX_CHARS: usize = 128;

    /// Checks the policy. The value is not trimmed: spaces are part of a password.
    pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
        let value = value.into();
        // Count characters, but refuse absurd byte lengths before counting.
        if value.len() > Self::MAX_CHARS * 4 || value.chars().count() > Self::MAX_CHARS {
            return Err(ValueError(format!(
                "password must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if value.chars().count() < Self::MIN_CHARS {
            return Err(ValueError(format!(
                "password must be at least {} characters",
                Self::MIN_CHARS
            )));
        }
        Ok(Self(value))
    }

    /// The secret itself, for the password hasher only.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A password hash in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$…`).
/// Shown as `PasswordHash(<redacted>)` in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by a [`PasswordHasher`](super::PasswordHasher) or
    /// read from storage.
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lower_cased_and_validated() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a b@example.com",
            "ada@-example.com",
            "ada..b@example.com",
            "ada@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn password_policy_and_redaction() {
        assert!(Password::new("short").is_err());
        assert!(Password::new("x".repeat(128)).is_ok());
        assert!(Password::new("x".repeat(129)).is_err());
        assert!(Password::new("x".repeat(1_000_000)).is_err());
        let password = Password::new("correct horse battery").unwrap();
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        let hash = PasswordHash::new("$argon2id$secret");
        assert!(!format!("{hash:?}").contains("secret"));
    }
}
