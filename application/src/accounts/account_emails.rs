//! Account emails: password resets and address verification. The users service
//! sends these itself through the mailer port — a plaintext token never enters the
//! outbox or the bus — and stores only a hash of each token, which works once,
//! before it expires.
//!
//! - [`RequestPasswordReset`] answers the same whether or not the address has an
//!   account (no enumeration); an active account gets a token valid 30 minutes.
//! - [`ConfirmPasswordReset`] sets the new password and revokes every refresh token
//!   of the account (every session ends).
//! - Registration mails a verification token ([`AccountMails::send_verification`]);
//!   [`ConfirmEmail`] marks the address verified; [`ResendVerification`] mails a new
//!   one. Unverified accounts can sign in and shop.

use std::sync::Arc;

use chrono::TimeDelta;
use emporium_domain::accounts::{
    AccountToken, AccountTokenPurpose, AccountTokenRepository, Email, Password, PasswordHasher,
    RefreshTokenRepository, User, UserRepository,
};
use emporium_domain::notifications::{
    AccountMail, MailContent, MailTemplates, Mailer, MessageKey, OutgoingMail,
};
use emporium_domain::secrets::SecretGenerator;
use emporium_domain::{AccessDenied, Actor, Clock, IdGenerator};

use super::session::hash_refresh_token;
use crate::failure::{Failure, UseCaseError};

/// How long a password reset token works.
pub const PASSWORD_RESET_TTL: TimeDelta = TimeDelta::minutes(30);
/// How long an address verification token works.
pub const VERIFICATION_TTL: TimeDelta = TimeDelta::days(7);

/// Makes, stores and mails account tokens.
#[derive(Clone)]
pub struct AccountMails {
    /// The token store.
    pub tokens: Arc<dyn AccountTokenRepository>,
    /// Sends the mail.
    pub mailer: Arc<dyn Mailer>,
    /// Renders it.
    pub templates: Arc<dyn MailTemplates>,
    /// Makes the tokens.
    pub secrets: Arc<dyn SecretGenerator>,
    /// Token ids.
    pub ids: Arc<dyn IdGenerator>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl AccountMails {
    async fn send(&self, user: &User, purpose: AccountTokenPurpose) -> anyhow::Result<()> {
        let (mail, ttl) = match purpose {
            AccountTokenPurpose::PasswordReset => (AccountMail::PasswordReset, PASSWORD_RESET_TTL),
            AccountTokenPurpose::EmailVerification => (AccountMail::VerifyEmail, VERIFICATION_TTL),
        };
        let token = self.secrets.one_time_token();
        let now = self.clock.now();
        let record = AccountToken {
            id: self.ids.new_id(),
            user_id: user.id,
            purpose,
            token_hash: hash_refresh_token(&token),
            expires_at: now + ttl,
            created_at: now,
        };
        self.tokens
            .insert(&record)
            .await
            .map_err(|error| anyhow::Error::new(error).context("storing the token"))?;
        let content = self.templates.render(&MailContent::Account {
            mail,
            name: user.name.as_str().to_owned(),
            token,
            valid_minutes: u32::try_from(ttl.num_minutes()).unwrap_or(u32::MAX),
        })?;
        self.mailer
            .send(&OutgoingMail {
                key: MessageKey::for_account_token(record.id),
                to: user.email.clone(),
                content,
            })
            .await
            .map_err(|error| anyhow::Error::new(error).context("sending the mail"))?;
        tracing::info!(user_id = %user.id, purpose = purpose.as_str(), "account mail sent");
        Ok(())
    }

    /// Mails `user` a verification token. A failure is logged, not returned: the
    /// account exists, and a new token can be asked for.
    pub async fn send_verification(&self, user: &User) {
        if let Err(error) = self
            .send(user, AccountTokenPurpose::EmailVerification)
            .await
        {
            tracing::warn!(
                user_id = %user.id,
                error = format!("{error:#}"),
                "the verification mail was not sent; the user may ask for another"
            );
        }
    }
}

/// Failures of the account-email use cases.
#[derive(Debug, thiserror::Error)]
pub enum AccountEmailError {
    /// Not signed in (resending a verification).
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The token is unknown, used or expired.
    #[error("The token is unknown, used or expired; ask for a new one.")]
    InvalidToken,
    /// Storage or hashing failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for AccountEmailError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::InvalidToken => Failure::invalid("invalid_account_token").on_value("token"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

/// Asks for a password reset (see the [module docs](self)).
pub struct RequestPasswordReset {
    users: Arc<dyn UserRepository>,
    mails: AccountMails,
}

impl RequestPasswordReset {
    /// The use case over its ports.
    pub fn new(users: Arc<dyn UserRepository>, mails: AccountMails) -> Self {
        Self { users, mails }
    }

