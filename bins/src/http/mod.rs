//! The HTTP edge: JSON:API routes on poem-openapi, the middleware around them, and
//! `/openapi.json` + `/docs` (Swagger UI).
//!
//! | route | methods |
//! |---|---|
//! | `/v1/products`, `/v1/products/{id}` | GET, POST / GET, PATCH, DELETE |
//! | `/v1/categories`, `/v1/categories/{id}` | GET, POST / GET |
//! | `/v1/inventory`, `/v1/inventory/{product_id}` | GET, POST / GET, PATCH |
//! | `/v1/auth/register`, `/v1/auth/login`, `/v1/auth/refresh`, `/v1/auth/logout` | POST (`serve all`, `serve users`) |
//! | `/v1/users/me`, `/v1/users`, `/v1/users/{id}` | GET / GET / PATCH (`serve all`, `serve users`) |
//! | `/health`, `/ready` | GET |
//! | `/openapi.json`, `/docs` | GET |

pub mod accounts;
pub mod categories;
pub mod health;
pub mod inventory;
pub mod jsonapi;
pub mod middleware;
pub mod products;

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Request, Response};
use poem_openapi::{OpenApi, OpenApiService, Tags};

use self::accounts::AccountsApi;
use self::categories::CategoriesApi;
use self::health::HealthApi;
use self::inventory::InventoryApi;
use self::middleware::auth::ApiKeyAuth;
use self::middleware::edge::{Edge, EdgeEndpoint};
use self::products::ProductsApi;
use crate::composition::{AccountsService, App};
use crate::config::ServiceSet;

/// Groups of operations in the OpenAPI document.
#[derive(Tags)]
pub enum ApiTags {
    /// Products of the catalog.
    Products,
    /// Product categories.
    Categories,
    /// Stock records, one per product.
    Inventory,
    /// Registration, sessions and users.
    Accounts,
    /// Liveness and readiness.
    Operations,
}

/// The whole HTTP application for `services`: the routes of the services `app`
/// carries, plus `/health` and `/ready`.
pub fn endpoint(app: &App, services: ServiceSet) -> HttpApp {
    let health = HealthApi::new(app.dependencies.clone(), services.name());
    let key = ApiKeyAuth::new(app.api_key.as_deref()).with_tokens(app.authenticate.clone());
    let accounts = |accounts: &Arc<AccountsService>| {
        AccountsApi::new(accounts.clone(), app.auth_rate_per_minute)
    };
    match (&app.catalog, &app.inventory, &app.accounts) {
        (Some(catalog), Some(inventory), Some(users)) => routes(
            (
                health,
                ProductsApi::new(catalog.clone()),
                CategoriesApi::new(catalog.clone()),
                InventoryApi::new(inventory.clone()),
                accounts(users),
            ),
            key,
        ),
        (Some(catalog), Some(inventory), None) => routes(
            (
                health,
                ProductsApi::new(catalog.clone()),
                CategoriesApi::new(catalog.clone()),
                InventoryApi::new(inventory.clone()),
            ),
            key,
        ),
        (Some(catalog), None, _) => routes(
            (
                health,
                ProductsApi::new(catalog.clone()),
                CategoriesApi::new(catalog.clone()),
            ),
            key,
        ),
        (None, Some(inventory), _) => routes((health, InventoryApi::new(inventory.clone())), key),
        (None, None, Some(users)) => routes((health, accounts(users)), key),
        (None, None, None) => routes(health, key),
    }
}

/// The OpenAPI document of `api`, as served at `/openapi.json`.
pub fn openapi_service<T: OpenApi>(api: T) -> OpenApiService<T, ()> {
    OpenApiService::new(api, "Emporium", env!("CARGO_PKG_VERSION")).description(
        "Emporium shop backend. JSON:API 1.1 (application/vnd.api+json) under /v1; \
         writes need an admin access token (Authorization: Bearer) or the X-API-Key header.",
    )
}

fn routes<T: OpenApi + 'static>(api: T, auth: ApiKeyAuth) -> HttpApp {
    let service = openapi_service(api);
    let spec = service.spec_endpoint().map_to_response().boxed();
    let docs = poem::Route::new()
        .nest("/docs", service.swagger_ui())
        .map_to_response()
        .boxed();
    Dispatcher {
        api: service.into_endpoint(),
        spec,
        docs,
    }
    .with(Edge::new(auth))
}

/// The whole HTTP application: the edge around the dispatcher.
pub type HttpApp = EdgeEndpoint<Dispatcher>;

/// Sends `/openapi.json` and `/docs` to the documentation, everything else to the
/// API (without rewriting the URL, as nesting would).
pub struct Dispatcher {
    api: BoxEndpoint<'static, Response>,
    spec: BoxEndpoint<'static, Response>,
    docs: BoxEndpoint<'static, Response>,
}

impl Endpoint for Dispatcher {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let path = request.uri().path();
        if path == "/openapi.json" {
            self.spec.call(request).await
        } else if path == "/docs" || path.starts_with("/docs/") {
            self.docs.call(request).await
        } else {
            self.api.call(request).await
        }
    }
}
