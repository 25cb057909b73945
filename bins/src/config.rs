//! Configuration: command line and environment (each flag has a matching
//! `EMPORIUM_*` variable), validated once at start-up. A missing or wrong setting
//! stops start-up with a message naming the variable and the flag.
//!
//! | variable | flag | default | meaning |
//! |---|---|---|---|
//! | `EMPORIUM_ADDR` | `--addr` | `127.0.0.1:8080` | address to listen on |
//! | `EMPORIUM_DATA_DIR` | `--data-dir` | `./data` | embedded SQLite file and generated API key |
//! | `EMPORIUM_DATABASE_URL` | `--database-url` | `sqlite://<data dir>/emporium.db` | `sqlite://…` or `postgres://…` |
//! | `EMPORIUM_MONGO_URL` | `--mongo-url` | unset | inventory on MongoDB when set |
//! | `EMPORIUM_MONGO_DATABASE` | `--mongo-database` | `emporium` | MongoDB database name |
//! | `EMPORIUM_REDIS_URL` | `--redis-url` | unset | product cache on Redis when set (else in-process) |
//! | `EMPORIUM_API_KEY` | `--api-key` | generated (embedded mode) | service key for writes and service calls |
//! | `EMPORIUM_PRODUCTS_URL` | `--products-url` | unset | inventory asks this products service |
//! | `EMPORIUM_INVENTORY_URL` | `--inventory-url` | unset | products asks this inventory service before deletes |
//! | `EMPORIUM_JWT_SECRET` | `--jwt-secret` | generated (embedded mode) | HS256 key of access/refresh tokens (≥ 32 bytes) |
//! | `EMPORIUM_ACCESS_TOKEN_TTL` | `--access-token-ttl` | `900` | access token lifetime, seconds |
//! | `EMPORIUM_REFRESH_TOKEN_TTL` | `--refresh-token-ttl` | `2592000` | refresh token lifetime, seconds |
//! | `EMPORIUM_ADMIN_EMAIL` | `--admin-email` | unset | with `EMPORIUM_ADMIN_PASSWORD`: an admin created at start-up if no account has this address |
//! | `EMPORIUM_AUTH_RATE_PER_MINUTE` | `--auth-rate-per-minute` | `10` | log-in/registration attempts per client address and per e-mail address |
//! | `EMPORIUM_ADMIN_PASSWORD` | `--admin-password` | unset | that admin's password (never logged) |
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
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// The default listening address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// The default data directory.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// The default MongoDB database.
pub const DEFAULT_MONGO_DATABASE: &str = "emporium";
/// The file (in the data directory) holding a generated API key.
pub const API_KEY_FILE: &str = "api-key";
/// The shortest API key accepted.
pub const MIN_API_KEY_LEN: usize = 16;
/// The file (in the data directory) holding a generated token signing secret.
pub const JWT_SECRET_FILE: &str = "jwt-secret";
/// The shortest token signing secret accepted, in bytes.
pub const MIN_JWT_SECRET_LEN: usize = emporium_adapters::security::MIN_SECRET_BYTES;
/// The default limit of log-in and registration attempts per minute.
pub const DEFAULT_AUTH_RATE_PER_MINUTE: u32 = 10;
/// The default access token lifetime, seconds.
pub const DEFAULT_ACCESS_TOKEN_TTL: u64 = 900;
/// The default refresh token lifetime, seconds.
pub const DEFAULT_REFRESH_TOKEN_TTL: u64 = 2_592_000;

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
}

impl ServiceSet {
    /// Whether the catalog (products, categories) runs here.
    pub fn has_catalog(self) -> bool {
        matches!(self, Self::All | Self::Products)
    }

