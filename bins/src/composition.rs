//! The composition root: the only place that chooses adapters. From a [`Config`] and
//! a [`ServiceSet`] it opens storage (running migrations), picks the cache and the
//! calls between catalog and inventory (in process or over HTTP), builds the
//! application's use-case bundles, and hands them to the HTTP edge as an
//! [`HttpState`], with the readiness checks of every dependency.

use std::sync::Arc;
use std::time::Duration;

use crate::metered::Instruments;
use anyhow::Context;
use chrono::TimeDelta;
use emporium_adapters::account_changes::RedisAccountChanges;
use emporium_adapters::cache::{MokaCache, RedisCache, ResilientCache};
use emporium_adapters::carts::RedisCartStore;
use emporium_adapters::http::{
    HttpClientConfig, HttpProductCatalog, HttpProductStock, HttpStockReservations,
};
use emporium_adapters::in_process::{
    InProcessEventBus, InProcessProductCatalog, InProcessProductStock, InProcessStreamTickets,
    LiveHub, MockPaymentProvider, SystemClock, UuidV7Generator,
};
use emporium_adapters::live::{RedisLivePush, RedisStreamTickets};
use emporium_adapters::mail::{LocalMailbox, MinijinjaMailTemplates, Sender, SmtpMailer};
use emporium_adapters::mongo::{MongoInventoryRepository, MongoStockReservations};
use emporium_adapters::rate_limits::RedisRateLimits;
use emporium_adapters::redis_streams::{DeadLetters, RedisStreamsEventBus, RedisStreamsOptions};
use emporium_adapters::security::{Argon2PasswordHasher, JwtSettings, JwtTokenIssuer};
use emporium_adapters::sql::DatabaseConnection;
use emporium_adapters::sql::{
    self, SqlAccountTokenRepository, SqlCartStore, SqlCategoryRepository, SqlInventoryRepository,
    SqlNotificationRepository, SqlOrderRepository, SqlProductRepository, SqlRefreshTokenRepository,
    SqlStockReservations, SqlUserRepository, SqlWebhookRepository,
};
use emporium_adapters::webhooks::{HttpWebhookSender, RandomSecrets};
use emporium_application::accounts::{
    Accounts, AccountsPorts, Authenticate, CreateAdmin, CreateAdminError,
};
use emporium_application::carts::{CartPorts, Carts};
use emporium_application::catalog::{Catalog, CatalogPorts};
use emporium_application::inventory::{Inventory, InventoryPorts};
use emporium_application::notifications::{NotificationPorts, NotificationSettings, Notifications};
use emporium_application::orders::{OrderPorts, OrderSettings, Orders};
use emporium_application::webhooks::{
    WebhookPorts, WebhookSettings, Webhooks, default_retry_delays,
};
use emporium_domain::accounts::{
    AccountChanges, DisplayName, Email, NewUser, Password, TokenIssuer, UserRepository,
};
use emporium_domain::catalog::{ProductCatalog, ProductRepository, ProductStock};
use emporium_domain::inventory::{InventoryRepository, StockReservations};
use emporium_domain::notifications::{LivePush, MailTemplates, Mailer, StreamTickets};
use emporium_domain::orders::{CartStore, EventBus, PaymentProvider};
use emporium_domain::{Cache, Clock, IdGenerator};
use futures::FutureExt;

use crate::config::{Config, PaymentProviderKind, ServiceSet, redact_url};
use crate::http::HttpState;
use crate::http::health::Dependency;
use crate::http::middleware::client_address::TrustedProxies;

/// Entries the in-process product cache holds at most.
const MOKA_CAPACITY: u64 = 10_000;
/// How long `/ready` waits for another service's `/health`.
const REMOTE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

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
pub fn needs_sql(config: &Config, services: ServiceSet) -> bool {
    services.has_catalog()
        || services.has_accounts()
        || services.has_orders()
        || services.has_notifications()
        || (services.has_inventory() && config.mongo_url.is_none())
}

