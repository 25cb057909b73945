//! Orders: what a customer bought, at which prices, and where it stands.

mod id;

pub use id::OrderId;
