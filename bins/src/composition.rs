//! The composition root: the only place that chooses adapters. From a [`Config`] and
//! a [`ServiceSet`] it opens storage (running migrations), picks the cache and the
//! lookups between catalog and inventory (in process or over HTTP), and builds the use
//! cases the HTTP layer drives, plus the readiness probes of every dependency.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use emporium_adapters::cache::{MokaCache, RedisCache};
use emporium_adapters::http::{HttpClientConfig, HttpProductCatalog, HttpStockLookup};
use emporium_adapters::in_process::{
    InProcessProductCatalog, InProcessStockLookup, SystemClock, UuidV7Generator,
};
use emporium_adapters::mongo::MongoInventoryRepository;
use emporium_adapters::security::{Argon2PasswordHasher, JwtSettings, JwtTokenIssuer};
use emporium_adapters::sql::{
    self, SqlCategoryRepository, SqlInventoryRepository, SqlProductRepository,
    SqlRefreshTokenRepository, SqlUserRepository,
};
use emporium_application::accounts::{
    Authenticate, CreateAdmin, CreateAdminError, GetCurrentUser, ListUsers, LogIn, LogOut,
    RefreshSession, RegisterUser, SessionIssuer, UpdateUser,
};
use emporium_application::catalog::{
    CreateCategory, CreateProduct, DeleteProduct, GetCategory, GetProduct, ListCategories,
    ListProducts, UpdateProduct,
};
use emporium_application::inventory::{
    AdjustInventory, CreateInventory, GetInventory, ListInventory,
};
use emporium_domain::accounts::{
    DisplayName, Email, NewUser, Password, PasswordHasher, RefreshTokenRepository, TokenIssuer,
    UserRepository,
};
use emporium_domain::catalog::{
    CategoryRepository, ProductCatalog, ProductRepository, StockLookup,
};
use emporium_domain::inventory::InventoryRepository;
use emporium_domain::{Cache, Clock, IdGenerator};

use crate::config::{Config, ServiceSet, redact_url};

/// Entries the in-process product cache holds at most.
const MOKA_CAPACITY: u64 = 10_000;
/// How long one readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The catalog use cases (products and categories).
pub struct CatalogService {
    /// `POST /v1/products`.
    pub create_product: CreateProduct,
    /// `GET /v1/products/{id}`.
    pub get_product: GetProduct,
    /// `GET /v1/products`.
    pub list_products: ListProducts,
    /// `PATCH /v1/products/{id}`.
    pub update_product: UpdateProduct,
    /// `DELETE /v1/products/{id}`.
    pub delete_product: DeleteProduct,
    /// `POST /v1/categories`.
    pub create_category: CreateCategory,
    /// `GET /v1/categories/{id}` (and `include=category`).
    pub get_category: GetCategory,
    /// `GET /v1/categories`.
    pub list_categories: ListCategories,
}

/// The inventory use cases.
pub struct InventoryService {
    /// `POST /v1/inventory`.
    pub create: CreateInventory,
    /// `GET /v1/inventory/{product_id}`.
    pub get: GetInventory,
    /// `GET /v1/inventory`.
    pub list: ListInventory,
    /// `PATCH /v1/inventory/{product_id}`.
    pub adjust: AdjustInventory,
}

/// The account use cases (`serve all` and `serve users`).
pub struct AccountsService {
    /// `POST /v1/auth/register`.
    pub register: RegisterUser,
    /// `POST /v1/auth/login`.
    pub log_in: LogIn,
    /// `POST /v1/auth/refresh`.
    pub refresh: RefreshSession,
    /// `POST /v1/auth/logout`.
    pub log_out: LogOut,
    /// `GET /v1/users/me`.
    pub current_user: GetCurrentUser,
    /// `GET /v1/users`.
    pub list_users: ListUsers,
    /// `PATCH /v1/users/{id}`.
    pub update_user: UpdateUser,
    /// The first administrator (`users create-admin`, `EMPORIUM_ADMIN_EMAIL`).
    pub create_admin: CreateAdmin,
}

/// Something `/ready` checks.
#[async_trait]
pub trait Probe: Send + Sync {
    /// `Ok` when the dependency answers.
    async fn check(&self) -> anyhow::Result<()>;
}