/// Opens (and migrates) the SQL database named by `EMPORIUM_DATABASE_URL`; errors
/// name the variable.
async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = sql::connect(&config.database_url).await.with_context(|| {
        format!(
            "EMPORIUM_DATABASE_URL: cannot open the database {}",
            redact_url(&config.database_url)
        )
    })?;
    sql::migrate(&db).await.with_context(|| {
        format!(
            "EMPORIUM_DATABASE_URL: cannot migrate the database {}",
            redact_url(&config.database_url)
        )
    })?;
    sql::record_currency(&db, config.currency)
        .await
        .context("EMPORIUM_CURRENCY")?;
    Ok(db)
}

/// Applies migrations for `services` and returns (`emporium migrate`).
pub async fn migrate(config: &Config, services: ServiceSet) -> anyhow::Result<()> {
    if !needs_sql(config, services) {
        tracing::info!("no SQL storage for these services; nothing to migrate");
        return Ok(());
    }
    open_database(config).await?;
    tracing::info!(database = %redact_url(&config.database_url), "migrations applied");
    Ok(())
}

/// What [`build`] makes: the HTTP edge's state and what the server stops at shutdown.
pub struct Built {
    /// The HTTP edge's state.
    pub state: HttpState,
    /// The Redis Streams bus, when events go over Redis: its consumers stop with the
    /// server.
    pub event_bus: Option<Arc<RedisStreamsEventBus>>,
    /// The task forwarding other replicas' live events to this process's streams.
    pub live_listener: Option<tokio::task::JoinHandle<()>>,
}

