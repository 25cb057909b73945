//! # emporium-adapters
//!
//! Implementations of the `emporium-domain` ports, each behind a cargo feature:
//!
//! | module | feature | implements |
//! |---|---|---|
//! | [`sql`] | `sqlite`, `postgres` | catalog, inventory, stock reservation, account, cart, order and notification stores on sea-orm, plus migrations |
//! | [`mongo`] | `mongodb` | inventory repository and stock reservations on MongoDB |
//! | [`carts`] | `redis` | the cart store on Redis |
//! | [`account_changes`] | `redis` | account changes followed by every service, on a Redis stream |
//! | [`rate_limits`] | `redis` | GCRA rate limits shared by replicas, one Lua script per decision |
//! | [`live`] | `redis`, `in-process` | live push across replicas (Redis pub/sub) and one-time stream tickets in Redis |
//! | [`redis_streams`] | `redis` | the event bus on Redis Streams, with its dead letters |
//! | [`cache`] | `in-process`, `redis` | the cache port on moka and on Redis |
//! | [`in_process`] | `in-process` | clock, id generator, in-process catalog and stock lookups |
//! | [`mail`] | `mail` | the mailer on SMTP (lettre) and the local mailbox; mail templates on minijinja |
//! | [`webhooks`] | `webhooks` | the webhook sender (Standard Webhooks signatures, SSRF checks) and secret generator |
//! | [`http`] | `http` | catalog and stock lookups over HTTP between services |
//! | [`security`] | `argon2`, `jwt` | password hashing (argon2id) and token issuing (JWT HS256) |
//!
//! Every adapter passes the contract suite of its port (`adapters/tests/`), run
//! unchanged against each implementation on its real server.

#[cfg(feature = "redis")]
pub mod account_changes;
#[cfg(any(feature = "in-process", feature = "redis"))]
pub mod cache;
#[cfg(any(feature = "sea-orm", feature = "redis"))]
mod cart_codec;
#[cfg(feature = "redis")]
pub mod carts;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "in-process")]
pub mod in_process;
#[cfg(all(feature = "redis", feature = "in-process"))]
pub mod live;
#[cfg(feature = "mail")]
pub mod mail;
#[cfg(feature = "mongodb")]
pub mod mongo;
#[cfg(feature = "redis")]
pub mod rate_limits;
#[cfg(feature = "redis")]
pub mod redis_streams;
pub mod request_context;
#[cfg(any(feature = "argon2", feature = "jwt"))]
pub mod security;
#[cfg(feature = "sea-orm")]
pub mod sql;
#[cfg(any(feature = "sea-orm", feature = "mongodb"))]
mod stock_adjustment;
#[cfg(any(feature = "sea-orm", feature = "mongodb", feature = "redis"))]
mod store_error;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "webhooks")]
pub mod webhooks;