    /// Mails a reset token to `email` if an active account has it. Answers alike
    /// either way; only a store that cannot be reached is an error (for every
    /// address alike).
    pub async fn execute(&self, email: &Email) -> Result<(), AccountEmailError> {
        let user = self
            .users
            .find_by_email(email)
            .await
            .map_err(|error| anyhow::Error::new(error).context("looking up the account"))?;
        match user {
            Some(user) if user.active => {
                if let Err(error) = self
                    .mails
                    .send(&user, AccountTokenPurpose::PasswordReset)
                    .await
                {
                    tracing::warn!(
                        user_id = %user.id,
                        error = format!("{error:#}"),
                        "the password reset mail was not sent"
                    );
                }
            }
            _ => tracing::info!("a password reset was asked for an address with no active account"),
        }
        Ok(())
    }
}

/// Sets a new password with a reset token (see the [module docs](self)).
pub struct ConfirmPasswordReset {
    users: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn AccountTokenRepository>,
    refresh_tokens: Arc<dyn RefreshTokenRepository>,
    clock: Arc<dyn Clock>,
}

impl ConfirmPasswordReset {
    /// The use case over its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn AccountTokenRepository>,
        refresh_tokens: Arc<dyn RefreshTokenRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            hasher,
            tokens,
            refresh_tokens,
            clock,
        }
    }

    /// Uses up `token`, sets `password`, and ends every session of the account.
    pub async fn execute(&self, token: &str, password: &Password) -> Result<(), AccountEmailError> {
        let now = self.clock.now();
        let user_id = self
            .tokens
            .consume(
                AccountTokenPurpose::PasswordReset,
                &hash_refresh_token(token),
                now,
            )
            .await
            .map_err(|error| anyhow::Error::new(error).context("using the reset token"))?
            .ok_or(AccountEmailError::InvalidToken)?;
        let hash = self
            .hasher
            .hash(password)
            .await
            .map_err(|error| anyhow::Error::new(error).context("hashing the password"))?;
        // The password alone, and only while the account is active: a deactivation
        // or a role change made meanwhile stands.
        let set = self
            .users
            .set_password_hash(user_id, &hash, now)
            .await
            .map_err(|error| anyhow::Error::new(error).context("storing the password"))?;
        if !set {
            return Err(AccountEmailError::InvalidToken);
        }
        self.tokens
            .revoke_all(user_id, AccountTokenPurpose::PasswordReset, now)
            .await
            .map_err(|error| anyhow::Error::new(error).context("revoking other reset tokens"))?;
        self.refresh_tokens
            .revoke_all_for_user(user_id, now)
            .await
            .map_err(|error| anyhow::Error::new(error).context("ending the sessions"))?;
        tracing::info!(user_id = %user_id, "password reset; every session ended");
        Ok(())
    }
}

/// Marks an address verified with a verification token.
pub struct ConfirmEmail {
    users: Arc<dyn UserRepository>,
    tokens: Arc<dyn AccountTokenRepository>,
    clock: Arc<dyn Clock>,
}

impl ConfirmEmail {
    /// The use case over its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        tokens: Arc<dyn AccountTokenRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            tokens,
            clock,
        }
    }

    /// Uses up `token` and marks its account's address verified.
    pub async fn execute(&self, token: &str) -> Result<(), AccountEmailError> {
        let now = self.clock.now();
        let user_id = self
            .tokens
            .consume(
                AccountTokenPurpose::EmailVerification,
                &hash_refresh_token(token),
                now,
            )
            .await
            .map_err(|error| anyhow::Error::new(error).context("using the verification token"))?
            .ok_or(AccountEmailError::InvalidToken)?;
        self.users
            .mark_email_verified(user_id, now)
            .await
            .map_err(|error| anyhow::Error::new(error).context("storing the account"))?;
        tracing::info!(user_id = %user_id, "address verified");
        Ok(())
    }
}

/// Mails the signed-in user a new verification token (nothing when verified).
pub struct ResendVerification {
    users: Arc<dyn UserRepository>,
    mails: AccountMails,
}

impl ResendVerification {
    /// The use case over its ports.
    pub fn new(users: Arc<dyn UserRepository>, mails: AccountMails) -> Self {
        Self { users, mails }
    }

    /// Mails a new token to `actor`'s address unless it is verified.
    pub async fn execute(&self, actor: &Actor) -> Result<(), AccountEmailError> {
        let id = actor.ensure_user()?;
        let user = self
            .users
            .get(id)
            .await
            .map_err(|error| anyhow::Error::new(error).context("loading the account"))?
            .ok_or(AccountEmailError::Denied(AccessDenied::Unauthenticated))?;
        if !user.email_verified {
            self.mails
                .send(&user, AccountTokenPurpose::EmailVerification)
                .await?;
        }
        Ok(())
    }
}
