//! Who is calling: until accounts exist, a valid `X-API-Key` (the shared service key,
//! compared in constant time) makes the caller [`Actor::Service`]; no key makes it
//! [`Actor::Anonymous`]; a wrong key is refused at once with 401, whatever the route.
//!
//! Write handlers learn the actor through the [`CatalogManager`] extractor: it
//! applies the domain's access rule
//! ([`Actor::ensure_can_manage_catalog`]) before the request body is even read, so
//! an unauthenticated client learns nothing from validation errors. The use cases
//! check the same rule again.

use std::sync::Arc;

use emporium_domain::{AccessDenied, Actor};
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use subtle::ConstantTimeEq;

use crate::http::jsonapi::ApiError;

/// The header carrying the API key.
pub const API_KEY_HEADER: &str = "x-api-key";
/// The name of the security scheme in the OpenAPI document.
const SCHEME: &str = "ApiKey";

/// The service API key the edge checks callers against.
#[derive(Clone)]
pub struct ApiKeyAuth {
    key: Option<Arc<[u8]>>,
}

impl ApiKeyAuth {
    /// Accepts `key`; with `None`, every key is wrong (only anonymous calls pass).
    pub fn new(key: Option<&str>) -> Self {
        Self {
            key: key.map(|key| Arc::from(key.as_bytes())),
        }
    }

    /// Records the request's [`Actor`] in its extensions: `Service` for the right
    /// key, `Anonymous` for none; `Err(401)` for a wrong key.
    pub fn identify(&self, request: &mut Request) -> Result<(), ApiError> {
        let actor = match request.headers().get(API_KEY_HEADER) {
            None => Actor::Anonymous,
            Some(given) => {
                // Lengths are not secret; the bytes are compared in constant time.
                let valid = self
                    .key
                    .as_deref()
                    .is_some_and(|key| bool::from(given.as_bytes().ct_eq(key)));
                if !valid {
                    return Err(ApiError::unauthenticated("The X-API-Key is not valid."));
                }
                Actor::Service
            }
        };
        request.extensions_mut().insert(actor);
        Ok(())
    }
}

impl std::fmt::Debug for ApiKeyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyAuth").finish_non_exhaustive()
    }
}

fn actor_of(request: &Request) -> Actor {
    request
        .extensions()
        .get::<Actor>()
        .copied()
        .unwrap_or(Actor::Anonymous)
}

impl From<AccessDenied> for ApiError {
    fn from(denied: AccessDenied) -> Self {
        match denied {
            AccessDenied::Unauthenticated => {
                ApiError::unauthenticated("This operation needs a valid X-API-Key.")
            }
            AccessDenied::Forbidden => ApiError::forbidden(),
        }
    }
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
}

/// The actor of a catalog or inventory write, refused (401/403) unless it may manage
/// the catalog.
#[derive(Debug, Clone, Copy)]
pub struct CatalogManager(pub Actor);

impl<'a> ApiExtractor<'a> for CatalogManager {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_scheme(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![SCHEME]
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let actor = actor_of(request);
        actor.ensure_can_manage_catalog().map_err(ApiError::from)?;
        Ok(Self(actor))
    }
}
