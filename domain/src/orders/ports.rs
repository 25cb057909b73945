//! The ports of the purchase flow's storage and outside services.

use async_trait::async_trait;

use crate::access::UserId;

use super::cart::Cart;

/// Failures of [`CartStore`].
#[derive(Debug, thiserror::Error)]
pub enum CartStoreError {
    /// The stored cart changed since it was read (another request saved first).
    #[error("the cart changed since it was read")]
    Changed,
    /// The store cannot be reached now; the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Keeps one cart per user, surviving restarts.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CartStore: Send + Sync {
    /// The user's cart, if one was saved (and not expired, for stores with a TTL).
    /// Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, owner: UserId) -> Result<Option<Cart>, CartStoreError>;

    /// Saves `cart` if the stored one is still at `cart.version()` (absent for 0),
    /// and returns it at its new version. Errors: `Changed`, `Unavailable`,
    /// `Unexpected`.
    async fn save(&self, cart: &Cart) -> Result<Cart, CartStoreError>;

    /// Removes the user's cart (nothing when there is none). Errors: `Unavailable`,
    /// `Unexpected`.
    async fn delete(&self, owner: UserId) -> Result<(), CartStoreError>;

    /// Checks that the store answers. Errors: `Unavailable`, `Unexpected`.
    async fn ping(&self) -> Result<(), CartStoreError>;
}