/// Builds the application for `services` from `config` (already checked, with its
/// API key and token secret resolved).
pub async fn build(config: &Config, services: ServiceSet) -> anyhow::Result<Built> {
    let tokens: Arc<dyn TokenIssuer> = Arc::new(token_issuer(config)?);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ids: Arc<dyn IdGenerator> = Arc::new(UuidV7Generator);
    let mut dependencies: Vec<Dependency> = Vec::new();
    let instruments = Instruments::new();

    let db = if needs_sql(config, services) {
        let db = open_database(config).await?;
        let probe = db.clone();
        dependencies.push(Dependency::new("database", true, move || {
            let db = probe.clone();
            async move { sql::ping(&db).await }.boxed()
        }));
        Some(db)
    } else {
        None
    };
    let products: Option<Arc<dyn ProductRepository>> = match &db {
        Some(db) if services.has_catalog() => Some(Arc::new(SqlProductRepository::new(db.clone()))),
        _ => None,
    };
    let mut reservations: Option<Arc<dyn StockReservations>> = None;
    let inventory_store: Option<Arc<dyn InventoryRepository>> = match (&config.mongo_url, &db) {
        _ if !services.has_inventory() => None,
        (Some(url), _) => {
            let repository = MongoInventoryRepository::connect(url, &config.mongo_database)
                .await
                .with_context(|| {
                    format!(
                        "EMPORIUM_MONGO_URL: cannot use MongoDB at {}",
                        redact_url(url)
                    )
                })?;
            let probe = repository.clone();
            dependencies.push(Dependency::new("mongodb", true, move || {
                let repository = probe.clone();
                async move { Ok(repository.ping().await?) }.boxed()
            }));
            reservations = Some(Arc::new(
                MongoStockReservations::with_database(repository.database())
                    .await
                    .context("EMPORIUM_MONGO_URL: cannot prepare the stock reservations")?,
            ));
            Some(Arc::new(repository))
        }
        (None, Some(db)) => {
            reservations = Some(Arc::new(SqlStockReservations::new(db.clone())));
            Some(Arc::new(SqlInventoryRepository::new(db.clone())))
        }
        (None, None) => anyhow::bail!("inventory needs a database"),
    };

    // Calls to the other service, when it runs elsewhere: the adapter's defaults are
    // 2 s per attempt and up to 3 retries with backoff on timeouts, connection errors
    // and 5xx only, so a stopped service is reported (503) in about a second.
    let api_key = config.api_key.clone().unwrap_or_default();
    let remote = |base_url: &str| HttpClientConfig::new(base_url, api_key.clone());

    let catalog = match (&products, &db) {
        (Some(products), Some(db)) => {
            let cache = product_cache(config, &mut dependencies, &instruments).await?;
            let stock: Arc<dyn ProductStock> = match (&config.inventory_url, &inventory_store) {
                (Some(url), _) => {
                    dependencies.push(remote_service("inventory-service", url)?);
                    Arc::new(
                        HttpProductStock::new(remote(url)).context(
                            "EMPORIUM_INVENTORY_URL: cannot set up the inventory client",
                        )?,
                    )
                }
                (None, Some(inventory)) => Arc::new(InProcessProductStock::new(inventory.clone())),
                (None, None) => anyhow::bail!(
                    "EMPORIUM_INVENTORY_URL is required: the catalog must ask inventory about \
                     reserved stock"
                ),
            };
            Some(Arc::new(Catalog::new(CatalogPorts {
                products: products.clone(),
                categories: Arc::new(SqlCategoryRepository::new(db.clone())),
                cache,
                stock,
                ids: ids.clone(),
                clock: clock.clone(),
            })))
        }
        _ => None,
    };

    let inventory = match inventory_store {
        Some(inventory) => {
            let catalog: Arc<dyn ProductCatalog> = match (&config.products_url, &products) {
                (Some(url), _) => {
                    dependencies.push(remote_service("products-service", url)?);
                    Arc::new(
                        HttpProductCatalog::new(remote(url))
                            .context("EMPORIUM_PRODUCTS_URL: cannot set up the products client")?,
                    )
                }
                (None, Some(products)) => Arc::new(InProcessProductCatalog::new(products.clone())),
                (None, None) => anyhow::bail!(
                    "EMPORIUM_PRODUCTS_URL is required: inventory must ask the catalog whether \
                     products exist"
                ),
            };
            let reservations = reservations
                .clone()
                .context("inventory has no stock reservations store")?;
            Some(Arc::new(Inventory::new(InventoryPorts {
                inventory,
                catalog,
                reservations,
                clock: clock.clone(),
            })))
        }
        None => None,
    };

    let users: Option<Arc<dyn UserRepository>> = match &db {
        Some(db) if services.has_accounts() => Some(Arc::new(SqlUserRepository::new(db.clone()))),
        _ => None,
    };
    let mut event_bus = None;
    let mut order_bus: Option<Arc<dyn EventBus>> = None;
    let (carts, orders) = match &db {
        Some(db) if services.has_orders() => {
            // Names, prices and stock: in process beside the catalog and inventory,
            // else over HTTP to their services (`serve orders`).
            let catalog: Arc<dyn ProductCatalog> = match (&products, &config.products_url) {
                (Some(products), _) => Arc::new(InProcessProductCatalog::new(products.clone())),
                (None, Some(url)) => {
                    dependencies.push(remote_service("products-service", url)?);
                    Arc::new(
                        HttpProductCatalog::new(remote(url))
                            .context("EMPORIUM_PRODUCTS_URL: cannot set up the products client")?,
                    )
                }
                (None, None) => anyhow::bail!(
                    "EMPORIUM_PRODUCTS_URL is required: orders ask the catalog for prices"
                ),
            };
            let reservations: Arc<dyn StockReservations> =
                match (&reservations, &config.inventory_url) {
                    (Some(reservations), _) => reservations.clone(),
                    (None, Some(url)) => {
                        dependencies.push(remote_service("inventory-service", url)?);
                        Arc::new(HttpStockReservations::new(remote(url)).context(
                            "EMPORIUM_INVENTORY_URL: cannot set up the reservations client",
                        )?)
                    }
                    (None, None) => anyhow::bail!(
                        "EMPORIUM_INVENTORY_URL is required: orders reserve stock in inventory"
                    ),
                };
            let reservations = instruments.reservations(reservations);
            let store: Arc<dyn CartStore> = match &config.cart_redis_url {
                Some(url) => Arc::new(cart_store(config, url, &mut dependencies).await?),
                None => Arc::new(SqlCartStore::new(db.clone())),
            };
            let bus: Arc<dyn EventBus> = match &config.bus_redis_url {
                Some(url) => {
                    let bus = redis_event_bus(config, url, &mut dependencies).await?;
                    event_bus = Some(bus.clone());
                    bus
                }
                None => Arc::new(InProcessEventBus::new()),
            };
            let bus = instruments.bus(bus);
            order_bus = Some(bus.clone());
            let carts = Carts::new(CartPorts {
                carts: store.clone(),
                catalog: catalog.clone(),
                clock: clock.clone(),
                currency: config.currency,
            });
            let order_store = Arc::new(SqlOrderRepository::new(db.clone()));
            let provider: Option<Arc<dyn PaymentProvider>> = match config.payment_provider {
                Some(PaymentProviderKind::Mock) => {
                    tracing::warn!(
                        "EMPORIUM_PAYMENT_PROVIDER=mock: payments take no money and customers \
                         can mark their own orders paid; never use it in a real shop"
                    );
                    Some(Arc::new(MockPaymentProvider))
                }
                None => None,
            };
            let orders = Orders::new(OrderPorts {
                orders: order_store.clone(),
                outbox: order_store.clone(),
                idempotency: order_store.clone(),
                payments: order_store.clone(),
                shipments: order_store,
                provider,
                reservations,
                catalog,
                carts: store,
                users: users.clone(),
                bus,
                clock: clock.clone(),
                ids: ids.clone(),
                settings: OrderSettings {
                    currency: config.currency,
                    payment_timeout: TimeDelta::seconds(
                        i64::try_from(config.order_payment_timeout).unwrap_or(i64::MAX),
                    ),
                    max_pending_orders: config.max_pending_orders,
                    event_retention: TimeDelta::seconds(
                        i64::try_from(config.event_retention).unwrap_or(i64::MAX),
                    ),
                    attempt_timeout: TimeDelta::seconds(
                        i64::try_from(config.order_attempt_timeout).unwrap_or(60),
                    ),
                    ..OrderSettings::default()
                },
            });
            (Some(Arc::new(carts)), Some(Arc::new(orders)))
        }
        _ => (None, None),
    };

    // Mail, for the order notifications and the account mails (users service).
    let mail = if services.has_notifications() || services.has_accounts() {
        let templates: Arc<dyn MailTemplates> =
            Arc::new(MinijinjaMailTemplates::new().context("compiling the mail templates")?);
        Some((mailer(config, &mut dependencies).await?, templates))
    } else {
        None
    };
    let hub = LiveHub::new();
    let mut live_listener = None;
    let (notifications, webhooks) = match &db {
        Some(db) if services.has_notifications() => {
            // Beside the orders, on their bus; alone (`serve notifications`), on the
            // Redis Streams bus.
            let bus: Arc<dyn EventBus> = match (order_bus, &config.bus_redis_url) {
                (Some(bus), _) => bus,
                (None, Some(url)) => {
                    let bus = redis_event_bus(config, url, &mut dependencies).await?;
                    event_bus = Some(bus.clone());
                    instruments.bus(bus)
                }
                (None, None) => anyhow::bail!(
                    "EMPORIUM_BUS_REDIS_URL is required: notifications consume the order events"
                ),
            };
            let (live, tickets) =
                live_push(config, &hub, &mut dependencies, &mut live_listener).await?;
            let ports = NotificationPorts {
                notifications: Arc::new(SqlNotificationRepository::new(db.clone())),
                live,
                tickets,
                mailer: mail.as_ref().context("no mailer")?.0.clone(),
                templates: mail.as_ref().context("no mail templates")?.1.clone(),
                clock: clock.clone(),
                ids: ids.clone(),
                settings: NotificationSettings {
                    retry_delays: config
                        .mail_retry_delays
                        .iter()
                        .map(|&seconds| TimeDelta::seconds(i64::try_from(seconds).unwrap_or(60)))
                        .collect(),
                    retention: TimeDelta::seconds(
                        i64::try_from(config.notification_retention).unwrap_or(i64::MAX),
                    ),
                    ..NotificationSettings::default()
                },
            };
            let notices = Some((ports.notifications.clone(), ports.live.clone()));
            let notifications = Notifications::new(ports, bus.as_ref());
            if config.webhook_allow_private {
                tracing::warn!(
                    "EMPORIUM_WEBHOOK_ALLOW_PRIVATE=true: webhooks may call private, loopback \
                     and link-local addresses (SSRF); use it only for tests and closed networks"
                );
            }
            let seconds = |seconds: u64| TimeDelta::seconds(i64::try_from(seconds).unwrap_or(60));
            let webhooks = Webhooks::new(
                WebhookPorts {
                    webhooks: Arc::new(SqlWebhookRepository::new(db.clone())),
                    sender: Arc::new(
                        HttpWebhookSender::new(config.webhook_allow_private)
                            .context("building the webhook sender")?,
                    ),
                    secrets: Arc::new(RandomSecrets),
                    clock: clock.clone(),
                    ids: ids.clone(),
                    notices,
                    settings: WebhookSettings {
                        retry_delays: if config.webhook_retry_delays.is_empty() {
                            default_retry_delays()
                        } else {
                            config
                                .webhook_retry_delays
                                .iter()
                                .copied()
                                .map(seconds)
                                .collect()
                        },
                        max_consecutive_failures: config.webhook_max_failures,
                        retention: seconds(config.webhook_retention),
                        ..WebhookSettings::default()
                    },
                },
                bus.as_ref(),
            );
            (Some(Arc::new(notifications)), Some(Arc::new(webhooks)))
        }
        _ => (None, None),
    };

    // Role and active-flag changes travel from the users service to the others over
    // the bus's Redis, in a split deployment.
    let changes = match &config.bus_redis_url {
        Some(url) if services.is_split() => {
            Some(account_changes(config, url, &mut dependencies).await?)
        }
        _ => None,
    };
    // Where the account store is at hand, tokens are checked against it too; else
    // against the published account changes.
    let (accounts, authenticate) = match (&db, users) {
        (Some(db), Some(users)) => {
            let accounts = Accounts::new(AccountsPorts {
                users: users.clone(),
                refresh_tokens: Arc::new(SqlRefreshTokenRepository::new(db.clone())),
                hasher: Arc::new(Argon2PasswordHasher::new()),
                tokens: tokens.clone(),
                ids,
                clock,
                changes: changes.map(|changes| changes as Arc<dyn AccountChanges>),
                account_tokens: Arc::new(SqlAccountTokenRepository::new(db.clone())),
                mailer: mail.as_ref().context("no mailer")?.0.clone(),
                templates: mail.as_ref().context("no mail templates")?.1.clone(),
                secrets: Arc::new(RandomSecrets),
            });
            (
                Some(Arc::new(accounts)),
                Authenticate::new(tokens).with_users(users),
            )
        }
        _ => match changes {
            Some(changes) => (
                None,
                Authenticate::new(tokens).with_account_changes(changes),
            ),
            None => {
                if services.is_split() {
                    tracing::warn!(
                        "no EMPORIUM_BUS_REDIS_URL: role and active-flag changes reach this \
                         service only when the access tokens issued before them expire"
                    );
                }
                (None, Authenticate::new(tokens))
            }
        },
    };
    // The auth limits, shared by the replicas through Redis when it is configured.
    let rate_limits = match (&config.redis_url, &accounts) {
        (Some(url), Some(_)) => Some(shared_rate_limits(config, url, &mut dependencies).await?),
        _ => None,
    };
    let dependencies: Arc<[Dependency]> = dependencies.into();
    let state = HttpState {
        metrics: Arc::new(crate::http::metrics::Metrics::new(
            dependencies.clone(),
            &instruments,
            crate::http::metrics::Sources {
                orders: orders.clone(),
                notifications: notifications.clone(),
                webhooks: webhooks.clone(),
                event_bus: event_bus.clone(),
            },
        )),
        metrics_on_main: config.metrics_addr.is_none(),
        catalog,
        inventory,
        accounts,
        carts,
        orders,
        live: notifications.as_ref().map(|_| hub),
        notifications,
        webhooks,
        dependencies,
        services: services.name(),
        api_keys: config
            .api_key
            .iter()
            .chain(&config.api_keys)
            .cloned()
            .collect(),
        callback_key: config.callback_key.clone(),
        authenticate: Arc::new(authenticate),
        auth_rate_per_minute: config.auth_rate_per_minute,
        rate_limits,
        trusted_proxies: TrustedProxies::new(config.trusted_proxies.clone()),
        cors_origins: config.cors_origins.clone(),
    };
    Ok(Built {
        state,
        event_bus,
        live_listener,
    })
}

