use std::sync::Arc;

use emporium_domain::catalog::{CatalogError, Product, ProductCatalog, ProductId};
use emporium_domain::inventory::{InventoryItem, InventoryRepository};

use crate::failure::{Failure, UseCaseError};

/// A stock record, with its product when asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryView {
    /// The stock record.
    pub item: InventoryItem,
    /// The product, when included and still in the catalog.
    pub product: Option<Product>,
}

/// Reads one stock record, optionally with its product. Public.
pub struct GetInventory {
    inventory: Arc<dyn InventoryRepository>,
    catalog: Arc<dyn ProductCatalog>,
}

/// Failures of [`GetInventory`].
#[derive(Debug, thiserror::Error)]
pub enum GetInventoryError {
    /// The product has no stock record.
    #[error("There is no stock record for product {0}.")]
    NotFound(ProductId),
    /// The product was asked for but the catalog could not be asked.
    #[error(transparent)]
    CatalogUnavailable(CatalogError),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for GetInventoryError {
    fn failure(&self) -> Failure {
        match self {
            Self::NotFound(_) => Failure::not_found(),
            Self::CatalogUnavailable(_) => Failure::unavailable(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl GetInventory {
    /// The use case over its ports.
    pub fn new(inventory: Arc<dyn InventoryRepository>, catalog: Arc<dyn ProductCatalog>) -> Self {
        Self { inventory, catalog }
    }

    /// The stock record of `product_id`; with `include_product`, also the product.
    pub async fn execute(
        &self,
        product_id: ProductId,
        include_product: bool,
    ) -> Result<InventoryView, GetInventoryError> {
        let item = self
            .inventory
            .get(product_id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the stock record"))?
            .ok_or(GetInventoryError::NotFound(product_id))?;
        let product = if include_product {
            self.catalog
                .find_product(product_id)
                .await
                .map_err(GetInventoryError::CatalogUnavailable)?
        } else {
            None
        };
        Ok(InventoryView { item, product })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::test_support::*;
    use emporium_domain::catalog::MockProductCatalog;
    use emporium_domain::inventory::MockInventoryRepository;

    #[tokio::test]
    async fn includes_the_product_only_when_asked() {
        let mut inventory = MockInventoryRepository::new();
        inventory.expect_get().returning(|_| Ok(Some(item(5, 1))));
        let mut catalog = MockProductCatalog::new();
        catalog
            .expect_find_product()
            .times(1)
            .returning(|_| Ok(Some(product())));
        let uc = GetInventory::new(Arc::new(inventory), Arc::new(catalog));
        let plain = uc.execute(product_id(), false).await.unwrap();
        assert_eq!(plain.product, None);
        let with_product = uc.execute(product_id(), true).await.unwrap();
        assert_eq!(with_product.product, Some(product()));
        assert_eq!(with_product.item.available().value(), 4);
    }

    #[tokio::test]
    async fn missing_record_is_not_found() {
        let mut inventory = MockInventoryRepository::new();
        inventory.expect_get().returning(|_| Ok(None));
        let uc = GetInventory::new(Arc::new(inventory), Arc::new(MockProductCatalog::new()));
        assert!(matches!(
            uc.execute(product_id(), true).await,
            Err(GetInventoryError::NotFound(_))
        ));
    }
}
