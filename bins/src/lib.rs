//! # emporium
//!
//! The Emporium server: configuration ([`config`]), the composition root that picks
//! adapters ([`composition`]), the JSON:API HTTP edge ([`http`]) and the server
//! itself ([`server`]).
//!
//! Tests start a real server in-process:
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use emporium::config::{Config, ServiceSet};
//! let dir = std::env::temp_dir().join("emporium-example");
//! let config = Config::embedded(dir);
//! let api_key = config.api_key.clone();
//! let server = emporium::server::spawn(config, ServiceSet::All, "127.0.0.1:0".parse()?).await?;
//! println!("listening on {} (key {:?})", server.addr, api_key.is_some());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod acceptor;
pub mod background;
pub mod composition;
pub mod config;
pub mod http;
pub mod metered;
pub mod server;
pub mod telemetry;