/// Live push and stream tickets: over Redis when the bus is there (replicas share
/// them; `redis-live` in `/ready`, degraded when down), else in this process.
async fn live_push(
    config: &Config,
    hub: &LiveHub,
    dependencies: &mut Vec<Dependency>,
    listener: &mut Option<tokio::task::JoinHandle<()>>,
) -> anyhow::Result<(Arc<dyn LivePush>, Arc<dyn StreamTickets>)> {
    let Some(url) = &config.bus_redis_url else {
        return Ok((
            Arc::new(hub.clone()),
            Arc::new(InProcessStreamTickets::default()),
        ));
    };
    let context = || {
        format!(
            "EMPORIUM_BUS_REDIS_URL: cannot share live push through Redis at {}",
            redact_url(url)
        )
    };
    let push = RedisLivePush::connect(url, &config.redis_prefix)
        .await
        .with_context(context)?;
    let tickets = RedisStreamTickets::connect(url, &config.redis_prefix)
        .await
        .with_context(context)?;
    *listener = Some(push.listen(hub.clone()));
    let probe = tickets.clone();
    dependencies.push(Dependency::new("redis-live", false, move || {
        let tickets = probe.clone();
        async move {
            tickets
                .redeem("emporium-readiness-probe")
                .await
                .map(drop)
                .map_err(anyhow::Error::new)
        }
        .boxed()
    }));
    Ok((Arc::new(push), Arc::new(tickets)))
}

