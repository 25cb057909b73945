//! `/v1/auth/*` (register, log in, refresh, log out) and `/v1/users/*` (the current
//! user; administration). Run by the all-in-one server and by `serve users`.

pub mod body;
pub mod rate_limit;
pub mod resource;

use std::num::NonZeroU32;
use std::sync::Arc;

use emporium_application::accounts::{
    GetCurrentUserError, ListUsersError, LogInError, LogOutError, RefreshSessionError,
    RegisterUserError, UpdateUserError,
};
use emporium_domain::UserId;
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use uuid::Uuid;

use self::rate_limit::AuthRateLimit;
use self::resource::{
    CredentialsDocument, RefreshDocument, RegisterDocument, TokensDocument, TokensResource,
    UserDocument, UserListDocument, UserResource, UserUpdateDocument, self_link,
};
use super::ApiTags;
use super::jsonapi::document::Document;
use super::jsonapi::{
    ApiError, Created, ErrorObject, JsonApi, JsonApiBody, NoContent, QuerySpec, parse_query,
};
use super::middleware::auth::{UserAdmin, actor_of};
use crate::composition::AccountsService;

const LIST_QUERY: QuerySpec = QuerySpec {
    paginated: true,
    sort: &[],
    filters: &[],
    includes: &[],
    fieldsets: &[],
};

const PLAIN_QUERY: QuerySpec = QuerySpec {
    paginated: false,
    sort: &[],
    filters: &[],
    includes: &[],
    fieldsets: &[],
};

/// The one answer to every failed log-in: unknown address, wrong password, inactive
/// account or a malformed value all read the same.
const LOGIN_FAILED: &str = "The e-mail address or password is not correct.";

/// The account routes.
#[derive(Clone)]
pub struct AccountsApi {
    accounts: Arc<AccountsService>,
    limit: Arc<AuthRateLimit>,
}

impl AccountsApi {
    /// Routes over the account use cases; log-in and registration allow
    /// `attempts_per_minute` per client address and per e-mail address.
    pub fn new(accounts: Arc<AccountsService>, attempts_per_minute: NonZeroU32) -> Self {
        Self {
            accounts,
            limit: Arc::new(AuthRateLimit::new(attempts_per_minute)),
        }
    }
}

#[OpenApi]
impl AccountsApi {
    /// Register
    ///
    /// Creates a customer account. `role` cannot be chosen (403). Rate-limited per
    /// client address and per e-mail address (429 with `Retry-After`).
    #[oai(
        path = "/v1/auth/register",
        method = "post",
        tag = "ApiTags::Accounts",
        operation_id = "register"
    )]
    async fn register(
        &self,
        request: &Request,
        body: JsonApiBody<RegisterDocument>,
    ) -> Result<Created<UserDocument>, ApiError> {
        parse_query(request.uri().query(), &PLAIN_QUERY)?;
        let input = body.try_into_domain()?;
        self.limit.check(request, Some(input.email.as_str()))?;
        let user = self.accounts.register.execute(input).await?;
        Created::new(&Document::single(UserResource(&user)), self_link(&user))
    }

    /// Log in
    ///
    /// Exchanges an e-mail address and password for an access and a refresh token.
    /// Rate-limited per client address and per e-mail address (429 with
    /// `Retry-After`).
    #[oai(
        path = "/v1/auth/login",
        method = "post",
        tag = "ApiTags::Accounts",
        operation_id = "logIn"
    )]
    async fn log_in(
        &self,
        request: &Request,
        body: JsonApiBody<CredentialsDocument>,
    ) -> Result<JsonApi<TokensDocument>, ApiError> {
        parse_query(request.uri().query(), &PLAIN_QUERY)?;
        let credentials = body.try_into_domain()?;
        self.limit.check(request, Some(&credentials.email))?;
        let session = self
            .accounts
            .log_in
            .execute(&credentials.email, &credentials.password)
            .await?;
        JsonApi::new(&Document::single(TokensResource(&session)))
    }

    /// Refresh a session
    ///
    /// Exchanges a refresh token (once) for new tokens. Reusing a refresh token
    /// revokes its whole session.
    #[oai(
        path = "/v1/auth/refresh",
        method = "post",
        tag = "ApiTags::Accounts",
        operation_id = "refreshSession"
    )]
    async fn refresh(
        &self,
        request: &Request,
        body: JsonApiBody<RefreshDocument>,
    ) -> Result<JsonApi<TokensDocument>, ApiError> {
        parse_query(request.uri().query(), &PLAIN_QUERY)?;
        let token = body.try_into_domain()?;
        let session = self.accounts.refresh.execute(&token).await?;
        JsonApi::new(&Document::single(TokensResource(&session)))
    }

    /// Log out
    ///
    /// Revokes the session of this refresh token.
    #[oai(
        path = "/v1/auth/logout",
        method = "post",
        tag = "ApiTags::Accounts",
        operation_id = "logOut"
    )]
    async fn log_out(
        &self,
        request: &Request,
        body: JsonApiBody<RefreshDocument>,
    ) -> Result<NoContent, ApiError> {
        parse_query(request.uri().query(), &PLAIN_QUERY)?;
        let token = body.try_into_domain()?;
        self.accounts.log_out.execute(&token).await?;
        Ok(NoContent)
    }

    /// The current user
    ///
    /// Needs an access token.
    #[oai(
        path = "/v1/users/me",
        method = "get",
        tag = "ApiTags::Accounts",
        operation_id = "getCurrentUser"
    )]
    async fn me(&self, request: &Request) -> Result<JsonApi<UserDocument>, ApiError> {
        parse_query(request.uri().query(), &PLAIN_QUERY)?;
        let user = self
            .accounts
            .current_user
            .execute(&actor_of(request))
            .await?;
        JsonApi::new(&Document::single(UserResource(&user)))
    }

    /// List users
    ///
    /// Admins only; paged (`page[number]`, `page[size]` ≤ 100, default 20).
    #[oai(
        path = "/v1/users",
        method = "get",
        tag = "ApiTags::Accounts",
        operation_id = "listUsers"
    )]
    async fn list(
        &self,
        admin: UserAdmin,
        request: &Request,
        /// Page number, from 1.
        #[oai(name = "page[number]")]
        _page_number: Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(name = "page[size]")]
        _page_size: Query<Option<String>>,
    ) -> Result<JsonApi<UserListDocument>, ApiError> {
        let query = parse_query(request.uri().query(), &LIST_QUERY)?;
        let page = self
            .accounts
            .list_users
            .execute(&admin.0, query.page)
            .await?;
        let data: Vec<UserResource<'_>> = page.items.iter().map(UserResource).collect();
        let links = query.list_links("/v1/users", &page);
        JsonApi::new(&Document::<_, ()>::page(
            data,
            Vec::new(),
            links,
            page.total,
        ))
    }

    /// Update a user
    ///
    /// Admins only: `role` and/or `active`. Deactivating ends the account's sessions
    /// (its access tokens stay valid until they expire). Admins cannot demote or
    /// deactivate themselves.
    #[oai(
        path = "/v1/users/:id",
        method = "patch",
        tag = "ApiTags::Accounts",
        operation_id = "updateUser"
    )]
    async fn update(
        &self,
        admin: UserAdmin,
        request: &Request,
        /// The user id (UUID).
        id: Path<String>,
        body: JsonApiBody<UserUpdateDocument>,
    ) -> Result<JsonApi<UserDocument>, ApiError> {
        let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("user", &*id))?;
        parse_query(request.uri().query(), &PLAIN_QUERY)?;
        let changes = body.try_into_domain(id)?;
        let user = self
            .accounts
            .update_user
            .execute(&admin.0, UserId(id), changes)
            .await?;
        JsonApi::new(&Document::single(UserResource(&user)))
    }
}

