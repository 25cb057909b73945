use std::sync::Arc;

use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{
    InventoryItem, InventoryRepository, InventoryRepositoryError, Quantity, QuantityDelta,
};
use emporium_domain::{AccessDenied, Actor, Clock};

use crate::failure::{Failure, UseCaseError};

/// Adds a signed delta to a product's on-hand stock, atomically in storage: on-hand
/// never falls below the reserved quantity (nor below zero), however many changes
/// race. Admins and services.
pub struct AdjustInventory {
    inventory: Arc<dyn InventoryRepository>,
    clock: Arc<dyn Clock>,
}

/// Failures of [`AdjustInventory`].
#[derive(Debug, thiserror::Error)]
pub enum AdjustInventoryError {
    /// The actor may not manage inventory.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The product has no stock record.
    #[error("There is no stock record for product {0}.")]
    NotFound(ProductId),
    /// On-hand stock would fall below the reserved quantity.
    #[error(
        "Only {available} units are available; on-hand stock cannot fall below the reserved quantity."
    )]
    InsufficientStock {
        /// Units available when the change was refused.
        available: Quantity,
    },
    /// On-hand stock would exceed [`Quantity::MAX`].
    #[error("On-hand stock would exceed {max}.", max = Quantity::MAX)]
    Overflow,
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for AdjustInventoryError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::InsufficientStock { .. } => {
                Failure::invalid("insufficient_stock").on_value("quantityDelta")
            }
            Self::Overflow => Failure::invalid("stock_overflow").on_value("quantityDelta"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl AdjustInventory {
    /// The use case over its ports.
    pub fn new(inventory: Arc<dyn InventoryRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { inventory, clock }
    }

    /// Applies `delta` and returns the record after the change.
    #[tracing::instrument(name = "adjust_inventory", skip_all, fields(product_id = %product_id, delta = delta.value()))]
    pub async fn execute(
        &self,
        actor: &Actor,
        product_id: ProductId,
        delta: QuantityDelta,
    ) -> Result<InventoryItem, AdjustInventoryError> {
        actor.ensure_can_manage_catalog()?;
        let item = self
            .inventory
            .adjust(product_id, delta, self.clock.now())
            .await
            .map_err(|error| match error {
                InventoryRepositoryError::NotFound(id) => AdjustInventoryError::NotFound(id),
                InventoryRepositoryError::InsufficientStock { available } => {
                    AdjustInventoryError::InsufficientStock { available }
                }
                InventoryRepositoryError::Overflow => AdjustInventoryError::Overflow,
                other => anyhow::Error::new(other).context("adjusting stock").into(),
            })?;
        tracing::info!(on_hand = item.on_hand().value(), "stock adjusted");
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::test_support::*;
    use emporium_domain::inventory::MockInventoryRepository;

    #[tokio::test]
    async fn passes_the_delta_and_the_clock_time_to_storage() {
        let mut inventory = MockInventoryRepository::new();
        inventory
            .expect_adjust()
            .withf(|_, delta, at| delta.value() == -5 && *at == now())
            .times(1)
            .returning(|_, _, _| Ok(item(15, 0)));
        let uc = AdjustInventory::new(Arc::new(inventory), clock());
        let after = uc
            .execute(&admin(), product_id(), QuantityDelta::new(-5).unwrap())
            .await
            .unwrap();
        assert_eq!(after.on_hand().value(), 15);
    }

    #[tokio::test]
    async fn insufficient_stock_is_reported_with_what_is_available() {
        let mut inventory = MockInventoryRepository::new();
        inventory.expect_adjust().returning(|_, _, _| {
            Err(InventoryRepositoryError::InsufficientStock {
                available: Quantity::new(2).unwrap(),
            })
        });
        let uc = AdjustInventory::new(Arc::new(inventory), clock());
        let result = uc
            .execute(
                &Actor::Service,
                product_id(),
                QuantityDelta::new(-5).unwrap(),
            )
            .await;
        assert!(matches!(
            result,
            Err(AdjustInventoryError::InsufficientStock { available }) if available.value() == 2
        ));
    }

    #[tokio::test]
    async fn anonymous_callers_cannot_adjust() {
        let uc = AdjustInventory::new(Arc::new(MockInventoryRepository::new()), clock());
        let result = uc
            .execute(
                &Actor::Anonymous,
                product_id(),
                QuantityDelta::new(1).unwrap(),
            )
            .await;
        assert!(matches!(
            result,
            Err(AdjustInventoryError::Denied(AccessDenied::Unauthenticated))
        ));
    }
}
