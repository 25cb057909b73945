//! Who is calling, decided once per request, whatever the route:
//!
//! - `Authorization: Bearer <access token>` → [`Actor::User`] (checked by the
//!   [`Authenticate`] use case with the shared signing secret, so every service checks
//!   tokens itself; where the account store is at hand, against the account as stored
//!   now). An invalid, expired or refresh token, or a deactivated account → 401
//!   `invalid_token` with `WWW-Authenticate: Bearer error="invalid_token"`; another
//!   `Authorization` scheme → 401 too.
//! - `X-API-Key` (the shared service key, compared in constant time) →
//!   [`Actor::Service`]; a wrong key → 401.
//! - `X-Callback-Key` (the payment provider's and carrier's key, compared in
//!   constant time) → [`Actor::Callback`]; a wrong key → 401.
//! - More than one of these → 400 `ambiguous_credentials`: a request speaks for one
//!   caller, and picking one silently would hide a client bug.
//! - Neither → [`Actor::Anonymous`].
//!
//! Write handlers learn the actor through the [`CatalogManager`] extractor: it
//! applies the domain's access rule
//! ([`Actor::ensure_can_manage_catalog`]) before the request body is even read, so
//! an unauthenticated client learns nothing from validation errors. The use cases
//! check the same rule again.

use std::marker::PhantomData;
use std::sync::Arc;

use emporium_application::accounts::{Authenticate, AuthenticateError};
use emporium_domain::accounts::{Email, TokenError};
use emporium_domain::{AccessDenied, Actor};
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use subtle::ConstantTimeEq;

use crate::http::jsonapi::ApiError;

/// The header carrying the API key.
pub const API_KEY_HEADER: &str = "x-api-key";
/// The header carrying the callback key.
pub const CALLBACK_KEY_HEADER: &str = "x-callback-key";
/// The name of the callback key security scheme in the OpenAPI document.
const CALLBACK_SCHEME: &str = "CallbackKey";
/// The name of the API key security scheme in the OpenAPI document.
const SCHEME: &str = "ApiKey";
/// The name of the bearer token security scheme in the OpenAPI document.
const BEARER_SCHEME: &str = "Bearer";

/// The credentials the edge checks callers against: the service API key and, when
/// accounts are wired, bearer access tokens.
#[derive(Clone)]
pub struct ApiKeyAuth {
    keys: Arc<[Box<[u8]>]>,
    callback_key: Option<Arc<[u8]>>,
    tokens: Option<Arc<Authenticate>>,
}

impl ApiKeyAuth {
    /// Accepts any of `keys` (several during a rotation); with none, every key is
    /// wrong (only anonymous calls pass).
    pub fn new(keys: &[String]) -> Self {
        Self {
            keys: keys.iter().map(|key| Box::from(key.as_bytes())).collect(),
            callback_key: None,
            tokens: None,
        }
    }

    /// Also accepts the callbacks' key in `X-Callback-Key`; with `None`, every
    /// callback key is wrong.
    pub fn with_callback_key(mut self, key: Option<&str>) -> Self {
        self.callback_key = key.map(|key| Arc::from(key.as_bytes()));
        self
    }

