//! Configuration: command line and environment, parsed by clap with typed value
//! parsers. Every setting is a flag with a matching `EMPORIUM_*` variable (an empty
//! variable counts as unset); `emporium --help` lists them with their defaults, and
//! `docs/configuration.md` is checked against that list by a test. A wrong value stops
//! start-up with a message naming the flag and the variable; settings that depend on
//! each other are checked by [`Config::check`] for the services a process runs.
//!
//! Split mode: `serve inventory` needs `EMPORIUM_PRODUCTS_URL` (it has no products of
//! its own to check) and `serve products` needs `EMPORIUM_INVENTORY_URL` (a product
//! must not be deleted while stock of it is reserved, and only inventory knows).
//! `serve users` runs accounts on its own. Every split-mode service needs the shared
//! `EMPORIUM_API_KEY` and the shared `EMPORIUM_JWT_SECRET`: the users service signs
//! tokens and each service checks bearer tokens itself, so a service with a secret
//! of its own would refuse every token. In embedded mode (`serve`, `serve all`)
//! without them, an API key and a signing secret are generated at first start and
//! kept in `<data dir>/api-key` and `<data dir>/jwt-secret` (mode 0600).

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::error::ContextKind;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use emporium_domain::orders::Currency;

/// The default listening address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// The default data directory.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// The MongoDB database used when neither the URL nor `EMPORIUM_MONGO_DATABASE`
/// names one.
pub const DEFAULT_MONGO_DATABASE: &str = "emporium";
/// The file (in the data directory) holding a generated API key.
pub const API_KEY_FILE: &str = "api-key";
/// The shortest API key accepted.
pub const MIN_API_KEY_LEN: usize = 16;
/// The file (in the data directory) holding a generated token signing secret.
pub const JWT_SECRET_FILE: &str = "jwt-secret";
/// The shortest token signing secret accepted, in bytes.
pub const MIN_JWT_SECRET_LEN: usize = emporium_adapters::security::MIN_SECRET_BYTES;
/// The default limit of auth attempts per minute per client address.
pub const DEFAULT_AUTH_RATE_PER_MINUTE: u32 = 10;
/// The default access token lifetime, seconds.
pub const DEFAULT_ACCESS_TOKEN_TTL: u64 = 900;
/// The default refresh token lifetime, seconds.
pub const DEFAULT_REFRESH_TOKEN_TTL: u64 = 2_592_000;
/// The longest token lifetime accepted: ten years.
pub const MAX_TTL: u64 = 10 * 366 * 24 * 60 * 60;
/// The default cap on open client connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// The default idle keep-alive timeout, seconds.
pub const DEFAULT_IDLE_TIMEOUT: u64 = 60;
/// Seconds a pending order waits for payment (30 minutes).
pub const DEFAULT_ORDER_PAYMENT_TIMEOUT: u64 = 30 * 60;
/// Unpaid orders one customer may hold at once.
pub const DEFAULT_MAX_PENDING_ORDERS: u32 = 3;
/// Seconds before an abandoned order attempt's stock is released.
pub const DEFAULT_ORDER_ATTEMPT_TIMEOUT: u64 = 60;
/// Seconds sent outbox rows and processed-event records are kept (7 days).
pub const DEFAULT_EVENT_RETENTION: u64 = 7 * 24 * 60 * 60;
/// The prefix of every key Emporium keeps in Redis.
pub const DEFAULT_REDIS_PREFIX: &str = "emporium:";
/// Failures of one consumer on one event before it goes to the dead letters.
pub const DEFAULT_BUS_MAX_FAILURES: u32 = 10;
/// The sender of every mail unless `EMPORIUM_MAIL_FROM` says otherwise.
pub const DEFAULT_MAIL_FROM: &str = "Emporium <shop@emporium.localhost>";
/// Seconds before the second and third attempt at a notification.
pub const DEFAULT_MAIL_RETRY_DELAYS: [u64; 2] = [30, 300];
/// Seconds sent and failed notifications are kept (30 days).
pub const DEFAULT_NOTIFICATION_RETENTION: u64 = 30 * 24 * 60 * 60;
/// Failed webhook deliveries in a row that disable a subscription.
pub const DEFAULT_WEBHOOK_MAX_FAILURES: u32 = 20;
/// Seconds finished webhook deliveries are kept (30 days).
pub const DEFAULT_WEBHOOK_RETENTION: u64 = 30 * 24 * 60 * 60;

/// Which services one process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ServiceSet {
    /// Products, categories, inventory and accounts in one process (the embedded
    /// default).
    #[default]
    All,
    /// Products and categories.
    Products,
    /// Inventory.
    Inventory,
    /// Accounts: registration, sessions and users (the only service that issues
    /// tokens; every service checks them).
    Users,
    /// The purchase flow: carts, orders, payments and shipments (asks products for
    /// names and prices and inventory for reservations over HTTP).
    Orders,
    /// Notifications: order emails, their records and retries (consumes the order
    /// events from Redis Streams).
    Notifications,
}

impl ServiceSet {
    /// Whether the catalog (products, categories) runs here.
    pub fn has_catalog(self) -> bool {
        matches!(self, Self::All | Self::Products)
    }

    /// Whether the purchase flow (carts, orders, payments, shipments) runs here.
    pub fn has_orders(self) -> bool {
        matches!(self, Self::All | Self::Orders)
    }

    /// Whether inventory runs here.
    pub fn has_inventory(self) -> bool {
        matches!(self, Self::All | Self::Inventory)
    }

    /// Whether notifications (order emails and their records) run here.
    pub fn has_notifications(self) -> bool {
        matches!(self, Self::All | Self::Notifications)
    }

    /// Whether accounts (registration, sessions, users) run here.
    pub fn has_accounts(self) -> bool {
        matches!(self, Self::All | Self::Users)
    }

    /// Whether this is one service of a split deployment (not the all-in-one server).
    pub fn is_split(self) -> bool {
        self != Self::All
    }

    /// Its name on the command line (`serve users`) and in `/health`.
    pub fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Products => "products",
            Self::Inventory => "inventory",
            Self::Users => "users",
            Self::Orders => "orders",
            Self::Notifications => "notifications",
        }
    }
}

impl fmt::Display for ServiceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "emporium", version, about = "Emporium shop backend")]
pub struct Cli {
    /// Settings (flags or `EMPORIUM_*` variables).
    #[command(flatten)]
    pub settings: Settings,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses the process's arguments and environment, an empty `EMPORIUM_*` variable
    /// counting as unset. On a wrong value, prints clap's message (naming the flag)
    /// and the variable that may have set it, and exits with status 2.
    pub fn from_env() -> Self {
        let command = Self::command().mut_args(|arg| {
            let empty = arg
                .get_env()
                .is_some_and(|name| std::env::var_os(name).is_some_and(|value| value.is_empty()));
            if empty { arg.env(None) } else { arg }
        });
        let parsed = command
            .try_get_matches()
            .and_then(|matches| Self::from_arg_matches(&matches));
        match parsed {
            Ok(cli) => cli,
            Err(error) => {
                let variable = setting_of(&error);
                let _ = error.print();
                if let Some(variable) = variable.filter(|_| error.use_stderr()) {
                    eprintln!("(that setting is {variable} in the environment)");
                }
                std::process::exit(error.exit_code());
            }
        }
    }
}

