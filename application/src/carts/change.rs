//! Read, change, save with a version check, retry: how every cart change is made.

use emporium_domain::UserId;
use emporium_domain::orders::{Cart, CartError, CartStoreError};

use super::{CartPorts, CartView};

/// How often a change is tried when other requests keep saving the same cart first
/// (each round lets at least one of them through, so a burst of this many requests
/// on one cart all succeed).
pub const SAVE_ATTEMPTS: usize = 32;

/// Why a change failed.
pub(crate) enum ChangeFailure {
    /// The domain refused the change.
    Refused(CartError),
    /// Other requests kept saving the cart first, [`SAVE_ATTEMPTS`] times.
    Busy,
    /// The store failed.
    Store(anyhow::Error),
}

impl From<CartStoreError> for ChangeFailure {
    fn from(error: CartStoreError) -> Self {
        Self::Store(anyhow::Error::new(error).context("saving the cart"))
    }
}

/// The stored cart of `owner`, or an empty one.
pub(crate) async fn current(ports: &CartPorts, owner: UserId) -> Result<Cart, CartStoreError> {
    Ok(ports
        .carts
        .get(owner)
        .await?
        .unwrap_or_else(|| Cart::empty(owner, ports.clock.now())))
}

/// Applies `change` to the cart of `owner` and saves it, retrying when another
/// request saved first; returns what `change` returned and the saved cart.
pub(crate) async fn change_cart<T>(
    ports: &CartPorts,
    owner: UserId,
    mut change: impl FnMut(&mut Cart) -> Result<T, CartError>,
) -> Result<(T, CartView), ChangeFailure> {
    for _ in 0..SAVE_ATTEMPTS {
        let mut cart = current(ports, owner).await?;
        let outcome = change(&mut cart).map_err(ChangeFailure::Refused)?;
        match ports.carts.save(&cart).await {
            Ok(saved) => {
                return Ok((
                    outcome,
                    CartView {
                        cart: saved,
                        currency: ports.currency,
                    },
                ));
            }
            Err(CartStoreError::Changed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    tracing::warn!(user_id = %owner, attempts = SAVE_ATTEMPTS, "the cart kept changing; change not applied");
    Err(ChangeFailure::Busy)
}
