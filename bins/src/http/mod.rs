//! The HTTP edge: JSON:API routes on poem-openapi, the middleware around them, and
//! `/openapi.json` + `/docs` (Swagger UI).
//!
//! | route | methods |
//! |---|---|
//! | `/v1/products`, `/v1/products/{id}` | GET, POST / GET, PATCH, DELETE |
//! | `/v1/categories`, `/v1/categories/{id}` | GET, POST / GET, PATCH, DELETE |
//! | `/v1/inventory`, `/v1/inventory/{product_id}` | GET, POST / GET, PATCH, DELETE |
//! | `/v1/inventory/reservations`, `/{order_id}`, `/{order_id}/commit\|release\|restock`, `/processed-events/{consumer}/{event_id}` | POST / GET / POST / GET (service API key only) |
//! | `/v1/auth/register`, `/v1/auth/login`, `/v1/auth/refresh`, `/v1/auth/logout` | POST (`serve all`, `serve users`) |
//! | `/v1/auth/password-resets`, `/confirm`; `/v1/auth/email-verifications`, `/confirm` | POST (`serve all`, `serve users`) |
//! | `/v1/users/me`, `/v1/users`, `/v1/users/{id}` | GET / GET / GET, PATCH (`serve all`, `serve users`) |
//! | `/v1/cart`, `/v1/cart/items`, `/v1/cart/items/{product_id}` | GET, DELETE / POST / PATCH, DELETE |
//! | `/v1/orders`, `/v1/orders/{id}`, `/v1/orders/{id}/events`, `/v1/orders/{id}/cancel` | GET, POST / GET / GET / POST |
//! | `/v1/payments`, `/v1/payments/{id}`, `/v1/payments/{id}/succeed`, `/fail` (mock provider only) | POST / GET / POST |
//! | `/v1/shipments/{id}`, `/v1/shipments/{id}/dispatch`, `/deliver` | GET / POST |
//! | `/v1/notifications`, `/v1/notifications/{id}`, `/v1/notifications/{id}/retry` | GET / GET / POST (admins) |
//! | `/v1/notifications/stream-tickets`, `/v1/notifications/stream?ticket=` | POST / GET (WebSocket) |
//! | `/v1/webhooks`, `/v1/webhooks/{id}`, `/v1/webhooks/{id}/deliveries`, `/v1/webhooks/{id}/rotate-secret` | GET, POST / GET, PATCH, DELETE / GET / POST (admins) |
//! | `/v1/webhook-deliveries/{id}`, `/v1/webhook-deliveries/{id}/redeliver` | GET / POST (admins) |
//! | `/health`, `/ready` | GET |
//! | `/metrics` | GET (Prometheus text; on `EMPORIUM_METRICS_ADDR` instead when set) |
//! | `/openapi.json`, `/docs` | GET |
//!
//! The edge sees the application only through [`HttpState`]: the use-case bundles of
//! the services this process runs, and what the middleware needs.

pub mod accounts;
pub mod carts;
pub mod categories;
pub mod health;
pub mod inventory;
pub mod jsonapi;
pub mod metrics;
pub mod middleware;
pub mod notifications;
pub mod openapi;
pub mod orders;
pub mod payments;
pub mod products;
pub mod shipments;
pub mod webhooks;

use std::num::NonZeroU32;
use std::sync::Arc;

use emporium_application::accounts::{Accounts, Authenticate};
use emporium_application::carts::Carts;
use emporium_application::catalog::Catalog;
use emporium_application::inventory::Inventory;
use emporium_application::notifications::Notifications;
use emporium_application::orders::Orders;
use emporium_application::webhooks::Webhooks;
use poem::endpoint::make_sync;
use poem::http::{Method, header};
use poem::middleware::Cors;
use poem::web::Html;
use poem::{Endpoint, EndpointExt, IntoResponse, Response};
use poem_openapi::Tags;

use self::accounts::AccountsApi;
use self::accounts::rate_limit::AuthRateLimit;
use self::carts::CartsApi;
use self::categories::CategoriesApi;
use self::health::{Dependency, HealthApi};
use self::inventory::InventoryApi;
use self::inventory::reservations::ReservationsApi;
use self::metrics::{Metrics, MetricsEndpoint};
use self::middleware::auth::ApiKeyAuth;
use self::middleware::client_address::TrustedProxies;
use self::middleware::edge::Edge;
use self::notifications::NotificationsApi;
use self::notifications::stream::LiveStream;
use self::openapi::{AllowedMethods, ApiGroup, merged_document, router, swagger_ui_html};
use self::orders::OrdersApi;
use self::payments::{MockPaymentsApi, PaymentsApi};
use self::products::ProductsApi;
use self::shipments::ShipmentsApi;
use self::webhooks::WebhooksApi;
use emporium_adapters::in_process::LiveHub;
use emporium_adapters::rate_limits::RedisRateLimits;

