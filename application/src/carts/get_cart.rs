use emporium_domain::{AccessDenied, Actor};

use super::change::current;
use super::{CartPorts, CartView};
use crate::failure::{Failure, UseCaseError};

/// Reads the caller's own cart (an empty one when none is stored). Any signed-in user.
pub struct GetCart {
    ports: CartPorts,
}

/// Failures of [`GetCart`].
#[derive(Debug, thiserror::Error)]
pub enum GetCartError {
    /// Only signed-in users have carts.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for GetCartError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl GetCart {
    /// The use case over its ports.
    pub fn new(ports: CartPorts) -> Self {
        Self { ports }
    }

    /// The caller's cart.
    pub async fn execute(&self, actor: &Actor) -> Result<CartView, GetCartError> {
        let owner = actor.ensure_user()?;
        let cart = current(&self.ports, owner)
            .await
            .map_err(|error| anyhow::Error::new(error).context("loading the cart"))?;
        Ok(CartView {
            cart,
            currency: self.ports.currency,
        })
    }
}
