//! Emails: what is said ([`MailContent`]), rendered by [`MailTemplates`] into a
//! [`RenderedMail`], and sent by a [`Mailer`] as an [`OutgoingMail`].

use async_trait::async_trait;

use crate::UserId;
use crate::accounts::Email;
use crate::orders::{EventData, EventId};

/// The local part of an email's `Message-ID` (the mailer adds `@` and its domain).
///
/// It derives from what the mail is about — for an order event, the event id and the
/// recipient — so every send of the same mail, including a resend after a crash, is
/// recognisably the same message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageKey(String);

/// A message key with characters a `Message-ID` cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a message key is 1 to 200 letters, digits, dots and hyphens")]
pub struct InvalidMessageKey;

impl MessageKey {
    /// The key of the mail telling `recipient` of event `event`.
    pub fn for_event(event: EventId, recipient: UserId) -> Self {
        Self(format!("{}.{}", event.0, recipient.0))
    }

    /// The key of the mail carrying account token `token_id` (a password reset, an
    /// address verification).
    pub fn for_account_token(token_id: uuid::Uuid) -> Self {
        Self(format!("account.{token_id}"))
    }

    /// The key of the admin notice that subscription `webhook` was disabled by
    /// event `event`'s delivery.
    pub fn for_webhook_disabled(webhook: uuid::Uuid, event: EventId) -> Self {
        Self(format!("webhook-disabled.{webhook}.{}", event.0))
    }

    /// The key of the live-push-only message telling `recipient` of `event`.
    pub fn for_push(event: EventId, recipient: UserId) -> Self {
        Self(format!("{}.{}.push", event.0, recipient.0))
    }

    /// A key read back from storage, checked.
    pub fn parse(text: &str) -> Result<Self, InvalidMessageKey> {
        let valid = !text.is_empty()
            && text.len() <= 200
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-')
            && !text.starts_with('.')
            && !text.ends_with('.')
            && !text.contains("..");
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidMessageKey)
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which message about an order (design §6: one per transition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderMail {
    /// The order was placed.
    Confirmation,
    /// The order became paid, shipped, delivered or cancelled.
    StatusChanged,
    /// A payment was refused.
    PaymentFailed,
    /// Money went back.
    PaymentRefunded,
    /// A payment succeeded (pushed live, never mailed: the order's status mail tells
    /// it).
    PaymentSucceeded,
}

/// Which email about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountMail {
    /// A password reset was asked for: the token sets a new password.
    PasswordReset,
    /// A new account: the token proves the address receives mail.
    VerifyEmail,
}

/// What an email says, before it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailContent {
    /// A mail about an account, carrying a single-use token.
    Account {
        /// Which mail.
        mail: AccountMail,
        /// The account's display name.
        name: String,
        /// The token (sent only in this mail; stored hashed).
        token: String,
        /// How long the token works, in minutes.
        valid_minutes: u32,
    },
    /// A mail about an order, from one of its events.
    Order {
        /// Which mail.
        mail: OrderMail,
        /// The event's data: the order as it is, and what the event adds (carrier and
        /// tracking number, cancel reason).
        data: EventData,
    },
}

/// A rendered email: subject, HTML and a plain-text alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// The subject line (one line).
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The plain-text part.
    pub text: String,
}

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Its `Message-ID`'s local part.
    pub key: MessageKey,
    /// The recipient.
    pub to: Email,
    /// Subject and bodies.
    pub content: RenderedMail,
}

/// Renders emails from templates (HTML escaped, with a plain-text alternative).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait MailTemplates: Send + Sync {
    /// The rendered `content`. Errors: a template that fails to render.
    fn render(&self, content: &MailContent) -> anyhow::Result<RenderedMail>;
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// The mail server could not be reached; nothing was sent.
    #[error("the mail server cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The mail server refused the message (its reply, for the record).
    #[error("the mail server refused the message: {0}")]
    Rejected(String),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Sends emails. At least once: a mail may be sent again after a crash, with the
/// same `Message-ID` (from its [`MessageKey`]).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail`. Errors: `Unavailable`, `Rejected`, `Unexpected`.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailerError>;
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn an_events_message_key_is_stable_and_fits_a_message_id() {
        let key = MessageKey::for_event(EventId(Uuid::from_u128(1)), UserId(Uuid::from_u128(2)));
        assert_eq!(
            key,
            MessageKey::for_event(EventId(Uuid::from_u128(1)), UserId(Uuid::from_u128(2)))
        );
        assert_eq!(MessageKey::parse(key.as_str()), Ok(key));
        for bad in ["", "a b", "<x>", "a@b", ".a", "a..b", &"x".repeat(201)] {
            assert!(MessageKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