    /// Whether inventory runs here.
    pub fn has_inventory(self) -> bool {
        matches!(self, Self::All | Self::Inventory)
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

/// Raw settings as given; [`Config::from_settings`] validates them.
#[derive(Args, Default)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "EMPORIUM_ADDR", global = true)]
    pub addr: Option<String>,
    /// Directory for the embedded database and the generated API key.
    #[arg(long, env = "EMPORIUM_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…`.
    #[arg(
        long,
        env = "EMPORIUM_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// MongoDB URL; inventory is stored there when set.
    #[arg(
        long,
        env = "EMPORIUM_MONGO_URL",
        global = true,
        hide_env_values = true
    )]
    pub mongo_url: Option<String>,
    /// MongoDB database name.
    #[arg(long, env = "EMPORIUM_MONGO_DATABASE", global = true)]
    pub mongo_database: Option<String>,
    /// Redis URL; the product cache lives there when set.
    #[arg(
        long,
        env = "EMPORIUM_REDIS_URL",
        global = true,
        hide_env_values = true
    )]
    pub redis_url: Option<String>,
    /// The service API key (writes and calls between services).
    #[arg(long, env = "EMPORIUM_API_KEY", global = true, hide_env_values = true)]
    pub api_key: Option<String>,
    /// Base URL of a remote products service (inventory asks it about products).
    #[arg(long, env = "EMPORIUM_PRODUCTS_URL", global = true)]
    pub products_url: Option<String>,
    /// Base URL of a remote inventory service (asked before a product is deleted).
    #[arg(long, env = "EMPORIUM_INVENTORY_URL", global = true)]
    pub inventory_url: Option<String>,
    /// The HS256 secret signing access and refresh tokens (at least 32 bytes).
    #[arg(
        long,
        env = "EMPORIUM_JWT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,
    /// Access token lifetime in seconds.
    #[arg(long, env = "EMPORIUM_ACCESS_TOKEN_TTL", global = true)]
    pub access_token_ttl: Option<String>,
    /// Refresh token lifetime in seconds.
    #[arg(long, env = "EMPORIUM_REFRESH_TOKEN_TTL", global = true)]
    pub refresh_token_ttl: Option<String>,
    /// Log-in and registration attempts per minute, per client address and per
    /// e-mail address.
    #[arg(long, env = "EMPORIUM_AUTH_RATE_PER_MINUTE", global = true)]
    pub auth_rate_per_minute: Option<String>,
    /// An administrator to create at start-up (with `--admin-password`).
    #[arg(long, env = "EMPORIUM_ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,
    /// That administrator's password.
    #[arg(
        long,
        env = "EMPORIUM_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub admin_password: Option<String>,
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
    /// Product cache on Redis when set; in-process otherwise.
    pub redis_url: Option<String>,
    /// The service API key. `None` in embedded mode means "generate one in the data
    /// directory at start".
    pub api_key: Option<String>,
    /// Remote products service for inventory's product checks.
    pub products_url: Option<String>,
    /// Remote inventory service for the catalog's delete check.
    pub inventory_url: Option<String>,
    /// The token signing secret. `None` in embedded mode means "generate one in the
    /// data directory at start".
    pub jwt_secret: Option<String>,
    /// Access token lifetime, seconds (at least 1).
    pub access_token_ttl: u64,
    /// Refresh token lifetime, seconds (at least 1).
    pub refresh_token_ttl: u64,
    /// Log-in and registration attempts per minute, per client address and per
    /// e-mail address (at least 1).
    pub auth_rate_per_minute: u32,
    /// The administrator to create at start-up when no account has its address:
    /// `(email, password)`.
    pub bootstrap_admin: Option<(String, String)>,
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
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
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

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl Config {
    /// The embedded configuration on `data_dir`: SQLite file, in-process cache and
    /// lookups, and a freshly generated API key in [`Config::api_key`] (tests read it
    /// from there).
    pub fn embedded(data_dir: PathBuf) -> Config {
        Config {
            addr: DEFAULT_ADDR.parse().expect("the default address is valid"),
            database_url: sqlite_url(&data_dir),
            data_dir,
            mongo_url: None,
            mongo_database: DEFAULT_MONGO_DATABASE.to_owned(),
            redis_url: None,
            api_key: Some(generate_api_key()),
            products_url: None,
            inventory_url: None,
            jwt_secret: Some(emporium_adapters::security::generate_secret()),
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
            refresh_token_ttl: DEFAULT_REFRESH_TOKEN_TTL,
            bootstrap_admin: None,
            auth_rate_per_minute: DEFAULT_AUTH_RATE_PER_MINUTE,
        }
    }

    /// Validates raw settings (formats only; see [`Config::check`] for what a service
    /// set needs).
    pub fn from_settings(settings: Settings) -> Result<Config, ConfigError> {
        let data_dir = settings
            .data_dir
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let addr_text = non_empty(settings.addr).unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text.parse::<SocketAddr>().map_err(|_| {
            ConfigError::new(
                "EMPORIUM_ADDR",
                "--addr",
                format!(
                    "{addr_text:?} is not a socket address such as 127.0.0.1:8080 or [::1]:8080"
                ),
            )
        })?;
        let bootstrap_admin = match (
            non_empty(settings.admin_email),
            settings.admin_password.filter(|p| !p.is_empty()),
        ) {
            (Some(email), Some(password)) => Some((email, password)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "EMPORIUM_ADMIN_PASSWORD",
                    "--admin-password",
                    "EMPORIUM_ADMIN_EMAIL is set: give the administrator's password too",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "EMPORIUM_ADMIN_EMAIL",
                    "--admin-email",
                    "EMPORIUM_ADMIN_PASSWORD is set: give the administrator's e-mail address too",
                ));
            }
        };
        let auth_rate_per_minute = match non_empty(settings.auth_rate_per_minute) {
            None => DEFAULT_AUTH_RATE_PER_MINUTE,
            Some(text) => text.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ConfigError::new(
                    "EMPORIUM_AUTH_RATE_PER_MINUTE",
                    "--auth-rate-per-minute",
                    format!("{text:?} is not a whole number of attempts of at least 1"),
                )
            })?,
        };
        let config = Config {
            auth_rate_per_minute,
            bootstrap_admin,
            addr,
            database_url: non_empty(settings.database_url).unwrap_or_else(|| sqlite_url(&data_dir)),
            data_dir,
            mongo_url: non_empty(settings.mongo_url),
            mongo_database: non_empty(settings.mongo_database)
                .unwrap_or_else(|| DEFAULT_MONGO_DATABASE.to_owned()),
            redis_url: non_empty(settings.redis_url),
            api_key: non_empty(settings.api_key),
            products_url: non_empty(settings.products_url)
                .map(|u| u.trim_end_matches('/').to_owned()),
            inventory_url: non_empty(settings.inventory_url)
                .map(|u| u.trim_end_matches('/').to_owned()),
            jwt_secret: settings.jwt_secret.filter(|secret| !secret.is_empty()),
            access_token_ttl: parse_ttl(
                settings.access_token_ttl,
                DEFAULT_ACCESS_TOKEN_TTL,
                "EMPORIUM_ACCESS_TOKEN_TTL",
                "--access-token-ttl",
            )?,
            refresh_token_ttl: parse_ttl(
                settings.refresh_token_ttl,
                DEFAULT_REFRESH_TOKEN_TTL,
                "EMPORIUM_REFRESH_TOKEN_TTL",
                "--refresh-token-ttl",
            )?,
        };
        config.check_formats()?;
        Ok(config)
    }

    /// Checks every setting's format.
    pub fn check_formats(&self) -> Result<(), ConfigError> {
        check_scheme(
            &self.database_url,
            &["sqlite:", "postgres://", "postgresql://"],
            "EMPORIUM_DATABASE_URL",
            "--database-url",
            "a sqlite://… or postgres://… URL",
        )?;
        if let Some(url) = &self.mongo_url {
            check_scheme(
                url,
                &["mongodb://", "mongodb+srv://"],
                "EMPORIUM_MONGO_URL",
                "--mongo-url",
                "a mongodb:// or mongodb+srv:// URL",
            )?;
        }
        let database = &self.mongo_database;
        if database.is_empty()
            || database.len() > 63
            || database.contains([
                '/', '\\', '.', ' ', '"', '$', '*', '<', '>', ':', '|', '?', '\0',
            ])
        {
            return Err(ConfigError::new(
                "EMPORIUM_MONGO_DATABASE",
                "--mongo-database",
                format!("{database:?} is not a valid MongoDB database name"),
            ));
        }
        if let Some(url) = &self.redis_url {
            check_scheme(
                url,
                &["redis://", "rediss://", "redis+unix://", "unix://"],
                "EMPORIUM_REDIS_URL",
                "--redis-url",
                "a redis:// or rediss:// URL",
            )?;
        }
        for (url, variable, flag) in [
            (
                &self.products_url,
                "EMPORIUM_PRODUCTS_URL",
                "--products-url",
            ),
            (
                &self.inventory_url,
                "EMPORIUM_INVENTORY_URL",
                "--inventory-url",
            ),
        ] {
            if let Some(url) = url {
                check_service_url(url, variable, flag)?;
            }
        }
        if let Some(key) = &self.api_key
            && (key.len() < MIN_API_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ConfigError::new(
                "EMPORIUM_API_KEY",
                "--api-key",
                format!(
                    "the API key must be at least {MIN_API_KEY_LEN} visible ASCII characters \
                     without spaces (it travels in the X-API-Key header)"
                ),
            ));
        }
        if let Some(secret) = &self.jwt_secret
            && secret.len() < MIN_JWT_SECRET_LEN
        {
            return Err(ConfigError::new(
                "EMPORIUM_JWT_SECRET",
                "--jwt-secret",
                format!(
                    "the token signing secret must be at least {MIN_JWT_SECRET_LEN} bytes \
                     (use at least 256 random bits)"
                ),
            ));
        }
        for (ttl, variable, flag) in [
            (
                self.access_token_ttl,
                "EMPORIUM_ACCESS_TOKEN_TTL",
                "--access-token-ttl",
            ),
            (
                self.refresh_token_ttl,
                "EMPORIUM_REFRESH_TOKEN_TTL",
                "--refresh-token-ttl",
            ),
        ] {
            if ttl == 0 || ttl > MAX_TTL {
                return Err(ConfigError::new(
                    variable,
                    flag,
                    format!("a lifetime must be between 1 and {MAX_TTL} seconds"),
                ));
            }
        }
        Ok(())
    }

    /// Checks that this configuration can run `services`.
    pub fn check(&self, services: ServiceSet) -> Result<(), ConfigError> {
        self.check_formats()?;
        if services == ServiceSet::Inventory && self.products_url.is_none() {
            return Err(ConfigError::new(
                "EMPORIUM_PRODUCTS_URL",
                "--products-url",
                "`serve inventory` runs without a products database, so it must ask a products \
                 service whether products exist: set the products service's base URL",
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
            |key| key.len() >= MIN_API_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic()),
            generate_api_key,
        )?;
        self.api_key = Some(key);
        Ok(Some(path))
    }
}

