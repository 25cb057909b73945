use std::sync::Arc;

use emporium_domain::catalog::{ProductId, ProductRepository, StockLookup, StockLookupError};
use emporium_domain::inventory::Quantity;
use emporium_domain::{AccessDenied, Actor, Cache};

use super::cache::forget_product;

/// Deletes a product, unless some of its stock is reserved for orders. Admins and
/// services. The product's stock record, if any, is left to inventory.
pub struct DeleteProduct {
    products: Arc<dyn ProductRepository>,
    stock: Arc<dyn StockLookup>,
    cache: Arc<dyn Cache>,
}

/// Failures of [`DeleteProduct`].
#[derive(Debug, thiserror::Error)]
pub enum DeleteProductError {
    /// The actor may not manage the catalog.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such product.
    #[error("product {0} not found")]
    NotFound(ProductId),
    /// Stock of the product is reserved for orders.
    #[error("{reserved} units of the product are reserved")]
    StockReserved {
        /// Units reserved.
        reserved: Quantity,
    },
    /// Inventory could not be asked about reserved stock, so nothing was deleted.
    #[error(transparent)]
    InventoryUnavailable(StockLookupError),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl DeleteProduct {
    /// The use case over its ports.
    pub fn new(
        products: Arc<dyn ProductRepository>,
        stock: Arc<dyn StockLookup>,
        cache: Arc<dyn Cache>,
    ) -> Self {
        Self {
            products,
            stock,
            cache,
        }
    }

    /// Deletes the product.
    #[tracing::instrument(name = "delete_product", skip_all, fields(product_id = %id))]
    pub async fn execute(&self, actor: &Actor, id: ProductId) -> Result<(), DeleteProductError> {
        actor.ensure_can_manage_catalog()?;
        let exists = self
            .products
            .get(id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the product to delete"))?
            .is_some();
        if !exists {
            return Err(DeleteProductError::NotFound(id));
        }
        match self
            .stock
            .reserved_quantity(id)
            .await
            .map_err(DeleteProductError::InventoryUnavailable)?
        {
            Some(reserved) if reserved > Quantity::ZERO => {
                return Err(DeleteProductError::StockReserved { reserved });
            }
            _ => {}
        }
        let deleted = self
            .products
            .delete(id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("deleting the product"))?;
        forget_product(self.cache.as_ref(), id).await;
        if !deleted {
            return Err(DeleteProductError::NotFound(id));
        }
        tracing::info!("product deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use emporium_domain::MockCache;
    use emporium_domain::catalog::{MockProductRepository, MockStockLookup};

    fn existing() -> MockProductRepository {
        let mut products = MockProductRepository::new();
        products.expect_get().returning(|_| Ok(Some(product(1))));
        products
    }

    #[tokio::test]
    async fn refuses_when_stock_is_reserved() {
        let mut stock = MockStockLookup::new();
        stock
            .expect_reserved_quantity()
            .returning(|_| Ok(Some(Quantity::new(3).unwrap())));
        let uc = DeleteProduct::new(
            Arc::new(existing()),
            Arc::new(stock),
            Arc::new(MockCache::new()),
        );
        let result = uc.execute(&admin(), product(1).id).await;
        assert!(
            matches!(result, Err(DeleteProductError::StockReserved { reserved }) if reserved.value() == 3)
        );
    }

    #[tokio::test]
    async fn deletes_and_invalidates_when_nothing_is_reserved() {
        let mut products = existing();
        products.expect_delete().times(1).returning(|_| Ok(true));
        let mut stock = MockStockLookup::new();
        stock
            .expect_reserved_quantity()
            .returning(|_| Ok(Some(Quantity::ZERO)));
        let mut cache = MockCache::new();
        cache.expect_delete().times(1).returning(|_| Ok(()));
        let uc = DeleteProduct::new(Arc::new(products), Arc::new(stock), Arc::new(cache));
        uc.execute(&Actor::Service, product(1).id).await.unwrap();
    }

    #[tokio::test]
    async fn refuses_when_inventory_cannot_be_asked() {
        let mut stock = MockStockLookup::new();
        stock
            .expect_reserved_quantity()
            .returning(|_| Err(StockLookupError::Unavailable(anyhow::anyhow!("timeout"))));
        let uc = DeleteProduct::new(
            Arc::new(existing()),
            Arc::new(stock),
            Arc::new(MockCache::new()),
        );
        let result = uc.execute(&admin(), product(1).id).await;
        assert!(matches!(
            result,
            Err(DeleteProductError::InventoryUnavailable(_))
        ));
    }

    #[tokio::test]
    async fn missing_product_is_not_found() {
        let mut products = MockProductRepository::new();
        products.expect_get().returning(|_| Ok(None));
        let uc = DeleteProduct::new(
            Arc::new(products),
            Arc::new(MockStockLookup::new()),
            Arc::new(MockCache::new()),
        );
        let result = uc.execute(&admin(), product(1).id).await;
        assert!(matches!(result, Err(DeleteProductError::NotFound(_))));
    }

    #[tokio::test]
    async fn anonymous_callers_must_authenticate() {
        let uc = DeleteProduct::new(
            Arc::new(MockProductRepository::new()),
            Arc::new(MockStockLookup::new()),
            Arc::new(MockCache::new()),
        );
        let result = uc.execute(&Actor::Anonymous, product(1).id).await;
        assert!(matches!(
            result,
            Err(DeleteProductError::Denied(AccessDenied::Unauthenticated))
        ));
    }
}
