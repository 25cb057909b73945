//! Account use cases: registration, sessions (log in, refresh, log out), the
//! current user, user administration, and [`Accounts`], all of them built over one
//! set of ports.

mod account_emails;
mod authenticate;
mod create_admin;
mod get_current_user;
mod get_user;
mod list_users;
mod log_in;
mod log_out;
mod refresh_session;
mod register_user;
mod session;
mod update_user;

use std::sync::Arc;

use emporium_domain::accounts::{
    AccountChanges, AccountTokenRepository, PasswordHasher, RefreshTokenRepository, TokenIssuer,
    UserRepository,
};
use emporium_domain::notifications::{MailTemplates, Mailer};
use emporium_domain::secrets::SecretGenerator;
use emporium_domain::{Clock, IdGenerator};

pub use account_emails::{
    AccountEmailError, AccountMails, ConfirmEmail, ConfirmPasswordReset, PASSWORD_RESET_TTL,
    RequestPasswordReset, ResendVerification, VERIFICATION_TTL,
};
pub use authenticate::{Authenticate, AuthenticateError};
pub use create_admin::{CreateAdmin, CreateAdminError};
pub use get_current_user::{GetCurrentUser, GetCurrentUserError};
pub use get_user::{GetUser, GetUserError};
pub use list_users::{ListUsers, ListUsersError};
pub use log_in::{LogIn, LogInError};
pub use log_out::{LogOut, LogOutError};
pub use refresh_session::{RefreshSession, RefreshSessionError};
pub use register_user::{RegisterUser, RegisterUserError};
pub use session::{Session, SessionIssuer};
pub use update_user::{UpdateUser, UpdateUserError};

#[cfg(test)]
mod test_support;

/// The ports the account use cases drive.
#[derive(Clone)]
pub struct AccountsPorts {
    /// Account storage.
    pub users: Arc<dyn UserRepository>,
    /// Refresh-token storage (hashes only).
    pub refresh_tokens: Arc<dyn RefreshTokenRepository>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Signs and verifies tokens.
    pub tokens: Arc<dyn TokenIssuer>,
    /// New ids.
    pub ids: Arc<dyn IdGenerator>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Where role and active-flag changes are published for the services without
    /// the account store (`serve users` of a split deployment; `None` in one
    /// process).
    pub changes: Option<Arc<dyn AccountChanges>>,
    /// Mailed single-use tokens (hashes).
    pub account_tokens: Arc<dyn AccountTokenRepository>,
    /// Sends account mail.
    pub mailer: Arc<dyn Mailer>,
    /// Renders it.
    pub templates: Arc<dyn MailTemplates>,
    /// Makes the tokens.
    pub secrets: Arc<dyn SecretGenerator>,
}

/// Every account use case, over one set of ports.
pub struct Accounts {
    /// Creates a customer account.
    pub register: RegisterUser,
    /// Exchanges credentials for a session.
    pub log_in: LogIn,
    /// Exchanges a refresh token (once) for a new session.
    pub refresh: RefreshSession,
    /// Ends a session.
    pub log_out: LogOut,
    /// The signed-in user's account.
    pub current_user: GetCurrentUser,
    /// One account: the user's own, or any for an admin.
    pub get_user: GetUser,
    /// Lists accounts (admins).
    pub list_users: ListUsers,
    /// Changes an account's role or active flag (admins).
    pub update_user: UpdateUser,
    /// Creates an administrator (`users create-admin`, the bootstrap admin).
    pub create_admin: CreateAdmin,
    /// Bearer tokens → actors, checked against the stored accounts.
    pub authenticate: Authenticate,
    /// Mails a password reset token (answers alike for every address).
    pub request_password_reset: RequestPasswordReset,
    /// Sets a new password with a reset token.
    pub confirm_password_reset: ConfirmPasswordReset,
    /// Verifies an address with its token.
    pub confirm_email: ConfirmEmail,
    /// Mails a new verification token.
    pub resend_verification: ResendVerification,
}

impl Accounts {
    /// The use cases over `ports`.
    pub fn new(ports: AccountsPorts) -> Self {
        let AccountsPorts {
            users,
            refresh_tokens,
            hasher,
            tokens,
            ids,
            clock,
            changes,
            account_tokens,
            mailer,
            templates,
            secrets,
        } = ports;
        let mails = AccountMails {
            tokens: account_tokens.clone(),
            mailer,
            templates,
            secrets,
            ids: ids.clone(),
            clock: clock.clone(),
        };
        let sessions = SessionIssuer::new(
            tokens.clone(),
            refresh_tokens.clone(),
            ids.clone(),
            clock.clone(),
        );
        Self {
            register: RegisterUser::new(users.clone(), hasher.clone(), ids.clone(), clock.clone())
                .with_verification(mails.clone()),
            request_password_reset: RequestPasswordReset::new(users.clone(), mails.clone()),
            confirm_password_reset: ConfirmPasswordReset::new(
                users.clone(),
                hasher.clone(),
                account_tokens.clone(),
                refresh_tokens.clone(),
                clock.clone(),
            ),
            confirm_email: ConfirmEmail::new(users.clone(), account_tokens, clock.clone()),
            resend_verification: ResendVerification::new(users.clone(), mails),
            log_in: LogIn::new(users.clone(), hasher.clone(), sessions.clone()),
            refresh: RefreshSession::new(users.clone(), sessions.clone()),
            log_out: LogOut::new(sessions),
            current_user: GetCurrentUser::new(users.clone()),
            get_user: GetUser::new(users.clone()),
            list_users: ListUsers::new(users.clone()),
            update_user: UpdateUser::new(users.clone(), refresh_tokens, clock.clone())
                .with_account_changes(changes),
            create_admin: CreateAdmin::new(users.clone(), hasher, ids, clock),
            authenticate: Authenticate::new(tokens).with_users(users),
        }
    }
}
