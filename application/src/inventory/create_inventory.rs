use std::sync::Arc;

use emporium_domain::catalog::{CatalogError, ProductCatalog, ProductId};
use emporium_domain::inventory::{
    InventoryItem, InventoryRepository, InventoryRepositoryError, Quantity,
};
use emporium_domain::{AccessDenied, Actor, Clock};

use crate::failure::{Failure, FailureKind, UseCaseError};

/// Creates the stock record of an existing product, with nothing reserved. The
/// product is looked up through the catalog (in process, or over HTTP between
/// services). Admins and services.
pub struct CreateInventory {
    inventory: Arc<dyn InventoryRepository>,
    catalog: Arc<dyn ProductCatalog>,
    clock: Arc<dyn Clock>,
}

/// Failures of [`CreateInventory`].
#[derive(Debug, thiserror::Error)]
pub enum CreateInventoryError {
    /// The actor may not manage inventory.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The catalog has no such product.
    #[error("There is no product with id {0}.")]
    ProductNotFound(ProductId),
    /// The product already has a stock record.
    #[error("Product {0} already has a stock record; adjust it with PATCH /v1/inventory/{0}.")]
    AlreadyExists(ProductId),
    /// The catalog could not be asked; nothing was created.
    #[error(transparent)]
    CatalogUnavailable(CatalogError),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for CreateInventoryError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::ProductNotFound(_) => {
                Failure::new(FailureKind::NotFound, "unknown_product").on_reference("product")
            }
            Self::AlreadyExists(_) => Failure::conflict("already_exists").on_reference("product"),
            Self::CatalogUnavailable(_) => Failure::unavailable(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl CreateInventory {
    /// The use case over its ports.
    pub fn new(
        inventory: Arc<dyn InventoryRepository>,
        catalog: Arc<dyn ProductCatalog>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inventory,
            catalog,
            clock,
        }
    }

    /// Creates the record with `on_hand` units and returns it.
    #[tracing::instrument(name = "create_inventory", skip_all, fields(product_id = %product_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        product_id: ProductId,
        on_hand: Quantity,
    ) -> Result<InventoryItem, CreateInventoryError> {
        actor.ensure_can_manage_catalog()?;
        let product = self
            .catalog
            .find_product(product_id)
            .await
            .map_err(CreateInventoryError::CatalogUnavailable)?;
        if product.is_none() {
            return Err(CreateInventoryError::ProductNotFound(product_id));
        }
        let item = InventoryItem::new(product_id, on_hand, Quantity::ZERO, self.clock.now())
            .map_err(|e| anyhow::Error::new(e).context("building the stock record"))?;
        self.inventory
            .create(&item)
            .await
            .map_err(|error| match error {
                InventoryRepositoryError::AlreadyExists(id) => {
                    CreateInventoryError::AlreadyExists(id)
                }
                other => anyhow::Error::new(other)
                    .context("storing the stock record")
                    .into(),
            })?;
        tracing::info!(on_hand = on_hand.value(), "stock record created");
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::test_support::*;
    use emporium_domain::catalog::MockProductCatalog;
    use emporium_domain::inventory::MockInventoryRepository;

    fn use_case(
        inventory: MockInventoryRepository,
        catalog: MockProductCatalog,
    ) -> CreateInventory {
        CreateInventory::new(Arc::new(inventory), Arc::new(catalog), clock())
    }

    #[tokio::test]
    async fn creates_a_record_for_an_existing_product() {
        let mut catalog = MockProductCatalog::new();
        catalog
            .expect_find_product()
            .returning(|_| Ok(Some(product())));
        let mut inventory = MockInventoryRepository::new();
        inventory
            .expect_create()
            .withf(|item| item.on_hand().value() == 20 && item.reserved() == Quantity::ZERO)
            .times(1)
            .returning(|_| Ok(()));
        let item = use_case(inventory, catalog)
            .execute(&Actor::Service, product_id(), Quantity::new(20).unwrap())
            .await
            .unwrap();
        assert_eq!(item.available().value(), 20);
    }

    #[tokio::test]
    async fn unknown_product_is_refused_without_writing() {
        let mut catalog = MockProductCatalog::new();
        catalog.expect_find_product().returning(|_| Ok(None));
        let result = use_case(MockInventoryRepository::new(), catalog)
            .execute(&admin(), product_id(), Quantity::new(1).unwrap())
            .await;
        assert!(matches!(
            result,
            Err(CreateInventoryError::ProductNotFound(_))
        ));
    }

    #[tokio::test]
    async fn an_unavailable_catalog_is_reported_as_such() {
        let mut catalog = MockProductCatalog::new();
        catalog.expect_find_product().returning(|_| {
            Err(CatalogError::Unavailable(anyhow::anyhow!(
                "connection refused"
            )))
        });
        let result = use_case(MockInventoryRepository::new(), catalog)
            .execute(&admin(), product_id(), Quantity::new(1).unwrap())
            .await;
        assert!(matches!(
            result,
            Err(CreateInventoryError::CatalogUnavailable(_))
        ));
    }

    #[tokio::test]
    async fn a_second_record_conflicts() {
        let mut catalog = MockProductCatalog::new();
        catalog
            .expect_find_product()
            .returning(|_| Ok(Some(product())));
        let mut inventory = MockInventoryRepository::new();
        inventory
            .expect_create()
            .returning(|item| Err(InventoryRepositoryError::AlreadyExists(item.product_id())));
        let result = use_case(inventory, catalog)
            .execute(&admin(), product_id(), Quantity::new(1).unwrap())
            .await;
        assert!(matches!(
            result,
            Err(CreateInventoryError::AlreadyExists(_))
        ));
    }

    #[tokio::test]
    async fn customers_cannot_create_stock() {
        let result = use_case(MockInventoryRepository::new(), MockProductCatalog::new())
            .execute(&customer(), product_id(), Quantity::new(1).unwrap())
            .await;
        assert!(matches!(
            result,
            Err(CreateInventoryError::Denied(AccessDenied::Forbidden))
        ));
    }
}
