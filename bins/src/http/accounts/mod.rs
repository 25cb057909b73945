//! `/v1/auth/*` (register, log in, refresh, log out, password resets, address
//! verification) and `/v1/users/*` (the current user, one user, administration). Run by the all-in-one server and `serve users`.

pub mod rate_limit;

use std::convert::Infallible;
use std::sync::Arc;

use emporium_application::accounts::{Accounts, LogInError, Session};
use emporium_domain::accounts::{DisplayName, Email, NewUser, Password, User, UserChanges};
use emporium_domain::{Role, UserId};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{Enum, Object, OpenApi};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use self::rate_limit::AuthRateLimit;
use super::ApiTags;
use super::jsonapi::body::{Invalid, boolean, text};
use super::jsonapi::{
    Accepted, ApiError, ClientId, Created, EmailRule, Fields, JsonApi, JsonApiBody, ListDocument,
    Member, NoContent, QuerySpec, Resource, SingleDocument, Text, Timestamp, Trimmed, Write,
    path_id,
};
use super::middleware::auth::{SignedIn, UserAdmin};
use super::openapi::Queries;

/// The `users` resource. Never shows a password or its hash.
pub struct Users;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Enum)]
#[serde(rename_all = "lowercase")]
#[oai(rename = "Role", rename_all = "lowercase")]
pub enum RoleName {
    /// Shops.
    Customer,
    /// Runs the shop.
    Admin,
}

impl From<Role> for RoleName {
    fn from(role: Role) -> Self {
        match role {
            Role::Customer => Self::Customer,
            Role::Admin => Self::Admin,
        }
    }
}

/// Attributes of a user.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "UserAttributes", rename_all = "camelCase")]
pub struct UserAttributes {
    /// Sign-in address, normalised (trimmed, lower-cased); unique.
    pub email: Text<EmailRule>,
    /// Display name: 1-100 characters, not only spaces, no control characters.
    pub name: Text<Trimmed<100>>,
    /// `customer` or `admin`; every new account is a customer.
    pub role: RoleName,
    /// Whether the account may sign in.
    pub active: bool,
    /// Whether the address was confirmed with the mailed token (unverified accounts
    /// can sign in and shop).
    #[oai(read_only)]
    pub email_verified: bool,
    /// When it was created.
    #[oai(read_only)]
    pub created_at: Timestamp,
}

impl Resource for Users {
    type Model = User;
    type Attributes = UserAttributes;
    type Included = ();
    const TYPE: &'static str = "users";
    const NAME: &'static str = "User";
    const PATH: Option<&'static str> = Some("/v1/users");
    const ATTRIBUTES: &'static [&'static str] = &[
        "email",
        "name",
        "role",
        "active",
        "emailVerified",
        "createdAt",
    ];

    fn id(user: &User) -> Uuid {
        user.id.0
    }

    fn attributes(user: User) -> UserAttributes {
        UserAttributes {
            email: Text::new(user.email),
            name: Text::new(user.name),
            role: user.role.into(),
            active: user.active,
            email_verified: user.email_verified,
            created_at: user.created_at.into(),
        }
    }
}

/// The `credentials` of a log-in: only ever sent, never served.
pub struct Credentials;

/// Log-in attributes.
#[derive(Serialize, Object)]
#[oai(rename = "CredentialsAttributes")]
pub struct CredentialsAttributes {
    /// Sign-in address.
    pub email: String,
    /// Password.
    pub password: String,
}

impl Resource for Credentials {
    type Model = Infallible;
    type Attributes = CredentialsAttributes;
    type Included = ();
    const TYPE: &'static str = "credentials";
    const NAME: &'static str = "Credentials";
    const PATH: Option<&'static str> = None;
    const ATTRIBUTES: &'static [&'static str] = &["email", "password"];

    fn id(never: &Infallible) -> Uuid {
        match *never {}
    }

    fn attributes(never: Infallible) -> CredentialsAttributes {
        match never {}
    }
}

/// A `password-resets` request: only ever sent, never served.
pub struct PasswordResets;

/// Password reset attributes: the address (to ask for one), or the mailed token and
/// the new password (to confirm it).
#[derive(Serialize, Object)]
#[oai(rename = "PasswordResetAttributes")]
pub struct PasswordResetAttributes {
    /// The account's address (asking for a reset).
    pub email: Option<String>,
    /// The mailed token (confirming).
    pub token: Option<String>,
    /// The new password (confirming): 8-128 characters.
    pub password: Option<String>,
}