/// A named dependency and its probe.
#[derive(Clone)]
pub struct Dependency {
    /// Its name in `/ready` (`database`, `mongodb`, `redis`, `products-service`,
    /// `inventory-service`).
    pub name: &'static str,
    /// How to check it.
    pub probe: Arc<dyn Probe>,
}

impl Dependency {
    /// Runs the probe with a timeout; the error is logged, never returned to clients.
    pub async fn is_up(&self) -> bool {
        match tokio::time::timeout(PROBE_TIMEOUT, self.probe.check()).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::warn!(
                    dependency = self.name,
                    error = format!("{error:#}"),
                    "readiness check failed"
                );
                false
            }
            Err(_) => {
                tracing::warn!(dependency = self.name, "readiness check timed out");
                false
            }
        }
    }
}

/// Everything the HTTP layer needs.
#[derive(Clone)]
pub struct App {
    /// Present when the catalog runs here.
    pub catalog: Option<Arc<CatalogService>>,
    /// Present when inventory runs here.
    pub inventory: Option<Arc<InventoryService>>,
    /// Present when accounts run here (`serve all`, `serve users`).
    pub accounts: Option<Arc<AccountsService>>,
    /// Log-in and registration attempts per minute, per address and per e-mail.
    pub auth_rate_per_minute: std::num::NonZeroU32,
    /// What `/ready` checks.
    pub dependencies: Arc<[Dependency]>,
    /// The service API key.
    pub api_key: Option<String>,
    /// Signs and verifies access and refresh tokens.
    pub tokens: Arc<dyn TokenIssuer>,
    /// Bearer access token → actor (every service checks tokens itself).
    pub authenticate: Arc<Authenticate>,
}

/// The token issuer configured by `EMPORIUM_JWT_SECRET` and the token lifetimes.
pub fn token_issuer(config: &Config) -> anyhow::Result<JwtTokenIssuer> {
    let secret = config
        .jwt_secret
        .as_deref()
        .context("EMPORIUM_JWT_SECRET: no token signing secret")?;
    let mut settings = JwtSettings::new(secret.as_bytes());
    settings.access_ttl = Duration::from_secs(config.access_token_ttl);
    settings.refresh_ttl = Duration::from_secs(config.refresh_token_ttl);
    JwtTokenIssuer::new(settings)
}

/// Whether `services` keep anything in the SQL database.
fn needs_sql(config: &Config, services: ServiceSet) -> bool {
    services.has_catalog()
        || services.has_accounts()
        || (services.has_inventory() && config.mongo_url.is_none())
}

/// Applies migrations for `services` and returns (`emporium migrate`).
pub async fn migrate(config: &Config, services: ServiceSet) -> anyhow::Result<()> {
    config.check_formats()?;
    if !needs_sql(config, services) {
        tracing::info!("no SQL storage for these services; nothing to migrate");
        return Ok(());
    }
    let db = sql::connect(&config.database_url).await.with_context(|| {
        format!(
            "EMPORIUM_DATABASE_URL: cannot open the database {}",
            redact_url(&config.database_url)
        )
    })?;
    sql::migrate(&db).await?;
    tracing::info!(database = %redact_url(&config.database_url), "migrations applied");
    Ok(())
}