    /// Also accepts bearer access tokens that `tokens` verifies; without it every
    /// bearer token is refused.
    pub fn with_tokens(mut self, tokens: Arc<Authenticate>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Records the request's [`Actor`] in its extensions (see the module
    /// documentation); `Err` (400/401) for bad or ambiguous credentials.
    pub async fn identify(&self, request: &mut Request) -> Result<(), ApiError> {
        let headers = request.headers();
        if let Some(given) = headers.get(CALLBACK_KEY_HEADER) {
            if headers.contains_key(poem::http::header::AUTHORIZATION)
                || headers.contains_key(API_KEY_HEADER)
            {
                return Err(ApiError::from(ApiError::bad_request(
                    "ambiguous_credentials",
                    "Send one of an Authorization bearer token, an X-API-Key or an \
                     X-Callback-Key.",
                )));
            }
            if !matches(self.callback_key.as_deref(), given.as_bytes()) {
                return Err(ApiError::unauthenticated(
                    "The X-Callback-Key is not valid.",
                ));
            }
            request.extensions_mut().insert(Actor::Callback);
            return Ok(());
        }
        let actor = match (
            headers.get(poem::http::header::AUTHORIZATION),
            headers.get(API_KEY_HEADER),
        ) {
            (Some(_), Some(_)) => {
                return Err(ApiError::from(ApiError::bad_request(
                    "ambiguous_credentials",
                    "Send either an Authorization bearer token or an X-API-Key, not both.",
                )));
            }
            (Some(authorization), None) => {
                let (actor, email) = self.bearer(authorization.as_bytes()).await?;
                if let Some(email) = email {
                    request.extensions_mut().insert(CallerEmail(email));
                }
                actor
            }
            (None, None) => Actor::Anonymous,
            (None, Some(given)) => {
                if !matches_any(&self.keys, given.as_bytes()) {
                    return Err(ApiError::unauthenticated("The X-API-Key is not valid."));
                }
                Actor::Service
            }
        };
        request.extensions_mut().insert(actor);
        Ok(())
    }
}

/// Whether `given` is `key`; lengths are not secret, the bytes are compared in
/// constant time. No key configured: nothing matches.
fn matches(key: Option<&[u8]>, given: &[u8]) -> bool {
    key.is_some_and(|key| bool::from(given.ct_eq(key)))
}

/// Whether `given` is one of `keys`, comparing with every key (no early exit that
/// would tell which one it was close to).
fn matches_any(keys: &[Box<[u8]>], given: &[u8]) -> bool {
    keys.iter()
        .fold(subtle::Choice::from(0), |found, key| {
            found | given.ct_eq(key)
        })
        .into()
}

impl ApiKeyAuth {
    async fn bearer(&self, authorization: &[u8]) -> Result<(Actor, Option<Email>), ApiError> {
        let token = bearer_token(authorization).ok_or_else(|| {
            ApiError::invalid_token("The Authorization header must be `Bearer <access token>`.")
        })?;
        let tokens = self
            .tokens
            .as_ref()
            .ok_or_else(|| ApiError::invalid_token("This service accepts no bearer tokens."))?;
        tokens.identify(token).await.map_err(|error| match error {
            AuthenticateError::Token(TokenError::Expired) => {
                ApiError::invalid_token("The access token has expired.")
            }
            AuthenticateError::Token(TokenError::Invalid) => {
                ApiError::invalid_token("The access token is not valid.")
            }
            AuthenticateError::AccountGone => ApiError::invalid_token(
                "The account of this access token is deactivated or no longer exists.",
            ),
            AuthenticateError::RoleChanged => ApiError::invalid_token(
                "The role of this account changed after the access token was issued; sign in \
                 again.",
            ),
            error @ AuthenticateError::Unexpected(_) => error.into(),
        })
    }
}

impl std::fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyAuth").finish_non_exhaustive()
    }
}

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case),
/// if it is one.
pub fn bearer_token(authorization: &[u8]) -> Option<&str> {
    std::str::from_utf8(authorization)
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
}

/// The email of the signed-in caller, as their access token (or their account)
/// says; in the request's extensions when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerEmail(pub Email);

/// The request's [`Actor`] as the edge identified it.
pub fn actor_of(request: &Request) -> Actor {
    request
        .extensions()
        .get::<Actor>()
        .copied()
        .unwrap_or(Actor::Anonymous)
}