impl From<UpdateUserError> for ApiError {
    fn from(error: UpdateUserError) -> Self {
        match error {
            UpdateUserError::Denied(denied) => denied.into(),
            UpdateUserError::NotFound(id) => ApiError::not_found("user", id),
            UpdateUserError::OwnAccount => ApiError::from(ErrorObject::new(
                StatusCode::CONFLICT,
                "own_account",
                "Conflict",
                "Admins cannot demote or deactivate their own account.",
            )),
            UpdateUserError::Unexpected(error) => ApiError::internal("updating a user", &error),
        }
    }
}

impl From<RegisterUserError> for ApiError {
    fn from(error: RegisterUserError) -> Self {
        match error {
            RegisterUserError::DuplicateEmail => ApiError::from(
                ErrorObject::new(
                    StatusCode::CONFLICT,
                    "duplicate_email",
                    "Conflict",
                    "An account with this e-mail address already exists.",
                )
                .at_pointer("/data/attributes/email"),
            ),
            RegisterUserError::Unexpected(error) => ApiError::internal("registering", &error),
        }
    }
}

impl From<LogInError> for ApiError {
    fn from(error: LogInError) -> Self {
        match error {
            LogInError::InvalidCredentials => {
                ApiError::rejected_credentials("invalid_credentials", LOGIN_FAILED)
            }
            LogInError::Unexpected(error) => ApiError::internal("logging in", &error),
        }
    }
}

fn bad_refresh_token() -> ApiError {
    ApiError::rejected_credentials(
        "invalid_token",
        "The refresh token is not valid, has expired or was already used.",
    )
}

impl From<RefreshSessionError> for ApiError {
    fn from(error: RefreshSessionError) -> Self {
        match error {
            RefreshSessionError::InvalidToken => bad_refresh_token(),
            RefreshSessionError::Unexpected(error) => {
                ApiError::internal("refreshing a session", &error)
            }
        }
    }
}

impl From<LogOutError> for ApiError {
    fn from(error: LogOutError) -> Self {
        match error {
            LogOutError::InvalidToken => bad_refresh_token(),
            LogOutError::Unexpected(error) => ApiError::internal("logging out", &error),
        }
    }
}

impl From<GetCurrentUserError> for ApiError {
    fn from(error: GetCurrentUserError) -> Self {
        match error {
            GetCurrentUserError::Denied(denied) => denied.into(),
            GetCurrentUserError::NotFound => {
                ApiError::invalid_token("The account of this access token no longer exists.")
            }
            GetCurrentUserError::Unexpected(error) => {
                ApiError::internal("reading the current user", &error)
            }
        }
    }
}

impl From<ListUsersError> for ApiError {
    fn from(error: ListUsersError) -> Self {
        match error {
            ListUsersError::Denied(denied) => denied.into(),
            ListUsersError::Unexpected(error) => ApiError::internal("listing users", &error),
        }
    }
}