/// The mailer: SMTP when `EMPORIUM_SMTP_URL` is set (an optional dependency,
/// `smtp` in `/ready`: mail that cannot go now is retried), else the local mailbox
/// under the data directory.
async fn mailer(
    config: &Config,
    dependencies: &mut Vec<Dependency>,
) -> anyhow::Result<Arc<dyn Mailer>> {
    let sender = Sender::parse(&config.mail_from).context("EMPORIUM_MAIL_FROM")?;
    match &config.smtp_url {
        Some(url) => {
            let mailer = SmtpMailer::new(url, sender).with_context(|| {
                format!(
                    "EMPORIUM_SMTP_URL: cannot send mail through {}",
                    redact_url(url)
                )
            })?;
            let probe = mailer.clone();
            dependencies.push(Dependency::new("smtp", false, move || {
                let mailer = probe.clone();
                async move { mailer.ping().await }.boxed()
            }));
            Ok(Arc::new(mailer))
        }
        None => {
            let dir = config.data_dir.join("mail");
            let mailbox = LocalMailbox::open(&dir, sender).await.with_context(|| {
                format!("EMPORIUM_DATA_DIR: cannot keep mail in {}", dir.display())
            })?;
            tracing::info!(
                dir = %dir.display(),
                "no EMPORIUM_SMTP_URL: mail is written to the local mailbox and logged"
            );
            Ok(Arc::new(mailbox))
        }
    }
}