/// The environment variable of the setting a clap error is about, if any.
pub fn setting_of(error: &clap::Error) -> Option<String> {
    let shown = match error.get(ContextKind::InvalidArg)? {
        clap::error::ContextValue::String(arg) => arg.clone(),
        clap::error::ContextValue::Strings(args) => args.first()?.clone(),
        _ => return None,
    };
    let flag = shown
        .split_whitespace()
        .next()?
        .trim_start_matches("--")
        .to_owned();
    Cli::command()
        .get_arguments()
        .find(|arg| arg.get_long() == Some(flag.as_str()))
        .and_then(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the HTTP server (migrations run first).
    Serve {
        /// Which services to run.
        #[arg(value_enum, default_value_t = ServiceSet::All)]
        services: ServiceSet,
    },
    /// Applies database migrations and exits.
    Migrate {
        /// Which services' storage to migrate.
        #[arg(value_enum, default_value_t = ServiceSet::All)]
        services: ServiceSet,
    },
    /// User accounts.
    Users {
        /// What to do.
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Copies the embedded SQLite database to FILE while the server runs (a
    /// consistent snapshot, safe beside live traffic).
    Backup {
        /// Where the copy goes (a new file).
        file: PathBuf,
    },
    /// Puts the SQLite backup FILE in place of the embedded database. The server
    /// must be stopped; the replaced files are kept beside it.
    Restore {
        /// The backup to put back.
        file: PathBuf,
    },
    /// The event bus of the split deployment (Redis Streams, `EMPORIUM_BUS_REDIS_URL`).
    Events {
        /// What to do.
        #[command(subcommand)]
        command: EventsCommand,
    },
}

/// `emporium events …`.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Lists the dead letters: events a consumer group failed on too often.
    Dead {
        /// The most to list, oldest first.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// Publishes a dead letter's event again (every group receives it; those that
    /// applied it already recognise it) and removes it from the dead letters.
    Replay {
        /// The dead letter's id, as `events dead` shows it.
        id: String,
    },
}

/// `emporium users …`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Creates an administrator; the password is typed at a prompt (twice, not
    /// echoed) or, when stdin is not a terminal, read as one line from stdin.
    CreateAdmin {
        /// Sign-in address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = DEFAULT_ADMIN_NAME)]
        name: String,
    },
}

/// The display name of an administrator created without one.
pub const DEFAULT_ADMIN_NAME: &str = "Administrator";

/// The settings as given (flags, else variables, else defaults), each value already
/// checked by its parser; [`Config::from_settings`] derives the rest.
#[derive(Args, Clone)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "EMPORIUM_ADDR", global = true, default_value = DEFAULT_ADDR)]
    pub addr: Option<SocketAddr>,
    /// Directory for the embedded database and the generated API key and token secret.
    #[arg(long, env = "EMPORIUM_DATA_DIR", global = true, default_value = DEFAULT_DATA_DIR)]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…` [default: sqlite://<data dir>/emporium.db].
    #[arg(long, env = "EMPORIUM_DATABASE_URL", global = true, hide_env_values = true, value_parser = database_url)]
    pub database_url: Option<String>,
    /// MongoDB URL; inventory is stored there when set (unset: in the SQL database).
    #[arg(long, env = "EMPORIUM_MONGO_URL", global = true, hide_env_values = true, value_parser = mongo_url)]
    pub mongo_url: Option<String>,
    /// MongoDB database name [default: the database of EMPORIUM_MONGO_URL, else emporium].
    #[arg(long, env = "EMPORIUM_MONGO_DATABASE", global = true, value_parser = mongo_database)]
    pub mongo_database: Option<String>,
    /// Redis URL; the product cache and the carts live there when set (unset: in
    /// process and in the SQL database).
    #[arg(long, env = "EMPORIUM_REDIS_URL", global = true, hide_env_values = true, value_parser = redis_url)]
    pub redis_url: Option<String>,
    /// Redis URL for the carts, which must never be evicted [default: EMPORIUM_REDIS_URL].
    #[arg(long, env = "EMPORIUM_CART_REDIS_URL", global = true, hide_env_values = true, value_parser = redis_url)]
    pub cart_redis_url: Option<String>,
    /// Redis URL for the event bus (Redis Streams), which must never be evicted
    /// [default: EMPORIUM_REDIS_URL; unset: events stay in process].
    #[arg(long, env = "EMPORIUM_BUS_REDIS_URL", global = true, hide_env_values = true, value_parser = redis_url)]
    pub bus_redis_url: Option<String>,
    /// The prefix of every key in Redis (cache, carts, event streams); deployments
    /// sharing one Redis need different prefixes.
    #[arg(long, env = "EMPORIUM_REDIS_PREFIX", global = true, default_value = DEFAULT_REDIS_PREFIX, value_parser = redis_prefix)]
    pub redis_prefix: Option<String>,
    /// Failures of a consumer group on one event (other than a dependency that is
    /// down) before the event goes to the dead letters.
    #[arg(long, env = "EMPORIUM_BUS_MAX_FAILURES", global = true, default_value_t = DEFAULT_BUS_MAX_FAILURES, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub bus_max_failures: u32,
    /// The shop currency, an ISO 4217 code. Recorded in the database at first start;
    /// a different value later is refused rather than re-labelling every price.
    #[arg(long, env = "EMPORIUM_CURRENCY", global = true, default_value = "EUR", value_parser = currency)]
    pub currency: Option<Currency>,
    /// The service API key, at least 16 visible ASCII characters [default: generated
    /// into <data dir>/api-key by the all-in-one server].
    #[arg(long, env = "EMPORIUM_API_KEY", global = true, hide_env_values = true, value_parser = api_key)]
    pub api_key: Option<String>,
    /// Proxies (addresses or networks, comma-separated, e.g. the gateway's
    /// `10.0.0.0/8`) whose `X-Forwarded-For` names the client for the rate limits
    /// [default: none: the connection's peer is the client].
    #[arg(long, env = "EMPORIUM_TRUSTED_PROXIES", global = true, value_delimiter = ',', value_parser = crate::http::middleware::client_address::parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// More API keys accepted from callers besides EMPORIUM_API_KEY, comma-separated
    /// (to rotate the key without downtime) [default: none].
    #[arg(long, env = "EMPORIUM_API_KEYS", global = true, hide_env_values = true, value_delimiter = ',', value_parser = api_key)]
    pub api_keys: Vec<String>,
    /// Base URL of a remote products service (inventory asks it about products).
    #[arg(long, env = "EMPORIUM_PRODUCTS_URL", global = true, value_parser = service_url)]
    pub products_url: Option<String>,
    /// Base URL of a remote inventory service (asked before a product is deleted).
    #[arg(long, env = "EMPORIUM_INVENTORY_URL", global = true, value_parser = service_url)]
    pub inventory_url: Option<String>,
    /// The HS256 secret signing access and refresh tokens, at least 32 bytes
    /// [default: generated into <data dir>/jwt-secret by the all-in-one server].
    #[arg(long, env = "EMPORIUM_JWT_SECRET", global = true, hide_env_values = true, value_parser = jwt_secret)]
    pub jwt_secret: Option<String>,
    /// Access token lifetime in seconds.
    #[arg(long, env = "EMPORIUM_ACCESS_TOKEN_TTL", global = true, default_value_t = DEFAULT_ACCESS_TOKEN_TTL, value_parser = clap::value_parser!(u64).range(1..=MAX_TTL))]
    pub access_token_ttl: u64,
    /// Refresh token lifetime in seconds.
    #[arg(long, env = "EMPORIUM_REFRESH_TOKEN_TTL", global = true, default_value_t = DEFAULT_REFRESH_TOKEN_TTL, value_parser = clap::value_parser!(u64).range(1..=MAX_TTL))]
    pub refresh_token_ttl: u64,
    /// Attempts per minute per client address at register, log-in, refresh and log-out.
    #[arg(long, env = "EMPORIUM_AUTH_RATE_PER_MINUTE", global = true, default_value_t = DEFAULT_AUTH_RATE_PER_MINUTE, value_parser = clap::value_parser!(u32).range(1..))]
    pub auth_rate_per_minute: u32,
    /// An administrator to create at start-up unless an account has this address.
    #[arg(
        long,
        env = "EMPORIUM_ADMIN_EMAIL",
        global = true,
        requires = "admin_password"
    )]
    pub admin_email: Option<String>,
    /// That administrator's password.
    #[arg(
        long,
        env = "EMPORIUM_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true,
        requires = "admin_email"
    )]
    pub admin_password: Option<String>,
    /// Origins whose browsers may call the API (CORS), comma-separated, e.g.
    /// `https://shop.example` [default: none].
    #[arg(long, env = "EMPORIUM_CORS_ORIGINS", global = true, value_delimiter = ',', value_parser = origin)]
    pub cors_origins: Vec<String>,
    /// The most client connections served at once; more wait to be accepted.
    #[arg(long, env = "EMPORIUM_MAX_CONNECTIONS", global = true, default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections: usize,
    /// Seconds an idle client connection is kept open.
    #[arg(long, env = "EMPORIUM_IDLE_TIMEOUT", global = true, default_value_t = DEFAULT_IDLE_TIMEOUT, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout: u64,
    /// Seconds a pending order waits for payment before it is cancelled (its stock
    /// released).
    #[arg(long, env = "EMPORIUM_ORDER_PAYMENT_TIMEOUT", global = true, default_value_t = DEFAULT_ORDER_PAYMENT_TIMEOUT, value_parser = clap::value_parser!(u64).range(1..=MAX_TTL))]
    pub order_payment_timeout: u64,
    /// The most unpaid orders one customer may hold at once.
    #[arg(long, env = "EMPORIUM_MAX_PENDING_ORDERS", global = true, default_value_t = DEFAULT_MAX_PENDING_ORDERS, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_pending_orders: u32,
    /// Seconds sent outbox rows and processed-event records are kept.
    #[arg(long, env = "EMPORIUM_EVENT_RETENTION", global = true, default_value_t = DEFAULT_EVENT_RETENTION, value_parser = clap::value_parser!(u64).range(60..=MAX_TTL))]
    pub event_retention: u64,
    /// Seconds after which an order attempt that never got its order (a crash, or a
    /// failure after the stock was reserved) has its stock released.
    #[arg(long, env = "EMPORIUM_ORDER_ATTEMPT_TIMEOUT", global = true, default_value_t = DEFAULT_ORDER_ATTEMPT_TIMEOUT, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub order_attempt_timeout: u64,
    /// The payment provider: `mock` (takes no money; its payments are settled by
    /// `POST /v1/payments/{id}/succeed|fail`) [default: mock on the embedded SQLite
    /// database; required on PostgreSQL].
    #[arg(long, env = "EMPORIUM_PAYMENT_PROVIDER", global = true, value_enum)]
    pub payment_provider: Option<PaymentProviderKind>,
    /// The SMTP server for mail: `smtp://host:587?tls=required` (STARTTLS),
    /// `smtps://host:465` (TLS), `smtp://host:25` (plain; a local relay or sink);
    /// `smtp://user:password@host…` to log in [default: none: mail is written to
    /// <data dir>/mail/ and logged].
    #[arg(long, env = "EMPORIUM_SMTP_URL", global = true, hide_env_values = true, value_parser = smtp_url)]
    pub smtp_url: Option<String>,
    /// The sender of every mail, `address` or `Name <address>`; its domain is also
    /// the domain of every `Message-ID`.
    #[arg(long, env = "EMPORIUM_MAIL_FROM", global = true, default_value = DEFAULT_MAIL_FROM, value_parser = mail_from)]
    pub mail_from: Option<String>,
    /// Seconds before each retry of a notification that could not be sent,
    /// comma-separated (three attempts in all; the last delay repeats)
    /// [default: 30,300].
    #[arg(long, env = "EMPORIUM_MAIL_RETRY_DELAYS", global = true, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub mail_retry_delays: Vec<u64>,
    /// Seconds sent and failed notifications are kept.
    #[arg(long, env = "EMPORIUM_NOTIFICATION_RETENTION", global = true, default_value_t = DEFAULT_NOTIFICATION_RETENTION, value_parser = clap::value_parser!(u64).range(60..=MAX_TTL))]
    pub notification_retention: u64,
    /// Serves `/metrics` on this address instead of the main one (keeps it off the
    /// public port) [default: unset: on the main listener].
    #[arg(long, env = "EMPORIUM_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,
    /// Lets webhooks target private, loopback and link-local addresses (for tests
    /// and closed networks only: it opens the server to SSRF).
    #[arg(long, env = "EMPORIUM_WEBHOOK_ALLOW_PRIVATE", global = true, default_value_t = false, action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_private: bool,
    /// Seconds before each retry of a webhook delivery, comma-separated (attempts
    /// in all: one more than the delays) [default: 5,300,1800,7200,18000,36000,36000,
    /// the Standard Webhooks schedule].
    #[arg(long, env = "EMPORIUM_WEBHOOK_RETRY_DELAYS", global = true, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub webhook_retry_delays: Vec<u64>,
    /// Failed deliveries in a row that disable a webhook subscription.
    #[arg(long, env = "EMPORIUM_WEBHOOK_MAX_FAILURES", global = true, default_value_t = DEFAULT_WEBHOOK_MAX_FAILURES, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub webhook_max_failures: u32,
    /// Seconds finished webhook deliveries (and their logs) are kept.
    #[arg(long, env = "EMPORIUM_WEBHOOK_RETENTION", global = true, default_value_t = DEFAULT_WEBHOOK_RETENTION, value_parser = clap::value_parser!(u64).range(60..=MAX_TTL))]
    pub webhook_retention: u64,
    /// The key the payment provider's and the carrier's callbacks send in
    /// `X-Callback-Key` (at least 16 visible ASCII characters; not the service API key)
    /// [default: none: callbacks are refused].
    #[arg(long, env = "EMPORIUM_CALLBACK_KEY", global = true, hide_env_values = true, value_parser = callback_key)]
    pub callback_key: Option<String>,
}

