//! # emporium-application
//!
//! Use cases: one struct per operation (`CreateProduct`, `AdjustInventory`, …), each
//! holding the ports it needs as `Arc<dyn Port>` and exposing one `execute` method
//! with an error enum of its own, so callers match on exactly the failures that
//! operation can have.
//!
//! Business rules live here and in `emporium-domain`; access rules are enforced here
//! (every write takes the [`Actor`](emporium_domain::Actor) it runs for), never only
//! in routing.

pub mod accounts;
pub mod carts;
pub mod catalog;
pub mod failure;
pub mod inventory;
pub mod notifications;
pub mod orders;
pub mod webhooks;