/// The whole HTTP application (see [`endpoint`]).
pub type HttpApp = CorsForOrigins;

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
    /// The caller's cart.
    Carts,
    /// Orders, their shipments and audit trails.
    Orders,
    /// What buyers are told of their orders, and how it went.
    Notifications,
    /// Subscriptions of other systems to the order events, and their deliveries.
    Webhooks,
    /// Liveness and readiness.
    Operations,
}

/// Everything the HTTP edge needs from the rest of the process.
#[derive(Clone)]
pub struct HttpState {
    /// The catalog's use cases, when the catalog runs here.
    pub catalog: Option<Arc<Catalog>>,
    /// The inventory use cases, when inventory runs here.
    pub inventory: Option<Arc<Inventory>>,
    /// The account use cases, when accounts run here.
    pub accounts: Option<Arc<Accounts>>,
    /// The cart use cases, when the purchase flow runs here.
    pub carts: Option<Arc<Carts>>,
    /// The order use cases, when the purchase flow runs here.
    pub orders: Option<Arc<Orders>>,
    /// The notification use cases, when notifications run here.
    pub notifications: Option<Arc<Notifications>>,
    /// The webhook use cases, when notifications run here.
    pub webhooks: Option<Arc<Webhooks>>,
    /// This process's live streams, when notifications run here.
    pub live: Option<LiveHub>,
    /// What `/ready` checks.
    pub dependencies: Arc<[Dependency]>,
    /// Which services run here, for `/health`.
    pub services: &'static str,
    /// The service API keys callers may send: the one this service sends, and those
    /// of a rotation in progress.
    pub api_keys: Vec<String>,
    /// The key of the payment provider's and carrier's callbacks.
    pub callback_key: Option<String>,
    /// Bearer access token → actor.
    pub authenticate: Arc<Authenticate>,
    /// Attempts per minute per client address at the auth routes.
    pub auth_rate_per_minute: NonZeroU32,
    /// The auth limits shared by the replicas in Redis, when configured.
    pub rate_limits: Option<RedisRateLimits>,
    /// The proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Origins whose browsers may call the API (CORS); none when empty.
    pub cors_origins: Vec<String>,
    /// The metrics every request is counted in.
    pub metrics: Arc<Metrics>,
    /// Whether `/metrics` is served here (else on `EMPORIUM_METRICS_ADDR`).
    pub metrics_on_main: bool,
}