impl Resource for PasswordResets {
    type Model = Infallible;
    type Attributes = PasswordResetAttributes;
    type Included = ();
    const TYPE: &'static str = "password-resets";
    const NAME: &'static str = "PasswordReset";
    const PATH: Option<&'static str> = None;
    const ATTRIBUTES: &'static [&'static str] = &["email", "token", "password"];

    fn id(never: &Infallible) -> Uuid {
        match *never {}
    }

    fn attributes(never: Infallible) -> PasswordResetAttributes {
        match never {}
    }
}

/// An `email-verifications` request: only ever sent, never served.
pub struct EmailVerifications;

/// Verification attributes.
#[derive(Serialize, Object)]
#[oai(rename = "EmailVerificationAttributes")]
pub struct EmailVerificationAttributes {
    /// The mailed token.
    pub token: String,
}

impl Resource for EmailVerifications {
    type Model = Infallible;
    type Attributes = EmailVerificationAttributes;
    type Included = ();
    const TYPE: &'static str = "email-verifications";
    const NAME: &'static str = "EmailVerification";
    const PATH: Option<&'static str> = None;
    const ATTRIBUTES: &'static [&'static str] = &["token"];

    fn id(never: &Infallible) -> Uuid {
        match *never {}
    }

    fn attributes(never: Infallible) -> EmailVerificationAttributes {
        match never {}
    }
}

/// `POST /v1/auth/password-resets`.
pub struct RequestPasswordReset;

impl Write for RequestPasswordReset {
    type Resource = PasswordResets;
    const NAME: &'static str = "PasswordResetRequest";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[Member::required("email")];
}

/// `POST /v1/auth/password-resets/confirm`.
pub struct ConfirmPasswordReset;

impl Write for ConfirmPasswordReset {
    type Resource = PasswordResets;
    const NAME: &'static str = "PasswordResetConfirm";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[
        Member::required("token"),
        Member::required("password").with_schema(password_schema),
    ];
}

/// `POST /v1/auth/email-verifications/confirm`.
pub struct ConfirmEmailVerification;

impl Write for ConfirmEmailVerification {
    type Resource = EmailVerifications;
    const NAME: &'static str = "EmailVerificationConfirm";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[Member::required("token")];
}

/// A session's `tokens`. Its id is fresh for every answer: a session is not
/// addressable.
pub struct Tokens;

/// Session attributes.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "TokensAttributes", rename_all = "camelCase")]
pub struct TokensAttributes {
    /// Bearer token for `Authorization`.
    #[oai(read_only)]
    pub access_token: String,
    /// Exchange it once at `/v1/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    #[oai(read_only)]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[oai(read_only)]
    pub expires_in: u64,
}

impl Resource for Tokens {
    type Model = Session;
    type Attributes = TokensAttributes;
    type Included = ();
    const TYPE: &'static str = "tokens";
    const NAME: &'static str = "Tokens";
    const PATH: Option<&'static str> = None;
    const ATTRIBUTES: &'static [&'static str] =
        &["accessToken", "refreshToken", "tokenType", "expiresIn"];

    fn id(_session: &Session) -> Uuid {
        Uuid::new_v4()
    }

    fn attributes(session: Session) -> TokensAttributes {
        TokensAttributes {
            expires_in: session.access.expires_in.as_secs(),
            access_token: session.access.token,
            refresh_token: session.refresh.token,
            token_type: "Bearer".to_owned(),
        }
    }
}

/// `POST /v1/auth/register`: no role, no active flag — every new account is an active
/// customer.
pub struct Register;

impl Write for Register {
    type Resource = Users;
    const NAME: &'static str = "Register";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[
        Member::required("email"),
        Member::required("password").with_schema(password_schema),
        Member::required("name"),
    ];
}

/// 8 to 128 characters; never returned.
fn password_schema() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        min_length: Some(Password::MIN_CHARS),
        max_length: Some(Password::MAX_CHARS),
        ..MetaSchema::new("string")
    }))
}

/// `POST /v1/auth/login`.
pub struct LogIn;

impl Write for LogIn {
    type Resource = Credentials;
    const NAME: &'static str = "Credentials";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] =
        &[Member::required("email"), Member::required("password")];
}

/// `POST /v1/auth/refresh` and `/v1/auth/logout`.
pub struct Refresh;

impl Write for Refresh {
    type Resource = Tokens;
    const NAME: &'static str = "Refresh";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[Member::required("refreshToken")];
}

/// `PATCH /v1/users/{id}`: an admin changes the role or the active flag.
pub struct UpdateUser;

impl Write for UpdateUser {
    type Resource = Users;
    const NAME: &'static str = "UserUpdate";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[Member::optional("role"), Member::optional("active")];
}