fn register_scheme(registry: &mut Registry) {
    registry.create_security_scheme(
        SCHEME,
        MetaSecurityScheme {
            ty: "apiKey",
            description: Some("The shared service API key."),
            name: Some("X-API-Key"),
            key_in: Some("header"),
            scheme: None,
            bearer_format: None,
            flows: None,
            openid_connect_url: None,
        },
    );
    registry.create_security_scheme(
        BEARER_SCHEME,
        MetaSecurityScheme {
            ty: "http",
            description: Some("An access token from POST /v1/auth/login."),
            name: None,
            key_in: None,
            scheme: Some("bearer"),
            bearer_format: Some("JWT"),
            flows: None,
            openid_connect_url: None,
        },
    );
    registry.create_security_scheme(
        CALLBACK_SCHEME,
        MetaSecurityScheme {
            ty: "apiKey",
            description: Some(
                "The payment provider's and carrier's callback key (EMPORIUM_CALLBACK_KEY).",
            ),
            name: Some("X-Callback-Key"),
            key_in: Some("header"),
            scheme: None,
            bearer_format: None,
            flows: None,
            openid_connect_url: None,
        },
    );
}

/// Who an operation admits, checked by [`Allowed`] before the request body is read.
pub trait Admits: Send + Sync + 'static {
    /// The security schemes the document lists for it.
    const SCHEMES: &'static [&'static str];

    /// `Ok` when `actor` may go on; the refusal (401/403) otherwise.
    fn check(actor: &Actor) -> Result<(), AccessDenied>;
}

/// The caller of an operation that admits `P`, refused (401/403) otherwise before the
/// request body is read; `.0` is the [`Actor`] the use case gets.
#[derive(Debug)]
pub struct Allowed<P>(pub Actor, PhantomData<P>);

/// Catalog and inventory writes: admins and other services.
#[derive(Debug)]
pub struct ManagesCatalog;

impl Admits for ManagesCatalog {
    const SCHEMES: &'static [&'static str] = &[BEARER_SCHEME, SCHEME];

    fn check(actor: &Actor) -> Result<(), AccessDenied> {
        actor.ensure_can_manage_catalog()
    }
}

/// Service-to-service operations: the service API key only.
#[derive(Debug)]
pub struct ServiceOnly;

impl Admits for ServiceOnly {
    const SCHEMES: &'static [&'static str] = &[SCHEME];

    fn check(actor: &Actor) -> Result<(), AccessDenied> {
        actor.ensure_service()
    }
}

/// User administration: admins.
#[derive(Debug)]
pub struct AdministersUsers;

impl Admits for AdministersUsers {
    const SCHEMES: &'static [&'static str] = &[BEARER_SCHEME];

    fn check(actor: &Actor) -> Result<(), AccessDenied> {
        actor.ensure_admin().map(drop)
    }
}

/// Any signed-in user (the use case decides what they may see).
#[derive(Debug)]
pub struct AnyUser;

impl Admits for AnyUser {
    const SCHEMES: &'static [&'static str] = &[BEARER_SCHEME];

    fn check(actor: &Actor) -> Result<(), AccessDenied> {
        actor.ensure_user().map(drop)
    }
}

/// A signed-in user, or the payment provider's / carrier's callback (the use case
/// decides what each may do).
#[derive(Debug)]
pub struct UserOrCallback;

impl Admits for UserOrCallback {
    /// The callback key is described in the operations' text and in the document's
    /// security schemes, but not listed here: fuzzers fill every listed API-key
    /// header they hold no value for, and a request with two credentials is refused.
    const SCHEMES: &'static [&'static str] = &[BEARER_SCHEME];

    fn check(actor: &Actor) -> Result<(), AccessDenied> {
        match actor {
            Actor::Callback => Ok(()),
            other => other.ensure_user().map(drop),
        }
    }
}

/// The caller of a payment outcome or a delivery: a user or a callback.
pub type SignedInOrCallback = Allowed<UserOrCallback>;

/// The actor of a catalog or inventory write.
pub type CatalogManager = Allowed<ManagesCatalog>;
/// Another Emporium service (the API key).
pub type Service = Allowed<ServiceOnly>;
/// The actor of a user administration request.
pub type UserAdmin = Allowed<AdministersUsers>;
/// A signed-in user.
pub type SignedIn = Allowed<AnyUser>;

impl<'a, P: Admits> ApiExtractor<'a> for Allowed<P> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_scheme(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        P::SCHEMES.to_vec()
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let actor = actor_of(request);
        P::check(&actor).map_err(ApiError::from)?;
        Ok(Self(actor, PhantomData))
    }
}