/// The whole HTTP application: the routes of the services `state` carries, plus
/// `/health`, `/ready`, `/openapi.json` and `/docs`, inside the edge middleware.
pub fn endpoint(state: &HttpState) -> HttpApp {
    let mut groups = vec![ApiGroup::new(HealthApi::new(
        state.dependencies.clone(),
        state.services,
    ))];
    if let Some(catalog) = &state.catalog {
        groups.push(ApiGroup::new(ProductsApi::new(catalog.clone())));
        groups.push(ApiGroup::new(CategoriesApi::new(catalog.clone())));
    }
    if let Some(inventory) = &state.inventory {
        groups.push(ApiGroup::new(InventoryApi::new(inventory.clone())));
        groups.push(ApiGroup::new(ReservationsApi::new(inventory.clone())));
    }
    if let Some(carts) = &state.carts {
        groups.push(ApiGroup::new(CartsApi::new(carts.clone())));
    }
    if let Some(orders) = &state.orders {
        groups.push(ApiGroup::new(OrdersApi::new(orders.clone())));
        groups.push(ApiGroup::new(PaymentsApi::new(orders.clone())));
        groups.push(ApiGroup::new(ShipmentsApi::new(orders.clone())));
        if orders.payments.provider() == Some("mock") {
            groups.push(ApiGroup::new(MockPaymentsApi::new(orders.clone())));
        }
    }
    if let Some(notifications) = &state.notifications {
        groups.push(ApiGroup::new(NotificationsApi::new(notifications.clone())));
    }
    if let Some(webhooks) = &state.webhooks {
        groups.push(ApiGroup::new(WebhooksApi::new(webhooks.clone())));
    }
    if let Some(accounts) = &state.accounts {
        let limit = AuthRateLimit::new(state.auth_rate_per_minute)
            .shared(state.rate_limits.clone())
            .behind(state.trusted_proxies.clone());
        groups.push(ApiGroup::new(AccountsApi::new(accounts.clone(), limit)));
    }
    let document =
        serde_json::to_string_pretty(&merged_document(&groups)).unwrap_or_else(|_| "{}".to_owned());
    let docs = swagger_ui_html(&document);
    let allowed = AllowedMethods::new(&groups);
    let mut routes = router(groups);
    if let (Some(notifications), Some(hub)) = (&state.notifications, &state.live) {
        routes = routes.at(
            "/v1/notifications/stream",
            LiveStream::new(
                notifications.clone(),
                state.authenticate.clone(),
                hub.clone(),
            ),
        );
    }
    if state.metrics_on_main {
        routes = routes.at("/metrics", MetricsEndpoint(state.metrics.clone()));
    }
    let routes = routes
        .at(
            "/openapi.json",
            make_sync(move |_| {
                Response::builder()
                    .content_type("application/json")
                    .body(document.clone())
            }),
        )
        .at(
            "/docs",
            make_sync(move |_| Html(docs.clone()).with_header(header::X_FRAME_OPTIONS, "DENY")),
        );
    let auth = ApiKeyAuth::new(&state.api_keys)
        .with_tokens(state.authenticate.clone())
        .with_callback_key(state.callback_key.as_deref());
    let edge = Edge::new(auth, allowed).with_metrics(state.metrics.clone());
    let app = Arc::new(routes.with(edge).boxed());
    CorsForOrigins {
        with_cors: app.clone().with(cors(&state.cors_origins)).boxed(),
        plain: app,
        origins: state.cors_origins.clone(),
    }
}

/// CORS for the configured origins only: a request whose `Origin` is one of them
/// goes through poem's [`Cors`] (preflights answered, `Access-Control-*` headers
/// added); any other request — same-origin, or from an origin not listed — is served
/// as it is, without CORS headers, so browsers keep other origins from reading it.
pub struct CorsForOrigins {
    with_cors: poem::endpoint::BoxEndpoint<'static, Response>,
    plain: Arc<poem::endpoint::BoxEndpoint<'static, Response>>,
    origins: Vec<String>,
}

impl Endpoint for CorsForOrigins {
    type Output = Response;

    async fn call(&self, request: poem::Request) -> poem::Result<Response> {
        let listed = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|origin| origin.to_str().ok())
            .is_some_and(|origin| self.origins.iter().any(|allowed| allowed == origin));
        if listed {
            self.with_cors.call(request).await
        } else {
            self.plain.call(request).await
        }
    }
}

/// CORS for `origins` (exact origins such as `https://shop.example`): browsers on
/// those origins may call every route with the methods and headers the API uses, and
/// read `Location`, `Retry-After` and `X-Request-ID`.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            "authorization",
            "content-type",
            "x-api-key",
            "x-request-id",
            "accept",
        ])
        .expose_headers(["location", "retry-after", "x-request-id"])
        .max_age(600);
    for origin in origins {
        cors = cors.allow_origin(origin.as_str());
    }
    cors
}

#[cfg(test)]
mod tests {
    use poem_openapi::registry::Registry;
    use poem_openapi::types::Type;
    use serde_json::json;

    use super::accounts::{
        ConfirmEmailVerification, ConfirmPasswordReset, Credentials, EmailVerifications, LogIn,
        PasswordResets, Refresh, Register, RequestPasswordReset, Tokens, UpdateUser, Users,
    };
    use super::categories::{Categories, CreateCategory, UpdateCategory};
    use super::inventory::reservations::{
        ProcessedEvents, ReservationActionDocument, Reservations, ReserveDocument,
    };
    use super::inventory::{AdjustStock, CreateStockRecord, StockRecords};
    use super::jsonapi::body::RequestDocument;
    use super::jsonapi::schema::SchemaDef;
    use super::jsonapi::{Fields, Resource, Write};
    use super::notifications::{Notifications_, RetryNotification, StreamTickets_};
    use super::products::{CreateProduct, Products, UpdateProduct};
    use super::webhooks::{
        CreateWebhook, RedeliverDelivery, RotateSecret, UpdateWebhook, WebhookDeliveries_,
        Webhooks_,
    };