const LIST: QuerySpec = QuerySpec {
    paginated: true,
    ..QuerySpec::NONE
};

/// The account routes.
pub struct AccountsApi {
    accounts: Arc<Accounts>,
    limit: Arc<AuthRateLimit>,
}

impl AccountsApi {
    /// Routes over the account use cases; see [`AuthRateLimit`] for the limits.
    pub fn new(accounts: Arc<Accounts>, limit: AuthRateLimit) -> Self {
        Self {
            accounts,
            limit: Arc::new(limit),
        }
    }
}

impl Queries for AccountsApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] = &[("listUsers", &LIST)];
}

/// A user id from the URL; anything that is not a UUID names no user (404).
fn user_id(raw: &str) -> Result<UserId, ApiError> {
    path_id(raw, "user").map(UserId)
}

/// A string as typed (the use case answers every bad value alike).
fn as_typed(value: &Value) -> Result<String, Invalid> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or(Invalid::Type("a string"))
}

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Register
    ///
    /// Creates a customer account. `role` cannot be chosen (403). Rate-limited per
    /// client address (429 with `Retry-After`).
    #[oai(path = "/v1/auth/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        request: &Request,
        body: JsonApiBody<Register>,
    ) -> Result<Created<SingleDocument<Users>>, ApiError> {
        let input = body.new_user()?;
        self.limit.check_attempt(request).await?;
        let user = self.accounts.register.execute(input).await?;
        Created::new(Users::object(user, Fields::ALL))
    }

    /// Log in
    ///
    /// Exchanges an e-mail address and password for an access and a refresh token.
    /// Rate-limited per client address, and per e-mail address for
    /// failed attempts (429 with `Retry-After`).
    #[oai(path = "/v1/auth/login", method = "post", operation_id = "logIn")]
    async fn log_in(
        &self,
        request: &Request,
        body: JsonApiBody<LogIn>,
    ) -> Result<JsonApi<SingleDocument<Tokens>>, ApiError> {
        let (email, password) = body.credentials()?;
        self.limit.check_attempt(request).await?;
        self.limit.check_failures(&email).await?;
        match self.accounts.log_in.execute(&email, &password).await {
            Ok(session) => JsonApi::single(Tokens::object(session, Fields::ALL)),
            Err(error @ LogInError::InvalidCredentials) => {
                self.limit.count_failure(&email).await;
                Err(error.into())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Refresh a session
    ///
    /// Exchanges a refresh token (once) for new tokens. Reusing a refresh token
    /// revokes its whole session. Rate-limited per client address.
    #[oai(
        path = "/v1/auth/refresh",
        method = "post",
        operation_id = "refreshSession"
    )]
    async fn refresh(
        &self,
        request: &Request,
        body: JsonApiBody<Refresh>,
    ) -> Result<JsonApi<SingleDocument<Tokens>>, ApiError> {
        let token = body.refresh_token()?;
        self.limit.check_attempt(request).await?;
        let session = self.accounts.refresh.execute(&token).await?;
        JsonApi::single(Tokens::object(session, Fields::ALL))
    }

    /// Log out
    ///
    /// Revokes the session of this refresh token. Rate-limited per client address.
    #[oai(path = "/v1/auth/logout", method = "post", operation_id = "logOut")]
    async fn log_out(
        &self,
        request: &Request,
        body: JsonApiBody<Refresh>,
    ) -> Result<NoContent, ApiError> {
        let token = body.refresh_token()?;
        self.limit.check_attempt(request).await?;
        self.accounts.log_out.execute(&token).await?;
        Ok(NoContent)
    }

    /// Ask for a password reset
    ///
    /// Mails a single-use token (valid 30 minutes) to the address if an active
    /// account has it. Always 202, whether or not it does (no account enumeration).
    /// Rate-limited per client address.
    #[oai(
        path = "/v1/auth/password-resets",
        method = "post",
        operation_id = "requestPasswordReset"
    )]
    async fn request_password_reset(
        &self,
        request: &Request,
        body: JsonApiBody<RequestPasswordReset>,
    ) -> Result<Accepted, ApiError> {
        let email = body.email()?;
        self.limit.check_attempt(request).await?;
        if let Some(email) = email {
            self.accounts.request_password_reset.execute(&email).await?;
        }
        Ok(Accepted)
    }

    /// Set a new password with a reset token
    ///
    /// The mailed token (in the body, never in the URL) and the new password. Every
    /// session of the account ends (its refresh tokens are revoked). A token works
    /// once: 422 `invalid_account_token` when it is unknown, used or expired.
    /// Rate-limited per client address.
    #[oai(
        path = "/v1/auth/password-resets/confirm",
        method = "post",
        operation_id = "confirmPasswordReset"
    )]
    async fn confirm_password_reset(
        &self,
        request: &Request,
        body: JsonApiBody<ConfirmPasswordReset>,
    ) -> Result<NoContent, ApiError> {
        let (token, password) = body.reset()?;
        self.limit.check_attempt(request).await?;
        self.accounts
            .confirm_password_reset
            .execute(&token, &password)
            .await?;
        Ok(NoContent)
    }

    /// Mail a new verification token
    ///
    /// To the signed-in user's address, unless it is verified. Rate-limited per
    /// client address.
    #[oai(
        path = "/v1/auth/email-verifications",
        method = "post",
        operation_id = "resendEmailVerification"
    )]
    async fn resend_verification(
        &self,
        request: &Request,
        caller: SignedIn,
    ) -> Result<Accepted, ApiError> {
        self.limit.check_attempt(request).await?;
        self.accounts.resend_verification.execute(&caller.0).await?;
        Ok(Accepted)
    }

    /// Confirm an address
    ///
    /// The token mailed at registration (or by a resend) marks the account's
    /// address verified. 422 `invalid_account_token` when it is unknown, used or
    /// expired. Rate-limited per client address.
    #[oai(
        path = "/v1/auth/email-verifications/confirm",
        method = "post",
        operation_id = "confirmEmailVerification"
    )]
    async fn confirm_email(
        &self,
        request: &Request,
        body: JsonApiBody<ConfirmEmailVerification>,
    ) -> Result<NoContent, ApiError> {
        let token = body.token()?;
        self.limit.check_attempt(request).await?;
        self.accounts.confirm_email.execute(&token).await?;
        Ok(NoContent)
    }

    /// The current user
    ///
    /// Needs an access token.
    #[oai(path = "/v1/users/me", method = "get", operation_id = "getCurrentUser")]
    async fn me(&self, caller: SignedIn) -> Result<JsonApi<SingleDocument<Users>>, ApiError> {
        let user = self.accounts.current_user.execute(&caller.0).await?;
        JsonApi::single(Users::object(user, Fields::ALL))
    }

    /// Read a user
    ///
    /// A user reads their own account, an admin any; another user's account answers
    /// 404.
    #[oai(path = "/v1/users/:id", method = "get", operation_id = "getUser")]
    async fn get(
        &self,
        caller: SignedIn,
        /// The user id (UUID).
        id: Path<String>,
    ) -> Result<JsonApi<SingleDocument<Users>>, ApiError> {
        let id = user_id(&id)?;
        let user = self.accounts.get_user.execute(&caller.0, id).await?;
        JsonApi::single(Users::object(user, Fields::ALL))
    }

    /// List users
    ///
    /// Admins only; paged, oldest first.
    #[oai(path = "/v1/users", method = "get", operation_id = "listUsers")]
    async fn list(
        &self,
        admin: UserAdmin,
        request: &Request,
    ) -> Result<JsonApi<ListDocument<Users>>, ApiError> {
        let query = LIST.parse(request.uri().query())?;
        let page = self
            .accounts
            .list_users
            .execute(&admin.0, query.page)
            .await?;
        JsonApi::list(page, Vec::<()>::new(), &query)
    }

    /// Update a user
    ///
    /// Admins only: `role` and/or `active`, decided against the admin's account as
    /// stored now. Deactivating ends the account's sessions and its access tokens stop
    /// working at once. Admins cannot demote or deactivate themselves.
    #[oai(path = "/v1/users/:id", method = "patch", operation_id = "updateUser")]
    async fn update(
        &self,
        admin: UserAdmin,
        /// The user id (UUID).
        id: Path<String>,
        body: JsonApiBody<UpdateUser>,
    ) -> Result<JsonApi<SingleDocument<Users>>, ApiError> {
        let id = user_id(&id)?;
        let changes = body.changes(id)?;
        let user = self
            .accounts
            .update_user
            .execute(&admin.0, id, changes)
            .await?;
        JsonApi::single(Users::object(user, Fields::ALL))
    }
}