impl Config {
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
            |secret| secret.len() >= MIN_JWT_SECRET_LEN,
            emporium_adapters::security::generate_secret,
        )?;
        self.jwt_secret = Some(secret);
        Ok(Some(path))
    }
}

/// The longest token lifetime accepted: ten years.
const MAX_TTL: u64 = 10 * 366 * 24 * 60 * 60;

fn parse_ttl(
    value: Option<String>,
    default: u64,
    variable: &'static str,
    flag: &'static str,
) -> Result<u64, ConfigError> {
    match non_empty(value) {
        None => Ok(default),
        Some(text) => text.parse::<u64>().map_err(|_| {
            ConfigError::new(
                variable,
                flag,
                format!("{text:?} is not a whole number of seconds"),
            )
        }),
    }
}

fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("emporium.db").display())
}

fn check_scheme(
    url: &str,
    schemes: &[&str],
    variable: &'static str,
    flag: &'static str,
    expected: &str,
) -> Result<(), ConfigError> {
    let lower = url.to_ascii_lowercase();
    if schemes.iter().any(|scheme| lower.starts_with(scheme)) {
        Ok(())
    } else {
        let scheme = url.split_once(':').map_or("none", |(scheme, _)| scheme);
        Err(ConfigError::new(
            variable,
            flag,
            format!("expected {expected}; the URL scheme is {scheme:?}"),
        ))
    }
}

