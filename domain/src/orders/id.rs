//! The identity of an order.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Identifies an order. It is also the key of the order's stock reservation, so a
/// retried reservation for the same order can be recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub Uuid);

impl std::fmt::Display for OrderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