/// The payment providers Emporium can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PaymentProviderKind {
    /// Takes no money; for development, tests and demos.
    Mock,
}

impl Default for Settings {
    /// The defaults `--help` shows, with nothing read from the environment.
    fn default() -> Self {
        Self {
            addr: None,
            data_dir: None,
            database_url: None,
            mongo_url: None,
            mongo_database: None,
            redis_url: None,
            cart_redis_url: None,
            bus_redis_url: None,
            redis_prefix: None,
            bus_max_failures: DEFAULT_BUS_MAX_FAILURES,
            currency: None,
            api_key: None,
            api_keys: Vec::new(),
            trusted_proxies: Vec::new(),
            products_url: None,
            inventory_url: None,
            jwt_secret: None,
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
            refresh_token_ttl: DEFAULT_REFRESH_TOKEN_TTL,
            auth_rate_per_minute: DEFAULT_AUTH_RATE_PER_MINUTE,
            admin_email: None,
            admin_password: None,
            cors_origins: Vec::new(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            order_payment_timeout: DEFAULT_ORDER_PAYMENT_TIMEOUT,
            max_pending_orders: DEFAULT_MAX_PENDING_ORDERS,
            event_retention: DEFAULT_EVENT_RETENTION,
            order_attempt_timeout: DEFAULT_ORDER_ATTEMPT_TIMEOUT,
            payment_provider: None,
            callback_key: None,
            smtp_url: None,
            mail_from: None,
            mail_retry_delays: Vec::new(),
            notification_retention: DEFAULT_NOTIFICATION_RETENTION,
            metrics_addr: None,
            webhook_allow_private: false,
            webhook_retry_delays: Vec::new(),
            webhook_max_failures: DEFAULT_WEBHOOK_MAX_FAILURES,
            webhook_retention: DEFAULT_WEBHOOK_RETENTION,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings").finish_non_exhaustive()
    }
}

/// A setting that stops start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} ({flag}): {message}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// The matching flag.
    pub flag: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, flag: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            flag,
            message: message.into(),
        }
    }
}