impl JsonApiBody<Register> {
    /// The account to create. `role`, `active` and other attributes the server keeps
    /// are refused (403 `read_only_attribute`): no mass assignment. The password's
    /// length is checked before anything else happens to it, and it never appears in
    /// an error.
    pub fn new_user(&self) -> Result<NewUser, ApiError> {
        let mut document = self.read(None)?;
        let email = document.attribute("email", &text(|email: String| Email::parse(&email)));
        let password = document.attribute("password", &text(Password::new));
        let name = document.attribute("name", &text(DisplayName::new));
        document.finish(|| {
            Some(NewUser {
                email: email?,
                name: name?,
                password: password?,
            })
        })
    }
}

impl JsonApiBody<LogIn> {
    /// The e-mail address and password as typed (the use case answers every bad
    /// value alike).
    pub fn credentials(&self) -> Result<(String, String), ApiError> {
        let mut document = self.read(None)?;
        let email = document.attribute("email", &as_typed);
        let password = document.attribute("password", &as_typed);
        document.finish(|| Some((email?, password?)))
    }
}

impl JsonApiBody<RequestPasswordReset> {
    /// The address asked about; `None` for one that cannot be an account's (it is
    /// answered alike).
    pub fn email(&self) -> Result<Option<Email>, ApiError> {
        let mut document = self.read(None)?;
        let email = document.attribute("email", &as_typed);
        document.finish(|| email.map(|email| Email::parse(&email).ok()))
    }
}