fn check_service_url(
    url: &str,
    variable: &'static str,
    flag: &'static str,
) -> Result<(), ConfigError> {
    let invalid = |why: &str| ConfigError::new(variable, flag, format!("{url:?} {why}"));
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
    Ok(())
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

    fn settings() -> Settings {
        Settings::default()
    }

    #[test]
    fn defaults() {
        let config = Config::from_settings(settings()).unwrap();
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.database_url, "sqlite://./data/emporium.db");
        assert_eq!(config.mongo_database, "emporium");
        assert!(config.api_key.is_none());
        assert!(config.check(ServiceSet::All).is_ok());
    }

    #[test]
    fn errors_name_the_variable() {
        let bad_addr = Config::from_settings(Settings {
            addr: Some("localhost".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(bad_addr.variable, "EMPORIUM_ADDR");
        assert!(bad_addr.to_string().starts_with("EMPORIUM_ADDR (--addr): "));

        let bad_db = Config::from_settings(Settings {
            database_url: Some("mysql://x".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(bad_db.variable, "EMPORIUM_DATABASE_URL");
        assert!(bad_db.message.contains("mysql"));

        let bad_redis = Config::from_settings(Settings {
            redis_url: Some("http://cache".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(bad_redis.variable, "EMPORIUM_REDIS_URL");

        let bad_mongo = Config::from_settings(Settings {
            mongo_url: Some("postgres://x".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(bad_mongo.variable, "EMPORIUM_MONGO_URL");

        let bad_service = Config::from_settings(Settings {
            products_url: Some("ftp://catalog".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(bad_service.variable, "EMPORIUM_PRODUCTS_URL");

        let short_key = Config::from_settings(Settings {
            api_key: Some("short".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(short_key.variable, "EMPORIUM_API_KEY");
        assert!(!short_key.to_string().contains("short"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = Config::from_settings(Settings {
            redis_url: Some("  ".into()),
            addr: Some(String::new()),
            ..settings()
        })
        .unwrap();
        assert_eq!(config.redis_url, None);
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
    }

    #[test]
    fn split_mode_requirements() {
        let base = Config::from_settings(settings()).unwrap();
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
        let base = Config::from_settings(settings()).unwrap();
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
        let config = Config::from_settings(Settings {
            inventory_url: Some("http://inventory:8081/".into()),
            ..settings()
        })
        .unwrap();
        assert_eq!(
            config.inventory_url.as_deref(),
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
        let short = Config::from_settings(Settings {
            jwt_secret: Some("too-short".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(short.variable, "EMPORIUM_JWT_SECRET");
        assert!(!short.to_string().contains("too-short"));
        let ttl = Config::from_settings(Settings {
            access_token_ttl: Some("soon".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(ttl.variable, "EMPORIUM_ACCESS_TOKEN_TTL");
        let zero = Config::from_settings(Settings {
            refresh_token_ttl: Some("0".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(zero.variable, "EMPORIUM_REFRESH_TOKEN_TTL");
        let defaults = Config::from_settings(settings()).unwrap();
        assert_eq!(defaults.access_token_ttl, 900);
        assert_eq!(defaults.refresh_token_ttl, 2_592_000);
    }

    #[test]
    fn the_bootstrap_admin_needs_both_values_and_hides_the_password() {
        let half = Config::from_settings(Settings {
            admin_email: Some("root@example.com".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(half.variable, "EMPORIUM_ADMIN_PASSWORD");
        let other_half = Config::from_settings(Settings {
            admin_password: Some("hunter2hunter2".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(other_half.variable, "EMPORIUM_ADMIN_EMAIL");
        assert!(!other_half.to_string().contains("hunter2"));
        let both = Config::from_settings(Settings {
            admin_email: Some("root@example.com".into()),
            admin_password: Some("hunter2hunter2".into()),
            ..settings()
        })
        .unwrap();
        assert!(!format!("{both:?}").contains("hunter2"));
        let cli = Cli::try_parse_from([
            "emporium",
            "users",
            "create-admin",
            "--email",
            "root@example.com",
        ])
        .unwrap();
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
            Config::from_settings(settings())
                .unwrap()
                .auth_rate_per_minute,
            DEFAULT_AUTH_RATE_PER_MINUTE
        );
        for bad in ["0", "-1", "many"] {
            let error = Config::from_settings(Settings {
                auth_rate_per_minute: Some(bad.into()),
                ..settings()
            })
            .unwrap_err();
            assert_eq!(error.variable, "EMPORIUM_AUTH_RATE_PER_MINUTE");
        }
        let five = Config::from_settings(Settings {
            auth_rate_per_minute: Some("5".into()),
            ..settings()
        })
        .unwrap();
        assert_eq!(five.auth_rate_per_minute, 5);
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
        let cli = Cli::try_parse_from(["emporium", "serve", "inventory", "--addr", "0.0.0.0:9000"])
            .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Serve {
                services: ServiceSet::Inventory
            })
        ));
        assert_eq!(cli.settings.addr.as_deref(), Some("0.0.0.0:9000"));
        let cli = Cli::try_parse_from(["emporium", "serve", "users"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Serve {
                services: ServiceSet::Users
            })
        ));
        let cli = Cli::try_parse_from(["emporium", "migrate"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Migrate {
                services: ServiceSet::All
            })
        ));
        let cli = Cli::try_parse_from(["emporium"]).unwrap();
        assert!(cli.command.is_none());
    }
}