/// The validated configuration of one process.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on (`serve`; [`crate::server::spawn`] takes its own).
    pub addr: SocketAddr,
    /// Directory for the embedded database and the generated API key.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Inventory on MongoDB when set.
    pub mongo_url: Option<String>,
    /// MongoDB database name.
    pub mongo_database: String,
    /// The product cache on Redis when set; in process otherwise.
    pub redis_url: Option<String>,
    /// Carts on Redis when set (defaults to `redis_url`); in the SQL database otherwise.
    pub cart_redis_url: Option<String>,
    /// The event bus on Redis Streams when set (defaults to `redis_url`); in process
    /// otherwise.
    pub bus_redis_url: Option<String>,
    /// The prefix of every Redis key.
    pub redis_prefix: String,
    /// Failures of a consumer on one event before it is dead-lettered.
    pub bus_max_failures: u32,
    /// The shop currency.
    pub currency: Currency,
    /// The service API key. `None` in embedded mode means "generate one in the data
    /// directory at start".
    pub api_key: Option<String>,
    /// Keys accepted from callers besides `api_key` (a rotation in progress).
    pub api_keys: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Remote products service for inventory's product checks.
    pub products_url: Option<String>,
    /// Remote inventory service for the catalog's delete check.
    pub inventory_url: Option<String>,
    /// The token signing secret. `None` in embedded mode means "generate one in the
    /// data directory at start".
    pub jwt_secret: Option<String>,
    /// Access token lifetime, seconds (1 to [`MAX_TTL`]).
    pub access_token_ttl: u64,
    /// Refresh token lifetime, seconds (1 to [`MAX_TTL`]).
    pub refresh_token_ttl: u64,
    /// Auth attempts per minute per client address.
    pub auth_rate_per_minute: NonZeroU32,
    /// The administrator to create at start-up when no account has its address:
    /// `(email, password)`.
    pub bootstrap_admin: Option<(String, String)>,
    /// Origins whose browsers may call the API.
    pub cors_origins: Vec<String>,
    /// The most client connections served at once.
    pub max_connections: usize,
    /// Seconds an idle client connection is kept open.
    pub idle_timeout: u64,
    /// Seconds a pending order waits for payment.
    pub order_payment_timeout: u64,
    /// The most unpaid orders one customer may hold.
    pub max_pending_orders: u32,
    /// Seconds sent outbox rows and processed-event records are kept.
    pub event_retention: u64,
    /// Seconds before an abandoned order attempt's stock is released.
    pub order_attempt_timeout: u64,
    /// The payment provider (`None`: none configured, so no payments).
    pub payment_provider: Option<PaymentProviderKind>,
    /// The key of the provider's and carrier's callbacks.
    pub callback_key: Option<String>,
    /// The SMTP server (`None`: the local mailbox under the data directory).
    pub smtp_url: Option<String>,
    /// The sender of every mail.
    pub mail_from: String,
    /// Seconds before each retry of a notification.
    pub mail_retry_delays: Vec<u64>,
    /// Seconds sent and failed notifications are kept.
    pub notification_retention: u64,
    /// Where `/metrics` is served instead of the main listener.
    pub metrics_addr: Option<SocketAddr>,
    /// Whether webhooks may target private addresses.
    pub webhook_allow_private: bool,
    /// Seconds before each retry of a webhook delivery (empty: the default schedule).
    pub webhook_retry_delays: Vec<u64>,
    /// Failed deliveries in a row that disable a subscription.
    pub webhook_max_failures: u32,
    /// Seconds finished webhook deliveries are kept.
    pub webhook_retention: u64,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("mongo_url", &self.mongo_url.as_deref().map(redact_url))
            .field("mongo_database", &self.mongo_database)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field(
                "cart_redis_url",
                &self.cart_redis_url.as_deref().map(redact_url),
            )
            .field(
                "bus_redis_url",
                &self.bus_redis_url.as_deref().map(redact_url),
            )
            .field("redis_prefix", &self.redis_prefix)
            .field("bus_max_failures", &self.bus_max_failures)
            .field("currency", &self.currency)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_keys", &self.api_keys.len())
            .field("trusted_proxies", &self.trusted_proxies)
            .field("products_url", &self.products_url)
            .field("inventory_url", &self.inventory_url)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("auth_rate_per_minute", &self.auth_rate_per_minute)
            .field(
                "bootstrap_admin",
                &self.bootstrap_admin.as_ref().map(|(email, _)| email),
            )
            .field("cors_origins", &self.cors_origins)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("order_payment_timeout", &self.order_payment_timeout)
            .field("max_pending_orders", &self.max_pending_orders)
            .field("event_retention", &self.event_retention)
            .field("order_attempt_timeout", &self.order_attempt_timeout)
            .field("payment_provider", &self.payment_provider)
            .field(
                "callback_key",
                &self.callback_key.as_ref().map(|_| "<redacted>"),
            )
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("mail_retry_delays", &self.mail_retry_delays)
            .field("notification_retention", &self.notification_retention)
            .field("metrics_addr", &self.metrics_addr)
            .field("webhook_allow_private", &self.webhook_allow_private)
            .field("webhook_retry_delays", &self.webhook_retry_delays)
            .field("webhook_max_failures", &self.webhook_max_failures)
            .field("webhook_retention", &self.webhook_retention)
            .finish()
    }
}