    /// `R::ATTRIBUTES` lists exactly the properties of `R::Attributes`' schema.
    fn attributes_agree<R: Resource>() {
        let mut registry = Registry::new();
        R::Attributes::register(&mut registry);
        let schema = &registry.schemas[&*R::Attributes::name()];
        let properties: Vec<&str> = schema.properties.iter().map(|(name, _)| *name).collect();
        assert_eq!(properties, R::ATTRIBUTES, "{}", R::TYPE);
    }

    /// `W`'s request schema builds: every member it names is an attribute of its
    /// resource or documents itself (a write-only member).
    fn request_schema_builds<W: Write>() {
        let schema = RequestDocument::<W>::schema(&mut Registry::new());
        assert_eq!(schema.required, ["data"]);
    }

    #[test]
    fn every_resource_is_described_once_and_consistently() {
        attributes_agree::<Categories>();
        attributes_agree::<Products>();
        attributes_agree::<StockRecords>();
        attributes_agree::<Reservations>();
        attributes_agree::<ProcessedEvents>();
        request_schema_builds::<ReserveDocument>();
        request_schema_builds::<ReservationActionDocument>();
        attributes_agree::<Users>();
        attributes_agree::<Credentials>();
        attributes_agree::<Tokens>();
        request_schema_builds::<CreateCategory>();
        request_schema_builds::<UpdateCategory>();
        request_schema_builds::<CreateProduct>();
        request_schema_builds::<UpdateProduct>();
        request_schema_builds::<CreateStockRecord>();
        request_schema_builds::<AdjustStock>();
        request_schema_builds::<Register>();
        request_schema_builds::<LogIn>();
        request_schema_builds::<Refresh>();
        request_schema_builds::<UpdateUser>();
        attributes_agree::<Notifications_>();
        attributes_agree::<Webhooks_>();
        attributes_agree::<WebhookDeliveries_>();
        request_schema_builds::<RetryNotification>();
        request_schema_builds::<CreateWebhook>();
        request_schema_builds::<UpdateWebhook>();
        request_schema_builds::<RotateSecret>();
        request_schema_builds::<RedeliverDelivery>();
        attributes_agree::<StreamTickets_>();
        attributes_agree::<PasswordResets>();
        attributes_agree::<EmailVerifications>();
        request_schema_builds::<RequestPasswordReset>();
        request_schema_builds::<ConfirmPasswordReset>();
        request_schema_builds::<ConfirmEmailVerification>();
    }

    fn product(category: Option<uuid::Uuid>) -> emporium_domain::catalog::Product {
        use emporium_domain::catalog::*;
        NewProduct {
            name: ProductName::new("Cup").unwrap(),
            description: Description::default(),
            price: Price::parse("12.50").unwrap(),
            sku: Sku::new("CUP-1").unwrap(),
            images: vec![],
            active: true,
            category_id: category.map(CategoryId),
        }
        .into_product(ProductId(uuid::Uuid::from_u128(1)), chrono::Utc::now())
    }

    #[test]
    fn resource_objects_show_relationships_and_sparse_fieldsets() {
        let category = uuid::Uuid::from_u128(7);
        let object =
            serde_json::to_value(Products::object(product(Some(category)), Fields::ALL)).unwrap();
        assert_eq!(object["type"], "products");
        assert_eq!(
            object["relationships"],
            json!({"category": {"data": {"type": "categories", "id": category.to_string()}}})
        );
        assert_eq!(
            object["links"]["self"],
            format!("/v1/products/{}", uuid::Uuid::from_u128(1))
        );
        assert_eq!(object["attributes"]["price"], "12.50");
        let none = serde_json::to_value(Products::object(product(None), Fields::ALL)).unwrap();
        assert_eq!(none["relationships"], json!({"category": {"data": null}}));
        const SPARSE: super::jsonapi::QuerySpec = super::jsonapi::QuerySpec {
            fieldsets: &[super::jsonapi::FieldSet::of::<Products>()],
            ..super::jsonapi::QuerySpec::NONE
        };
        let query = SPARSE.parse(Some("fields[products]=name,price")).unwrap();
        let sparse = serde_json::to_value(Products::object(
            product(Some(category)),
            query.fields_of::<Products>(),
        ))
        .unwrap();
        assert_eq!(
            sparse["attributes"],
            json!({"name": "Cup", "price": "12.50"})
        );
        assert!(sparse.get("relationships").is_none());
    }
}