/// The cart store on Redis (a required dependency: `redis-carts` in `/ready`).
async fn cart_store(
    config: &Config,
    url: &str,
    dependencies: &mut Vec<Dependency>,
) -> anyhow::Result<RedisCartStore> {
    let store = RedisCartStore::connect(url)
        .await
        .with_context(|| {
            format!(
                "EMPORIUM_CART_REDIS_URL: cannot keep carts in Redis at {}",
                redact_url(url)
            )
        })?
        .with_prefix(format!("{}cart:", config.redis_prefix));
    warn_if_evicting(
        "carts",
        "EMPORIUM_CART_REDIS_URL",
        store.eviction_policy().await,
        keeps_expiring_keys,
    );
    let probe = store.clone();
    dependencies.push(Dependency::new("redis-carts", true, move || {
        let store = probe.clone();
        async move { Ok(store.ping().await?) }.boxed()
    }));
    Ok(store)
}

/// The event bus on Redis Streams (a required dependency: `redis-bus` in `/ready`).
async fn redis_event_bus(
    config: &Config,
    url: &str,
    dependencies: &mut Vec<Dependency>,
) -> anyhow::Result<Arc<RedisStreamsEventBus>> {
    let options = RedisStreamsOptions {
        prefix: config.redis_prefix.clone(),
        max_failures: config.bus_max_failures,
        ..RedisStreamsOptions::default()
    };
    let bus = RedisStreamsEventBus::connect_with(url, options)
        .await
        .with_context(|| {
            format!(
                "EMPORIUM_BUS_REDIS_URL: cannot carry events over Redis at {}",
                redact_url(url)
            )
        })?;
    warn_if_evicting(
        "the event bus",
        "EMPORIUM_BUS_REDIS_URL",
        bus.eviction_policy().await,
        keeps_lasting_keys,
    );
    let bus = Arc::new(bus);
    let probe = bus.clone();
    dependencies.push(Dependency::new("redis-bus", true, move || {
        let bus = probe.clone();
        async move { bus.ping().await }.boxed()
    }));
    Ok(bus)
}