/// `url` without the password of its user info, for logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

impl Config {
    /// The embedded configuration on `data_dir`: SQLite file, in-process cache and
    /// lookups, and a freshly generated API key in [`Config::api_key`] (tests read it
    /// from there).
    pub fn embedded(data_dir: PathBuf) -> Config {
        Config {
            jwt_secret: Some(emporium_adapters::security::generate_secret()),
            api_key: Some(generate_api_key()),
            ..Config::from_settings(Settings {
                data_dir: Some(data_dir),
                ..Settings::default()
            })
        }
    }

    /// The configuration `settings` describe, defaults filled in. (Each value was
    /// checked by its parser; see [`Config::check`] for what a service set needs.)
    pub fn from_settings(settings: Settings) -> Config {
        let data_dir = settings
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let embedded_database = database_url_is_sqlite(settings.database_url.as_deref());
        let mongo_database = settings
            .mongo_database
            .or_else(|| settings.mongo_url.as_deref().and_then(mongo_url_database))
            .unwrap_or_else(|| DEFAULT_MONGO_DATABASE.to_owned());
        Config {
            addr: settings
                .addr
                .unwrap_or_else(|| DEFAULT_ADDR.parse().expect("the default address is valid")),
            database_url: settings
                .database_url
                .unwrap_or_else(|| sqlite_url(&data_dir)),
            data_dir,
            mongo_url: settings.mongo_url,
            mongo_database,
            cart_redis_url: settings
                .cart_redis_url
                .or_else(|| settings.redis_url.clone()),
            bus_redis_url: settings
                .bus_redis_url
                .or_else(|| settings.redis_url.clone()),
            redis_url: settings.redis_url,
            redis_prefix: settings
                .redis_prefix
                .unwrap_or_else(|| DEFAULT_REDIS_PREFIX.to_owned()),
            bus_max_failures: settings.bus_max_failures.max(1),
            currency: settings.currency.unwrap_or_default(),
            api_key: settings.api_key,
            api_keys: settings.api_keys,
            trusted_proxies: settings.trusted_proxies,
            products_url: settings.products_url,
            inventory_url: settings.inventory_url,
            jwt_secret: settings.jwt_secret,
            access_token_ttl: settings.access_token_ttl.clamp(1, MAX_TTL),
            refresh_token_ttl: settings.refresh_token_ttl.clamp(1, MAX_TTL),
            auth_rate_per_minute: NonZeroU32::new(settings.auth_rate_per_minute)
                .unwrap_or(NonZeroU32::MIN),
            bootstrap_admin: settings.admin_email.zip(settings.admin_password),
            cors_origins: settings.cors_origins,
            max_connections: settings.max_connections.max(1),
            idle_timeout: settings.idle_timeout.max(1),
            order_payment_timeout: settings.order_payment_timeout.clamp(1, MAX_TTL),
            max_pending_orders: settings.max_pending_orders.max(1),
            event_retention: settings.event_retention.clamp(60, MAX_TTL),
            // The embedded database is for development: the mock provider by default.
            order_attempt_timeout: settings.order_attempt_timeout.clamp(1, 86_400),
            payment_provider: settings
                .payment_provider
                .or(embedded_database.then_some(PaymentProviderKind::Mock)),
            callback_key: settings.callback_key,
            smtp_url: settings.smtp_url,
            mail_from: settings
                .mail_from
                .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned()),
            mail_retry_delays: if settings.mail_retry_delays.is_empty() {
                DEFAULT_MAIL_RETRY_DELAYS.to_vec()
            } else {
                settings.mail_retry_delays
            },
            notification_retention: settings.notification_retention.clamp(60, MAX_TTL),
            metrics_addr: settings.metrics_addr,
            webhook_allow_private: settings.webhook_allow_private,
            webhook_retry_delays: settings.webhook_retry_delays,
            webhook_max_failures: settings.webhook_max_failures.max(1),
            webhook_retention: settings.webhook_retention.clamp(60, MAX_TTL),
        }
    }

    /// Checks that this configuration can run `services`.
    pub fn check(&self, services: ServiceSet) -> Result<(), ConfigError> {
        if services.has_orders() && self.payment_provider.is_none() {
            return Err(ConfigError::new(
                "EMPORIUM_PAYMENT_PROVIDER",
                "--payment-provider",
                "a server that takes orders on PostgreSQL needs a payment provider; set it \
                 explicitly (`mock` takes no money and lets customers mark orders paid: never \
                 use it in a real shop)",
            ));
        }
        if services == ServiceSet::Inventory && self.products_url.is_none() {
            return Err(ConfigError::new(
                "EMPORIUM_PRODUCTS_URL",
                "--products-url",
                "`serve inventory` runs without a products database, so it must ask a products \
                 service whether products exist: set the products service's base URL",
            ));
        }
        if services == ServiceSet::Orders && self.products_url.is_none() {
            return Err(ConfigError::new(
                "EMPORIUM_PRODUCTS_URL",
                "--products-url",
                "`serve orders` asks the products service for names and prices: set the products \
                 service's base URL",
            ));
        }
        if services == ServiceSet::Orders && self.inventory_url.is_none() {
            return Err(ConfigError::new(
                "EMPORIUM_INVENTORY_URL",
                "--inventory-url",
                "`serve orders` reserves stock in the inventory service: set the inventory \
                 service's base URL",
            ));
        }
        if services == ServiceSet::Notifications && self.bus_redis_url.is_none() {
            return Err(ConfigError::new(
                "EMPORIUM_BUS_REDIS_URL",
                "--bus-redis-url",
                "`serve notifications` consumes the order events from Redis Streams: set the \
                 Redis URL of the event bus (or EMPORIUM_REDIS_URL)",
            ));
        }
        if services == ServiceSet::Products && self.inventory_url.is_none() {
            return Err(ConfigError::new(
                "EMPORIUM_INVENTORY_URL",
                "--inventory-url",
                "`serve products` must ask the inventory service about reserved stock before a \
                 product is deleted: set the inventory service's base URL",
            ));
        }
        let remote = match (&self.products_url, &self.inventory_url) {
            (Some(_), _) => Some("EMPORIUM_PRODUCTS_URL"),
            (None, Some(_)) => Some("EMPORIUM_INVENTORY_URL"),
            (None, None) => None,
        };
        if let (Some(remote), None) = (remote, &self.api_key) {
            return Err(ConfigError::new(
                "EMPORIUM_API_KEY",
                "--api-key",
                format!(
                    "{remote} is set, so services call each other: give every service the same \
                     API key"
                ),
            ));
        }
        if services.is_split() && self.api_key.is_none() {
            return Err(ConfigError::new(
                "EMPORIUM_API_KEY",
                "--api-key",
                format!("`serve {services}` is a split-mode service: set the shared API key"),
            ));
        }
        if services.is_split() && self.jwt_secret.is_none() {
            return Err(ConfigError::new(
                "EMPORIUM_JWT_SECRET",
                "--jwt-secret",
                format!(
                    "`serve {services}` is a split-mode service: the users service signs tokens \
                     and every service checks them itself, so all must share one signing secret"
                ),
            ));
        }
        Ok(())
    }

    /// Fills [`Config::api_key`] when unset (embedded mode): reads
    /// `<data dir>/api-key`, or generates a key and writes it there with mode 0600.
    /// Returns the file when it was used. The key itself is never logged.
    pub fn ensure_api_key(&mut self) -> anyhow::Result<Option<PathBuf>> {
        if self.api_key.is_some() {
            return Ok(None);
        }
        let path = self.data_dir.join(API_KEY_FILE);
        let key = load_or_create_private(
            &path,
            "API key",
            |key| api_key(key).is_ok(),
            generate_api_key,
        )?;
        self.api_key = Some(key);
        Ok(Some(path))
    }

    /// Fills [`Config::jwt_secret`] when unset (embedded mode): reads
    /// `<data dir>/jwt-secret`, or generates a secret and writes it there with mode
    /// 0600. Returns the file when it was used. The secret is never logged.
    pub fn ensure_jwt_secret(&mut self) -> anyhow::Result<Option<PathBuf>> {
        if self.jwt_secret.is_some() {
            return Ok(None);
        }
        let path = self.data_dir.join(JWT_SECRET_FILE);
        let secret = load_or_create_private(
            &path,
            "token secret",
            |secret| jwt_secret(secret).is_ok(),
            emporium_adapters::security::generate_secret,
        )?;
        self.jwt_secret = Some(secret);
        Ok(Some(path))
    }
}

fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("emporium.db").display())
}

// ---- value parsers: each checks one setting's form ----

/// `url` when it starts with one of `schemes`.
fn with_scheme(url: &str, schemes: &[&str], expected: &str) -> Result<String, String> {
    let lower = url.trim().to_ascii_lowercase();
    if schemes.iter().any(|scheme| lower.starts_with(scheme)) {
        Ok(url.trim().to_owned())
    } else {
        let scheme = url.split_once(':').map_or("none", |(scheme, _)| scheme);
        Err(format!("expected {expected}; the URL scheme is {scheme:?}"))
    }
}

fn smtp_url(url: &str) -> Result<String, String> {
    with_scheme(
        url,
        &["smtp://", "smtps://"],
        "smtp://host:port (plain, or ?tls=required for STARTTLS) or smtps://host:port",
    )
}

fn mail_from(from: &str) -> Result<String, String> {
    emporium_adapters::mail::Sender::parse(from)
        .map(|_| from.trim().to_owned())
        .map_err(|error| format!("{error:#}; expected shop@example.com or Shop <shop@example.com>"))
}

fn database_url(url: &str) -> Result<String, String> {
    with_scheme(
        url,
        &["sqlite:", "postgres://", "postgresql://"],
        "a sqlite://… or postgres://… URL",
    )
}

fn mongo_url(url: &str) -> Result<String, String> {
    with_scheme(
        url,
        &["mongodb://", "mongodb+srv://"],
        "a mongodb:// or mongodb+srv:// URL",
    )
}

/// A Redis key prefix: 1 to 64 visible ASCII characters.
fn redis_prefix(prefix: &str) -> Result<String, String> {
    if prefix.is_empty() || prefix.len() > 64 || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "a key prefix of 1 to 64 visible ASCII characters, e.g. `emporium:`".to_owned(),
        );
    }
    Ok(prefix.to_owned())
}

fn redis_url(url: &str) -> Result<String, String> {
    with_scheme(
        url,
        &["redis://", "rediss://", "redis+unix://", "unix://"],
        "a redis:// or rediss:// URL",
    )
}

/// An ISO 4217 currency code such as `EUR`.
fn currency(code: &str) -> Result<Currency, String> {
    Currency::new(code).map_err(|error| error.to_string())
}

/// A MongoDB database name: 1-63 characters, none of `/\. "$*<>:|?` or NUL.
fn mongo_database(name: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && !name.contains([
            '/', '\\', '.', ' ', '"', '$', '*', '<', '>', ':', '|', '?', '\0',
        ]);
    if valid {
        Ok(name.to_owned())
    } else {
        Err(format!("{name:?} is not a valid MongoDB database name"))
    }
}

/// The database a MongoDB URL names in its path (`mongodb://host/shop?…` → `shop`).
fn mongo_url_database(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let (_, path) = rest.split_once('/')?;
    let name = path.split(['?', '#']).next()?;
    mongo_database(name).ok()
}

fn api_key(key: &str) -> Result<String, String> {
    if key.len() >= MIN_API_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(key.to_owned())
    } else {
        Err(format!(
            "the API key must be at least {MIN_API_KEY_LEN} visible ASCII characters without \
             spaces (it travels in the X-API-Key header)"
        ))
    }
}

fn callback_key(key: &str) -> Result<String, String> {
    api_key(key).map_err(|_| {
        format!(
            "the callback key must be at least {MIN_API_KEY_LEN} visible ASCII characters \
             without spaces (it travels in the X-Callback-Key header)"
        )
    })
}

/// Whether a database URL setting means the embedded SQLite database (unset too).
fn database_url_is_sqlite(url: Option<&str>) -> bool {
    url.is_none_or(|url| url.starts_with("sqlite:"))
}

fn jwt_secret(secret: &str) -> Result<String, String> {
    if secret.len() >= MIN_JWT_SECRET_LEN {
        Ok(secret.to_owned())
    } else {
        Err(format!(
            "the token signing secret must be at least {MIN_JWT_SECRET_LEN} bytes (use at \
             least 256 random bits)"
        ))
    }
}

