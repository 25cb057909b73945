use std::sync::Arc;

use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{InventoryRepository, InventoryRepositoryError, Quantity};
use emporium_domain::{AccessDenied, Actor};

use crate::failure::{Failure, UseCaseError};

/// Removes a product's stock record, unless units of it are reserved for orders (one
/// conditional delete in the store). Admins and services: the catalog calls it when
/// it deletes the product.
pub struct DeleteInventory {
    inventory: Arc<dyn InventoryRepository>,
}

/// Failures of [`DeleteInventory`].
#[derive(Debug, thiserror::Error)]
pub enum DeleteInventoryError {
    /// The actor may not manage inventory.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The product has no stock record.
    #[error("There is no stock record for product {0}.")]
    NotFound(ProductId),
    /// Units are reserved for orders.
    #[error("{reserved} units of this product are reserved for orders; its stock record stays.")]
    Reserved {
        /// Units reserved.
        reserved: Quantity,
    },
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for DeleteInventoryError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::Reserved { .. } => Failure::conflict("stock_reserved"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl DeleteInventory {
    /// The use case over its port.
    pub fn new(inventory: Arc<dyn InventoryRepository>) -> Self {
        Self { inventory }
    }

    /// Removes the stock record of `product_id`.
    #[tracing::instrument(name = "delete_inventory", skip_all, fields(product_id = %product_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        product_id: ProductId,
    ) -> Result<(), DeleteInventoryError> {
        actor.ensure_can_manage_catalog()?;
        self.inventory
            .delete(product_id)
            .await
            .map_err(|error| match error {
                InventoryRepositoryError::NotFound(id) => DeleteInventoryError::NotFound(id),
                InventoryRepositoryError::Reserved { reserved } => {
                    DeleteInventoryError::Reserved { reserved }
                }
                other => anyhow::Error::new(other)
                    .context("deleting the stock record")
                    .into(),
            })?;
        tracing::info!("stock record deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::test_support::*;
    use emporium_domain::inventory::MockInventoryRepository;

    #[tokio::test]
    async fn reserved_stock_is_kept_and_others_are_refused() {
        let mut inventory = MockInventoryRepository::new();
        inventory.expect_delete().returning(|_| {
            Err(InventoryRepositoryError::Reserved {
                reserved: Quantity::new(2).unwrap(),
            })
        });
        let uc = DeleteInventory::new(Arc::new(inventory));
        assert!(matches!(
            uc.execute(&Actor::Service, product_id()).await,
            Err(DeleteInventoryError::Reserved { reserved }) if reserved.value() == 2
        ));
        assert!(matches!(
            uc.execute(&Actor::Anonymous, product_id()).await,
            Err(DeleteInventoryError::Denied(AccessDenied::Unauthenticated))
        ));
    }
}
