//! # emporium-domain
//!
//! The innermost layer of Emporium: entities, value objects that enforce their own
//! invariants, and the **ports** (traits) through which the application layer reaches
//! storage, caches, clocks and other services.
//!
//! The crate is pure: no async runtime, no I/O, no framework types. Adapters in
//! `emporium-adapters` implement the ports; use cases in `emporium-application` drive
//! them.
//!
//! With the `mocks` feature every port also has a [mockall] mock (`MockProductRepository`,
//! `MockCache`, …) for downstream unit tests.
//!
//! ```
//! use emporium_domain::catalog::{Price, ProductName};
//! let name = ProductName::new("  Espresso cup ").unwrap();
//! assert_eq!(name.as_str(), "Espresso cup");
//! assert!(Price::parse("12.505").is_err()); // at most two decimal places
//! ```

pub mod access;
pub mod accounts;
pub mod cache;
pub mod catalog;
pub mod clock;
pub mod ids;
pub mod inventory;
pub mod notifications;
pub mod orders;
pub mod pagination;
pub mod secrets;
pub mod unavailable;
pub mod webhooks;

pub use access::{AccessDenied, Actor, Role, UserId};
pub use cache::{Cache, CacheError};
pub use clock::Clock;
pub use ids::IdGenerator;
pub use pagination::{Page, PageRequest, SortDirection};
pub use unavailable::Unavailable;

#[cfg(feature = "mocks")]
pub use cache::MockCache;
#[cfg(feature = "mocks")]
pub use clock::MockClock;
#[cfg(feature = "mocks")]
pub use ids::MockIdGenerator;