/// A service base URL, `http(s)://host[:port][/path]`, without query or fragment; a
/// trailing `/` is dropped.
fn service_url(url: &str) -> Result<String, String> {
    let invalid = |why: &str| format!("{url:?} {why}");
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| invalid("must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(invalid("has no host"));
    }
    if url.contains(['?', '#']) || url.contains(char::is_whitespace) {
        return Err(invalid(
            "must be a base URL without query, fragment or spaces",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// A web origin: `http(s)://host[:port]`, nothing after.
fn origin(origin: &str) -> Result<String, String> {
    let origin = origin.trim();
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| format!("{origin:?} is not an origin such as https://shop.example"))?;
    let valid = !rest.is_empty()
        && !rest.starts_with(':')
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if valid {
        Ok(origin.to_owned())
    } else {
        Err(format!(
            "{origin:?} is not an origin such as https://shop.example (scheme, host and port only)"
        ))
    }
}

/// A new random API key: 244 bits from the operating system's generator.
pub fn generate_api_key() -> String {
    format!(
        "emp_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A private value kept in a file of the data directory (the generated API key, the
/// generated token secret): read from `path` when present, refused when `valid` says
/// it is not, and otherwise made with `generate` and written there with mode 0600.
/// `what` names it in errors.
fn load_or_create_private(
    path: &Path,
    what: &str,
    valid: fn(&str) -> bool,
    generate: fn() -> String,
) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let value = text.trim().to_owned();
            anyhow::ensure!(
                valid(&value),
                "the {what} file {} is not valid; delete it to generate a new one",
                path.display()
            );
            return Ok(value);
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error)
                .with_context(|| format!("reading the {what} file {}", path.display()));
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
    }
    let value = generate();
    write_private(path, &value)
        .with_context(|| format!("writing the {what} file {}", path.display()))?;
    Ok(value)
}

#[cfg(unix)]
fn write_private(path: &Path, key: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(key.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, key: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{key}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("emporium").chain(args.iter().copied()))
    }

    fn config(args: &[&str]) -> Config {
        Config::from_settings(parse(args).unwrap().settings)
    }

    /// The variable a refused setting names.
    fn refused(args: &[&str]) -> String {
        let error = parse(args).unwrap_err();
        setting_of(&error).unwrap_or_else(|| panic!("no setting in: {error}"))
    }

    #[test]
    fn defaults() {
        let config = Config::from_settings(Settings::default());
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.database_url, "sqlite://./data/emporium.db");
        assert_eq!(config.mongo_database, "emporium");
        assert!(config.api_key.is_none());
        assert!(config.check(ServiceSet::All).is_ok());
        assert_eq!(config.max_connections, 4096);
        assert!(config.cors_origins.is_empty());
        // clap's defaults are the same values.
        let parsed = Config::from_settings(parse(&[]).unwrap().settings);
        assert_eq!(parsed, config);
    }

    /// The embedded database takes the mock provider by default; a PostgreSQL server
    /// that takes orders must name its provider; the currency must be an ISO code.
    #[test]
    fn purchase_flow_settings() {
        let embedded = config(&[]);
        assert_eq!(embedded.payment_provider, Some(PaymentProviderKind::Mock));
        assert_eq!(embedded.currency.as_str(), "EUR");
        assert_eq!(embedded.order_payment_timeout, 1800);
        assert_eq!(embedded.max_pending_orders, 3);

        let postgres = config(&["--database-url", "postgres://db/shop"]);
        assert_eq!(postgres.payment_provider, None);
        let error = postgres.check(ServiceSet::All).unwrap_err();
        assert_eq!(error.variable, "EMPORIUM_PAYMENT_PROVIDER");
        let chosen = config(&[
            "--database-url",
            "postgres://db/shop",
            "--payment-provider",
            "mock",
        ]);
        assert!(chosen.check(ServiceSet::All).is_ok());

        assert_eq!(config(&["--currency", "GBP"]).currency.as_str(), "GBP");
        assert_eq!(refused(&["--currency", "eur"]), "EMPORIUM_CURRENCY");
        assert_eq!(
            refused(&["--payment-provider", "stripe"]),
            "EMPORIUM_PAYMENT_PROVIDER"
        );
        assert_eq!(
            refused(&["--callback-key", "short"]),
            "EMPORIUM_CALLBACK_KEY"
        );
        assert_eq!(
            refused(&["--max-pending-orders", "0"]),
            "EMPORIUM_MAX_PENDING_ORDERS"
        );
    }

    #[test]
    fn help_shows_the_defaults() {
        let help = Cli::command().render_long_help().to_string();
        for default in [
            "[default: 127.0.0.1:8080]",
            "[default: ./data]",
            "[default: 900]",
            "[default: 2592000]",
            "[default: 10]",
            "[default: 4096]",
            "[default: 60]",
        ] {
            assert!(help.contains(default), "no {default} in --help:\n{help}");
        }
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(refused(&["--addr", "localhost"]), "EMPORIUM_ADDR");
        assert_eq!(
            refused(&["--database-url", "mysql://x"]),
            "EMPORIUM_DATABASE_URL"
        );
        let error = parse(&["--database-url", "mysql://x"]).unwrap_err();
        assert!(error.to_string().contains("mysql"), "{error}");
        assert_eq!(
            refused(&["--redis-url", "http://cache"]),
            "EMPORIUM_REDIS_URL"
        );
        assert_eq!(
            refused(&["--mongo-url", "postgres://x"]),
            "EMPORIUM_MONGO_URL"
        );
        assert_eq!(
            refused(&["--products-url", "ftp://catalog"]),
            "EMPORIUM_PRODUCTS_URL"
        );
        assert_eq!(refused(&["--api-key", "short"]), "EMPORIUM_API_KEY");
        let error = parse(&["--api-key", "short"]).unwrap_err().to_string();
        assert!(error.contains("at least 16"), "{error}");
        assert_eq!(
            refused(&["--cors-origins", "https://ok.example,not an origin"]),
            "EMPORIUM_CORS_ORIGINS"
        );
        assert_eq!(
            refused(&["--max-connections", "0"]),
            "EMPORIUM_MAX_CONNECTIONS"
        );
    }

    #[test]
    fn the_mongo_database_defaults_to_the_urls() {
        assert_eq!(
            config(&[
                "--mongo-url",
                "mongodb://db.example:27017/shop?retryWrites=true"
            ])
            .mongo_database,
            "shop"
        );
        assert_eq!(
            config(&["--mongo-url", "mongodb://db.example:27017"]).mongo_database,
            "emporium"
        );
        assert_eq!(
            config(&[
                "--mongo-url",
                "mongodb://db.example/shop",
                "--mongo-database",
                "other"
            ])
            .mongo_database,
            "other"
        );
        assert_eq!(
            refused(&["--mongo-database", "a.b"]),
            "EMPORIUM_MONGO_DATABASE"
        );
    }

    #[test]
    fn split_mode_requirements() {
        let base = config(&[]);
        assert_eq!(
            base.check(ServiceSet::Inventory).unwrap_err().variable,
            "EMPORIUM_PRODUCTS_URL"
        );
        assert_eq!(
            base.check(ServiceSet::Products).unwrap_err().variable,
            "EMPORIUM_INVENTORY_URL"
        );
        let remote_without_key = Config {
            products_url: Some("http://catalog:8080".into()),
            ..base.clone()
        };
        assert_eq!(
            remote_without_key
                .check(ServiceSet::Inventory)
                .unwrap_err()
                .variable,
            "EMPORIUM_API_KEY"
        );
        assert_eq!(
            remote_without_key
                .check(ServiceSet::All)
                .unwrap_err()
                .variable,
            "EMPORIUM_API_KEY"
        );
        let key_without_secret = Config {
            api_key: Some(generate_api_key()),
            ..remote_without_key
        };
        assert_eq!(
            key_without_secret
                .check(ServiceSet::Inventory)
                .unwrap_err()
                .variable,
            "EMPORIUM_JWT_SECRET"
        );
        // The all-in-one server generates its own secret; a split service may not.
        assert!(key_without_secret.check(ServiceSet::All).is_ok());
        let ready = Config {
            jwt_secret: Some(emporium_adapters::security::generate_secret()),
            ..key_without_secret
        };
        assert!(ready.check(ServiceSet::Inventory).is_ok());
    }

    #[test]
    fn the_users_service_needs_the_shared_key_and_secret_only() {
        let base = config(&[]);
        assert_eq!(
            base.check(ServiceSet::Users).unwrap_err().variable,
            "EMPORIUM_API_KEY"
        );
        let with_key = Config {
            api_key: Some(generate_api_key()),
            ..base
        };
        let error = with_key.check(ServiceSet::Users).unwrap_err();
        assert_eq!(error.variable, "EMPORIUM_JWT_SECRET");
        assert!(error.to_string().contains("serve users"), "{error}");
        let ready = Config {
            jwt_secret: Some(emporium_adapters::security::generate_secret()),
            ..with_key
        };
        // No other service's URL: accounts call nobody.
        assert!(ready.check(ServiceSet::Users).is_ok());
        assert!(ServiceSet::Users.has_accounts());
        assert!(!ServiceSet::Users.has_catalog());
        assert!(!ServiceSet::Users.has_inventory());
        assert!(ServiceSet::All.has_accounts());
        assert!(!ServiceSet::Products.has_accounts());
    }

    #[test]
    fn service_urls_lose_their_trailing_slash() {
        assert_eq!(
            config(&["--inventory-url", "http://inventory:8081/"])
                .inventory_url
                .as_deref(),
            Some("http://inventory:8081")
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let config = Config {
            database_url: "postgres://shop:hunter2@db/shop".into(),
            ..Config::embedded(PathBuf::from("/tmp/x"))
        };
        let key = config.api_key.clone().unwrap();
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2"));
        assert!(!text.contains(&key));
        assert!(text.contains("postgres://shop:***@db/shop"));
    }

    #[test]
    fn generated_key_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            api_key: None,
            ..Config::embedded(dir.path().to_path_buf())
        };
        let path = config.ensure_api_key().unwrap().unwrap();
        let key = config.api_key.clone().unwrap();
        assert!(key.len() >= MIN_API_KEY_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut again = Config {
            api_key: None,
            ..config.clone()
        };
        again.ensure_api_key().unwrap();
        assert_eq!(again.api_key, Some(key));
    }

    #[test]
    fn jwt_settings() {
        assert_eq!(
            refused(&["--jwt-secret", "too-short"]),
            "EMPORIUM_JWT_SECRET"
        );
        let error = parse(&["--jwt-secret", "too-short"])
            .unwrap_err()
            .to_string();
        assert!(
            !error.contains("too-short") || error.contains("invalid value"),
            "{error}"
        );
        assert_eq!(
            refused(&["--access-token-ttl", "soon"]),
            "EMPORIUM_ACCESS_TOKEN_TTL"
        );
        assert_eq!(
            refused(&["--refresh-token-ttl", "0"]),
            "EMPORIUM_REFRESH_TOKEN_TTL"
        );
        let defaults = config(&[]);
        assert_eq!(defaults.access_token_ttl, 900);
        assert_eq!(defaults.refresh_token_ttl, 2_592_000);
    }

    #[test]
    fn the_bootstrap_admin_needs_both_values_and_hides_the_password() {
        assert_eq!(
            refused(&["--admin-email", "root@example.com"]),
            "EMPORIUM_ADMIN_PASSWORD"
        );
        let other_half = parse(&["--admin-password", "hunter2hunter2"]).unwrap_err();
        assert_eq!(
            setting_of(&other_half).as_deref(),
            Some("EMPORIUM_ADMIN_EMAIL")
        );
        assert!(!other_half.to_string().contains("hunter2"));
        let both = config(&[
            "--admin-email",
            "root@example.com",
            "--admin-password",
            "hunter2hunter2",
        ]);
        assert!(both.bootstrap_admin.is_some());
        assert!(!format!("{both:?}").contains("hunter2"));
        let cli = parse(&["users", "create-admin", "--email", "root@example.com"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Users {
                command: UsersCommand::CreateAdmin { .. }
            })
        ));
    }

    #[test]
    fn auth_rate_limit_is_a_positive_number() {
        assert_eq!(
            config(&[]).auth_rate_per_minute.get(),
            DEFAULT_AUTH_RATE_PER_MINUTE
        );
        for bad in ["0", "-1", "many"] {
            assert_eq!(
                refused(&[&format!("--auth-rate-per-minute={bad}")]),
                "EMPORIUM_AUTH_RATE_PER_MINUTE"
            );
        }
        assert_eq!(
            config(&["--auth-rate-per-minute", "5"])
                .auth_rate_per_minute
                .get(),
            5
        );
    }

    #[test]
    fn generated_jwt_secret_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            jwt_secret: None,
            ..Config::embedded(dir.path().to_path_buf())
        };
        let path = config.ensure_jwt_secret().unwrap().unwrap();
        let secret = config.jwt_secret.clone().unwrap();
        assert!(secret.len() >= MIN_JWT_SECRET_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut again = Config {
            jwt_secret: None,
            ..config.clone()
        };
        again.ensure_jwt_secret().unwrap();
        assert_eq!(again.jwt_secret, Some(secret));
        assert!(!format!("{again:?}").contains(again.jwt_secret.as_deref().unwrap()));
    }

    #[test]
    fn cli_parses_subcommands_and_flags() {
        let cli = parse(&["serve", "inventory", "--addr", "0.0.0.0:9000"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Serve {
                services: ServiceSet::Inventory
            })
        ));
        assert_eq!(
            cli.settings.addr.map(|addr| addr.to_string()).as_deref(),
            Some("0.0.0.0:9000")
        );
        let cli = parse(&["serve", "users"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Serve {
                services: ServiceSet::Users
            })
        ));
        let cli = parse(&["migrate"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Migrate {
                services: ServiceSet::All
            })
        ));
        assert!(parse(&[]).unwrap().command.is_none());
        let origins = config(&["--cors-origins", "https://a.example,http://localhost:3000"]);
        assert_eq!(
            origins.cors_origins,
            vec!["https://a.example", "http://localhost:3000"]
        );
    }

    /// Every setting is in `docs/configuration.md` with its flag and its default, and
    /// the document names no variable the server does not read.
    #[test]
    fn the_configuration_document_matches_the_flags() {
        let document = include_str!("../../docs/configuration.md");
        let command = Cli::command();
        let mut variables = Vec::new();
        for arg in command.get_arguments() {
            let Some(variable) = arg.get_env() else {
                continue;
            };
            let variable = variable.to_string_lossy().into_owned();
            let flag = format!("--{}", arg.get_long().unwrap());
            let row = document
                .lines()
                .find(|line| line.starts_with(&format!("| `{variable}` |")))
                .unwrap_or_else(|| panic!("docs/configuration.md has no row for {variable}"));
            assert!(
                row.contains(&format!("`{flag}`")),
                "{variable}: {flag} missing in {row}"
            );
            for default in arg.get_default_values() {
                let default = default.to_string_lossy();
                assert!(
                    row.contains(&format!("`{default}`")),
                    "{variable}: default {default} missing in {row}"
                );
            }
            variables.push(variable);
        }
        for line in document
            .lines()
            .filter(|line| line.starts_with("| `EMPORIUM_"))
        {
            let named = line.split('`').nth(1).unwrap();
            assert!(
                variables.iter().any(|variable| variable == named),
                "docs/configuration.md documents {named}, which no flag reads"
            );
        }
    }
}
