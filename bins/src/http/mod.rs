//! The HTTP edge: JSON:API routes on poem-openapi, the middleware around them, and
//! `/openapi.json` + `/docs` (Swagger UI).
//!
//! | route | methods |
//! |---|---|
//! | `/v1/products`, `/v1/products/{id}` | GET, POST / GET, PATCH, DELETE |
//! | `/v1/categories`, `/v1/categories/{id}` | GET, POST / GET |
//! | `/v1/inventory`, `/v1/inventory/{product_id}` | GET, POST / GET, PATCH |
//! | `/health`, `/ready` | GET |
//! | `/openapi.json`, `/docs` | GET |

pub mod categories;
pub mod health;
pub mod inventory;
pub mod jsonapi;
pub mod middleware;
pub mod products;

use poem::endpoint::BoxEndpoint;
use poem::middleware::CatchPanic;
use poem::{EndpointExt, Response, Route};
use poem_openapi::{OpenApi, OpenApiService, Tags};

use self::categories::CategoriesApi;
use self::health::HealthApi;
use self::inventory::InventoryApi;
use self::middleware::auth::ApiKeyAuth;
use self::middleware::edge::Edge;
use self::middleware::media_type::AcceptJsonApi;
use self::products::ProductsApi;
use crate::composition::App;
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
    /// Liveness and readiness.
    Operations,
}

/// The whole HTTP application for `services`.
pub fn endpoint(app: &App, services: ServiceSet) -> BoxEndpoint<'static, Response> {
    let health = HealthApi::new(app.dependencies.clone(), service_name(services));
    let key = app.api_key.as_deref();
    match (&app.catalog, &app.inventory) {
        (Some(catalog), Some(inventory)) => routes(
            (
                health,
                ProductsApi::new(catalog.clone()),
                CategoriesApi::new(catalog.clone()),
                InventoryApi::new(inventory.clone()),
            ),
            key,
        ),
        (Some(catalog), None) => routes(
            (
                health,
                ProductsApi::new(catalog.clone()),
                CategoriesApi::new(catalog.clone()),
            ),
            key,
        ),
        (None, Some(inventory)) => routes((health, InventoryApi::new(inventory.clone())), key),
        (None, None) => routes(health, key),
    }
}

fn service_name(services: ServiceSet) -> &'static str {
    match services {
        ServiceSet::All => "all",
        ServiceSet::Products => "products",
        ServiceSet::Inventory => "inventory",
    }
}

/// The OpenAPI document of `api`, as served at `/openapi.json`.
pub fn openapi_service<T: OpenApi>(api: T) -> OpenApiService<T, ()> {
    OpenApiService::new(api, "Emporium", env!("CARGO_PKG_VERSION")).description(
        "Emporium shop backend. JSON:API 1.1 (application/vnd.api+json) under /v1; \
         writes need the X-API-Key header.",
    )
}

fn routes<T: OpenApi + 'static>(api: T, api_key: Option<&str>) -> BoxEndpoint<'static, Response> {
    let service = openapi_service(api);
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    Route::new()
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/", service)
        .with(ApiKeyAuth::new(api_key))
        .with(AcceptJsonApi)
        .with(CatchPanic::new())
        .with(Edge)
        .boxed()
}