impl JsonApiBody<ConfirmPasswordReset> {
    /// The token and the new password.
    pub fn reset(&self) -> Result<(String, Password), ApiError> {
        let mut document = self.read(None)?;
        let token = document.attribute("token", &as_typed);
        let password = document.attribute("password", &text(Password::new));
        document.finish(|| Some((token?, password?)))
    }
}

impl JsonApiBody<ConfirmEmailVerification> {
    /// The token.
    pub fn token(&self) -> Result<String, ApiError> {
        let mut document = self.read(None)?;
        let token = document.attribute("token", &as_typed);
        document.finish(|| token)
    }
}

impl JsonApiBody<Refresh> {
    /// The refresh token.
    pub fn refresh_token(&self) -> Result<String, ApiError> {
        let mut document = self.read(None)?;
        let token = document.attribute("refreshToken", &as_typed);
        document.finish(|| token)
    }
}

impl JsonApiBody<UpdateUser> {
    /// An admin's changes to user `id` (the id of the URL): `role` and/or `active`.
    pub fn changes(&self, id: UserId) -> Result<UserChanges, ApiError> {
        let mut document = self.read(Some(id.0))?;
        let role = document.attribute("role", &role);
        let active = document.attribute("active", &boolean);
        document.finish(|| Some(UserChanges { role, active }))
    }
}

/// `customer` or `admin`.
fn role(value: &Value) -> Result<Role, Invalid> {
    match value.as_str() {
        Some("customer") => Ok(Role::Customer),
        Some("admin") => Ok(Role::Admin),
        Some(_) => Err(Invalid::Value(
            "role must be \"customer\" or \"admin\".".into(),
        )),
        None => Err(Invalid::Type("a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn register(attributes: Value) -> Result<NewUser, ApiError> {
        JsonApiBody::<Register>::from_value(
            json!({"data": {"type": "users", "attributes": attributes}}),
        )
        .new_user()
    }

    #[test]
    fn registration_refuses_a_role() {
        let error = register(json!({"email": "a@b.example", "password": "long enough",
            "name": "A", "role": "admin"}))
        .unwrap_err();
        assert_eq!(
            error.summary(),
            [(403, "read_only_attribute", "/data/attributes/role".into())]
        );
    }

    #[test]
    fn registration_problems_have_pointers_and_never_echo_the_password() {
        let password = "x".repeat(10_000);
        let error = register(json!({"email": "nope", "password": password})).unwrap_err();
        assert_eq!(error.status().as_u16(), 422);
        assert_eq!(error.errors().len(), 3);
        assert!(!format!("{error:?}").contains("xxxxxxxx"));
        let user =
            register(json!({"email": "A@B.example", "password": "long enough", "name": "A"}))
                .unwrap();
        assert_eq!(user.name.as_str(), "A");
        assert_eq!(user.email.as_str(), "a@b.example");
    }

    #[test]
    fn admins_change_only_the_role_and_the_active_flag() {
        let id = Uuid::from_u128(5);
        let update = |attributes: Value| {
            JsonApiBody::<UpdateUser>::from_value(json!({"data": {"type": "users",
                "id": id.to_string(), "attributes": attributes}}))
            .changes(UserId(id))
        };
        let changes = update(json!({"role": "admin", "active": false})).unwrap();
        assert_eq!(
            (changes.role, changes.active),
            (Some(Role::Admin), Some(false))
        );
        assert_eq!(
            update(json!({"email": "x@y.example"}))
                .unwrap_err()
                .summary(),
            [(403, "read_only_attribute", "/data/attributes/email".into())]
        );
        assert_eq!(
            update(json!({"role": "owner"})).unwrap_err().summary(),
            [(422, "invalid_value", "/data/attributes/role".into())]
        );
    }
}