/// The auth rate limits in Redis (an optional dependency: `redis-rate-limits`; when
/// it is down each replica limits on its own).
async fn shared_rate_limits(
    config: &Config,
    url: &str,
    dependencies: &mut Vec<Dependency>,
) -> anyhow::Result<RedisRateLimits> {
    let limits = RedisRateLimits::connect(url, &config.redis_prefix)
        .await
        .with_context(|| {
            format!(
                "EMPORIUM_REDIS_URL: cannot share the rate limits in Redis at {}",
                redact_url(url)
            )
        })?;
    let probe = limits.clone();
    dependencies.push(Dependency::new("redis-rate-limits", false, move || {
        let limits = probe.clone();
        async move { limits.ping().await }.boxed()
    }));
    Ok(limits)
}

/// The account changes on Redis (a required dependency: `account-changes`).
async fn account_changes(
    config: &Config,
    url: &str,
    dependencies: &mut Vec<Dependency>,
) -> anyhow::Result<Arc<RedisAccountChanges>> {
    let changes = RedisAccountChanges::connect(
        url,
        &config.redis_prefix,
        Duration::from_secs(config.access_token_ttl),
    )
    .await
    .with_context(|| {
        format!(
            "EMPORIUM_BUS_REDIS_URL: cannot follow account changes on Redis at {}",
            redact_url(url)
        )
    })?;
    let changes = Arc::new(changes);
    let probe = changes.clone();
    dependencies.push(Dependency::new("account-changes", true, move || {
        let result = probe.ping();
        async move { result }.boxed()
    }));
    Ok(changes)
}

/// Whether a Redis with `policy` keeps keys that expire (carts have a time to live):
/// only `noeviction` does.
fn keeps_expiring_keys(policy: &str) -> bool {
    policy == "noeviction"
}

/// Whether a Redis with `policy` keeps keys without expiry (the streams): a
/// `volatile-*` policy evicts only keys that expire.
fn keeps_lasting_keys(policy: &str) -> bool {
    policy == "noeviction" || policy.starts_with("volatile-")
}