/// Builds the application for `services` from `config` (already checked, with its
/// API key and token secret resolved).
pub async fn build(config: &Config, services: ServiceSet) -> anyhow::Result<App> {
    let tokens: Arc<dyn TokenIssuer> = Arc::new(token_issuer(config)?);
    let authenticate = Arc::new(Authenticate::new(tokens.clone()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ids: Arc<dyn IdGenerator> = Arc::new(UuidV7Generator);
    // Probes in the order `/ready` lists them.
    let mut database_probe: Option<Arc<dyn Probe>> = None;
    let mut mongo_probe: Option<Arc<dyn Probe>> = None;
    let mut redis_probe: Option<Arc<dyn Probe>> = None;
    let mut remote_probes: Vec<Dependency> = Vec::new();

    // Storage.
    let db = if needs_sql(config, services) {
        let db = sql::connect(&config.database_url).await.with_context(|| {
            format!(
                "EMPORIUM_DATABASE_URL: cannot open the database {}",
                redact_url(&config.database_url)
            )
        })?;
        sql::migrate(&db).await?;
        Some(db)
    } else {
        None
    };
    let products: Option<Arc<dyn ProductRepository>> = match &db {
        Some(db) if services.has_catalog() => {
            let products: Arc<dyn ProductRepository> =
                Arc::new(SqlProductRepository::new(db.clone()));
            database_probe = Some(Arc::new(ProductsProbe(products.clone())));
            Some(products)
        }
        _ => None,
    };
    let inventory_repo: Option<Arc<dyn InventoryRepository>> = match (&config.mongo_url, &db) {
        _ if !services.has_inventory() => None,
        (Some(url), _) => {
            let repo = connect_mongo(url, &config.mongo_database)
                .await
                .with_context(|| {
                    format!(
                        "EMPORIUM_MONGO_URL: cannot use MongoDB at {}",
                        redact_url(url)
                    )
                })?;
            mongo_probe = Some(Arc::new(InventoryProbe(repo.clone())));
            Some(repo)
        }
        (None, Some(db)) => {
            let repo: Arc<dyn InventoryRepository> =
                Arc::new(SqlInventoryRepository::new(db.clone()));
            if database_probe.is_none() {
                database_probe = Some(Arc::new(InventoryProbe(repo.clone())));
            }
            Some(repo)
        }
        (None, None) => anyhow::bail!("inventory needs a database"),
    };

    // Calls to the other service, when it runs elsewhere.
    let api_key = config.api_key.clone().unwrap_or_default();
    // The adapter's defaults: 2 s per attempt, up to 3 retries with exponential
    // backoff on timeouts, connection errors and 5xx only. A stopped service refuses
    // connections, so it is reported (503) in about a second; a hung one within
    // `HttpClientConfig::worst_case_duration` (about 9 s).
    let service_config = |base_url: &str| HttpClientConfig::new(base_url, api_key.clone());

    let catalog = match (&products, &db) {
        (Some(products), Some(db)) => {
            let categories: Arc<dyn CategoryRepository> =
                Arc::new(SqlCategoryRepository::new(db.clone()));
            let cache: Arc<dyn Cache> = match &config.redis_url {
                Some(url) => {
                    let cache: Arc<dyn Cache> =
                        Arc::new(RedisCache::connect(url).await.with_context(|| {
                            format!(
                                "EMPORIUM_REDIS_URL: cannot use Redis at {}",
                                redact_url(url)
                            )
                        })?);
                    redis_probe = Some(Arc::new(CacheProbe(cache.clone())));
                    cache
                }
                None => Arc::new(MokaCache::new(MOKA_CAPACITY)),
            };
            let stock: Arc<dyn StockLookup> = match (&config.inventory_url, &inventory_repo) {
                (Some(url), _) => {
                    remote_probes.push(remote_service("inventory-service", url)?);
                    Arc::new(
                        HttpStockLookup::new(service_config(url)).context(
                            "EMPORIUM_INVENTORY_URL: cannot set up the inventory client",
                        )?,
                    )
                }
                (None, Some(inventory)) => Arc::new(InProcessStockLookup::new(inventory.clone())),
                (None, None) => anyhow::bail!(
                    "EMPORIUM_INVENTORY_URL is required: the catalog must ask inventory about \
                     reserved stock"
                ),
            };
            Some(Arc::new(CatalogService {
                create_product: CreateProduct::new(
                    products.clone(),
                    categories.clone(),
                    ids.clone(),
                    clock.clone(),
                ),
                get_product: GetProduct::new(products.clone(), cache.clone()),
                list_products: ListProducts::new(products.clone()),
                update_product: UpdateProduct::new(
                    products.clone(),
                    categories.clone(),
                    cache.clone(),
                    clock.clone(),
                ),
                delete_product: DeleteProduct::new(products.clone(), stock, cache),
                create_category: CreateCategory::new(categories.clone(), ids, clock.clone()),
                get_category: GetCategory::new(categories.clone()),
                list_categories: ListCategories::new(categories),
            }))
        }
        _ => None,
    };

    let inventory = match inventory_repo {
        Some(inventory) => {
            let lookup: Arc<dyn ProductCatalog> = match (&config.products_url, &products) {
                (Some(url), _) => {
                    remote_probes.push(remote_service("products-service", url)?);
                    Arc::new(
                        HttpProductCatalog::new(service_config(url))
                            .context("EMPORIUM_PRODUCTS_URL: cannot set up the products client")?,
                    )
                }
                (None, Some(products)) => Arc::new(InProcessProductCatalog::new(products.clone())),
                (None, None) => anyhow::bail!(
                    "EMPORIUM_PRODUCTS_URL is required: inventory must ask the catalog whether \
                     products exist"
                ),
            };
            Some(Arc::new(InventoryService {
                create: CreateInventory::new(inventory.clone(), lookup.clone(), clock.clone()),
                get: GetInventory::new(inventory.clone(), lookup),
                list: ListInventory::new(inventory.clone()),
                adjust: AdjustInventory::new(inventory, clock),
            }))
        }
        None => None,
    };

    let accounts = match &db {
        Some(db) if services.has_accounts() => {
            let users: Arc<dyn UserRepository> = Arc::new(SqlUserRepository::new(db.clone()));
            if database_probe.is_none() {
                database_probe = Some(Arc::new(UsersProbe(users.clone())));
            }
            Some(Arc::new(accounts_service(
                users,
                Arc::new(SqlRefreshTokenRepository::new(db.clone())),
                tokens.clone(),
                Arc::new(UuidV7Generator),
                Arc::new(SystemClock),
            )))
        }
        _ => None,
    };

    let named = [
        ("database", database_probe),
        ("mongodb", mongo_probe),
        ("redis", redis_probe),
    ];
    let dependencies: Vec<Dependency> = named
        .into_iter()
        .filter_map(|(name, probe)| probe.map(|probe| Dependency { name, probe }))
        .chain(remote_probes)
        .collect();
    Ok(App {
        catalog,
        inventory,
        dependencies: dependencies.into(),
        api_key: config.api_key.clone(),
        accounts,
        auth_rate_per_minute: std::num::NonZeroU32::new(config.auth_rate_per_minute)
            .context("EMPORIUM_AUTH_RATE_PER_MINUTE must be at least 1")?,
        tokens,
        authenticate,
    })
}

/// An administrator's details, checked; errors say which value is wrong (never
/// showing the password) and come from `source` (a variable or flag).
pub fn admin_input(
    email: &str,
    name: &str,
    password: &str,
    source: &str,
) -> anyhow::Result<NewUser> {
    let email =
        Email::parse(email).map_err(|e| anyhow::anyhow!("{source}: the e-mail address {}", e.0))?;
    let name = DisplayName::new(name).map_err(|e| anyhow::anyhow!("{source}: the name {}", e.0))?;
    let password =
        Password::new(password).map_err(|e| anyhow::anyhow!("{source}: the password {}", e.0))?;
    Ok(NewUser {
        email,
        name,
        password,
    })
}

/// Creates the administrator of `EMPORIUM_ADMIN_EMAIL`/`EMPORIUM_ADMIN_PASSWORD` at
/// start-up unless an account already has that address (then nothing changes).
pub async fn bootstrap_admin(app: &App, config: &Config) -> anyhow::Result<()> {
    let Some((email, password)) = &config.bootstrap_admin else {
        return Ok(());
    };
    let Some(accounts) = &app.accounts else {
        tracing::warn!(
            "EMPORIUM_ADMIN_EMAIL is ignored here: accounts run in `serve all` and `serve users`"
        );
        return Ok(());
    };
    let input = admin_input(
        email,
        crate::config::DEFAULT_ADMIN_NAME,
        password,
        "EMPORIUM_ADMIN_EMAIL/EMPORIUM_ADMIN_PASSWORD",
    )?;
    match accounts.create_admin.execute(input).await {
        Ok(user) => {
            tracing::info!(user = %user.id, "created the administrator named by EMPORIUM_ADMIN_EMAIL");
            Ok(())
        }
        Err(CreateAdminError::AlreadyExists) => {
            tracing::info!("the account named by EMPORIUM_ADMIN_EMAIL exists; left as it is");
            Ok(())
        }
        Err(CreateAdminError::Unexpected(error)) => {
            Err(error.context("creating the administrator of EMPORIUM_ADMIN_EMAIL"))
        }
    }
}

/// `emporium users create-admin`: opens (and migrates) the database and creates an
/// administrator.
pub async fn create_admin(config: &Config, input: NewUser) -> anyhow::Result<()> {
    config.check_formats()?;
    let db = sql::connect(&config.database_url).await.with_context(|| {
        format!(
            "EMPORIUM_DATABASE_URL: cannot open the database {}",
            redact_url(&config.database_url)
        )
    })?;
    sql::migrate(&db).await?;
    let create = CreateAdmin::new(
        Arc::new(SqlUserRepository::new(db)),
        Arc::new(Argon2PasswordHasher::new()),
        Arc::new(UuidV7Generator),
        Arc::new(SystemClock),
    );
    match create.execute(input).await {
        Ok(user) => {
            tracing::info!(user = %user.id, "administrator created");
            Ok(())
        }
        Err(CreateAdminError::AlreadyExists) => {
            anyhow::bail!("an account with this e-mail address already exists")
        }
        Err(CreateAdminError::Unexpected(error)) => {
            Err(error.context("creating the administrator"))
        }
    }
}

/// The account use cases on the SQL database.
fn accounts_service(
    users: Arc<dyn UserRepository>,
    refresh_tokens: Arc<dyn RefreshTokenRepository>,
    tokens: Arc<dyn TokenIssuer>,
    ids: Arc<dyn IdGenerator>,
    clock: Arc<dyn Clock>,
) -> AccountsService {
    let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2PasswordHasher::new());
    let sessions = SessionIssuer::new(tokens, refresh_tokens.clone(), ids.clone(), clock.clone());
    AccountsService {
        register: RegisterUser::new(users.clone(), hasher.clone(), ids.clone(), clock.clone()),
        log_in: LogIn::new(users.clone(), hasher.clone(), sessions.clone()),
        refresh: RefreshSession::new(users.clone(), sessions.clone()),
        log_out: LogOut::new(sessions),
        current_user: GetCurrentUser::new(users.clone()),
        list_users: ListUsers::new(users.clone()),
        update_user: UpdateUser::new(users.clone(), refresh_tokens, clock.clone()),
        create_admin: CreateAdmin::new(users, hasher, ids, clock),
    }
}

/// Inventory on MongoDB.
async fn connect_mongo(url: &str, database: &str) -> anyhow::Result<Arc<dyn InventoryRepository>> {
    Ok(Arc::new(
        MongoInventoryRepository::connect(url, database).await?,
    ))
}

struct ProductsProbe(Arc<dyn ProductRepository>);

#[async_trait]
impl Probe for ProductsProbe {
    async fn check(&self) -> anyhow::Result<()> {
        Ok(self.0.ping().await?)
    }
}

struct InventoryProbe(Arc<dyn InventoryRepository>);

#[async_trait]
impl Probe for InventoryProbe {
    async fn check(&self) -> anyhow::Result<()> {
        Ok(self.0.ping().await?)
    }
}

struct UsersProbe(Arc<dyn UserRepository>);

#[async_trait]
impl Probe for UsersProbe {
    async fn check(&self) -> anyhow::Result<()> {
        Ok(self.0.ping().await?)
    }
}

struct CacheProbe(Arc<dyn Cache>);

#[async_trait]
impl Probe for CacheProbe {
    async fn check(&self) -> anyhow::Result<()> {
        Ok(self.0.ping().await?)
    }
}

/// Another Emporium service, checked through its `/health`.
struct ServiceProbe {
    health_url: String,
    client: reqwest::Client,
}

#[async_trait]
impl Probe for ServiceProbe {
    async fn check(&self) -> anyhow::Result<()> {
        let response = self
            .client
            .get(&self.health_url)
            .send()
            .await
            .context("calling /health")?;
        anyhow::ensure!(
            response.status().is_success(),
            "/health answered {}",
            response.status()
        );
        Ok(())
    }
}

fn remote_service(name: &'static str, base_url: &str) -> anyhow::Result<Dependency> {
    // reqwest is built without a default TLS provider: make sure ring is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("building the readiness HTTP client")?;
    Ok(Dependency {
        name,
        probe: Arc::new(ServiceProbe {
            health_url: format!("{}/health", base_url.trim_end_matches('/')),
            client,
        }),
    })
}