/// Warns at start-up when the Redis holding `role` may evict it.
fn warn_if_evicting(
    role: &str,
    variable: &str,
    policy: anyhow::Result<String>,
    keeps: impl Fn(&str) -> bool,
) {
    match policy {
        Ok(policy) if keeps(&policy) => {}
        Ok(policy) => tracing::warn!(
            role,
            variable,
            maxmemory_policy = %policy,
            "this Redis may evict {role} when it is full: give {role} a Redis with \
             maxmemory-policy noeviction (the cache may stay on an evicting one)"
        ),
        Err(error) => tracing::info!(
            role,
            variable,
            error = format!("{error:#}"),
            "could not read the Redis eviction policy; make sure it is noeviction"
        ),
    }
}

/// The dead letters of the event bus, for `emporium events dead|replay`.
pub async fn dead_letters(config: &Config) -> anyhow::Result<DeadLetters> {
    let url = config.bus_redis_url.as_deref().context(
        "EMPORIUM_BUS_REDIS_URL (or EMPORIUM_REDIS_URL): the events travel in process; there \
         are no dead letters to show",
    )?;
    let options = RedisStreamsOptions {
        prefix: config.redis_prefix.clone(),
        ..RedisStreamsOptions::default()
    };
    let bus = RedisStreamsEventBus::connect_with(url, options)
        .await
        .with_context(|| {
            format!(
                "EMPORIUM_BUS_REDIS_URL: cannot reach Redis at {}",
                redact_url(url)
            )
        })?;
    Ok(bus.dead_letters())
}

/// The product cache: Redis when `EMPORIUM_REDIS_URL` is set (an optional
/// dependency: a down cache slows reads but fails none), else in process.
async fn product_cache(
    config: &Config,
    dependencies: &mut Vec<Dependency>,
    instruments: &Instruments,
) -> anyhow::Result<Arc<dyn Cache>> {
    let Some(url) = &config.redis_url else {
        return Ok(instruments.cache(Arc::new(MokaCache::new(MOKA_CAPACITY))));
    };
    let redis = RedisCache::connect(url)
        .await
        .with_context(|| {
            format!(
                "EMPORIUM_REDIS_URL: cannot use Redis at {}",
                redact_url(url)
            )
        })?
        .with_prefix(format!("{}cache:", config.redis_prefix));
    let probe = redis.clone();
    dependencies.push(Dependency::new("redis-cache", false, move || {
        let redis = probe.clone();
        async move { Ok(redis.ping().await?) }.boxed()
    }));
    // Counted inside the retries of invalidations: what Redis answered.
    Ok(Arc::new(ResilientCache::new(
        instruments.cache(Arc::new(redis)),
    )))
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
pub async fn bootstrap_admin(state: &HttpState, config: &Config) -> anyhow::Result<()> {
    let Some((email, password)) = &config.bootstrap_admin else {
        return Ok(());
    };
    let Some(accounts) = &state.accounts else {
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
    let db = open_database(config).await?;
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

/// Another Emporium service, checked through its `/health`.
fn remote_service(name: &'static str, base_url: &str) -> anyhow::Result<Dependency> {
    // reqwest is built without a default TLS provider: make sure ring is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(REMOTE_PROBE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("building the readiness HTTP client")?;
    let health_url = format!("{}/health", base_url.trim_end_matches('/'));
    Ok(Dependency::new(name, true, move || {
        let (client, url) = (client.clone(), health_url.clone());
        async move {
            let response = client.get(&url).send().await.context("calling /health")?;
            anyhow::ensure!(
                response.status().is_success(),
                "/health answered {}",
                response.status()
            );
            Ok(())
        }
        .boxed()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carts_and_streams_are_kept_only_by_policies_that_spare_them() {
        assert!(keeps_expiring_keys("noeviction") && keeps_lasting_keys("noeviction"));
        for policy in [
            "volatile-lru",
            "volatile-lfu",
            "volatile-ttl",
            "volatile-random",
        ] {
            assert!(!keeps_expiring_keys(policy), "{policy} evicts carts");
            assert!(keeps_lasting_keys(policy), "{policy} spares the streams");
        }
        for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
            assert!(!keeps_expiring_keys(policy) && !keeps_lasting_keys(policy));
        }
    }
}
