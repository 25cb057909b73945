use std::sync::Arc;

use emporium_domain::catalog::{
    ProductId, ProductRepository, ProductStock, ProductStockError, StockRemoval,
};
use emporium_domain::inventory::Quantity;
use emporium_domain::{AccessDenied, Actor, Cache};

use super::cache::forget_product;
use crate::failure::{Failure, UseCaseError};

/// Deletes a product with its stock record, unless some of its stock is reserved for
/// orders. Admins and services.
///
/// The stock record goes first, in one conditional delete (refused while units are
/// reserved), then the product: a failure in between leaves a product without stock
/// record — never stock of a product that no longer exists.
pub struct DeleteProduct {
    products: Arc<dyn ProductRepository>,
    stock: Arc<dyn ProductStock>,
    cache: Arc<dyn Cache>,
}

/// Failures of [`DeleteProduct`].
#[derive(Debug, thiserror::Error)]
pub enum DeleteProductError {
    /// The actor may not manage the catalog.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such product.
    #[error("There is no product with id {0}.")]
    NotFound(ProductId),
    /// Stock of the product is reserved for orders.
    #[error("{reserved} units of this product are reserved for orders; it cannot be deleted.")]
    StockReserved {
        /// Units reserved.
        reserved: Quantity,
    },
    /// Inventory could not be asked to remove the stock record, so nothing was deleted.
    #[error(transparent)]
    InventoryUnavailable(ProductStockError),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for DeleteProductError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::StockReserved { .. } => Failure::conflict("stock_reserved"),
            Self::InventoryUnavailable(_) => Failure::unavailable(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl DeleteProduct {
    /// The use case over its ports.
    pub fn new(
        products: Arc<dyn ProductRepository>,
        stock: Arc<dyn ProductStock>,
        cache: Arc<dyn Cache>,
    ) -> Self {
        Self {
            products,
            stock,
            cache,
        }
    }

    /// Deletes the product and its stock record.
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
            .remove(id)
            .await
            .map_err(DeleteProductError::InventoryUnavailable)?
        {
            StockRemoval::Reserved(reserved) => {
                return Err(DeleteProductError::StockReserved { reserved });
            }
            StockRemoval::Removed | StockRemoval::NoRecord => {}
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
    use emporium_domain::catalog::{MockProductRepository, MockProductStock};

    fn existing() -> MockProductRepository {
        let mut products = MockProductRepository::new();
        products.expect_get().returning(|_| Ok(Some(product(1))));
        products
    }

    #[tokio::test]
    async fn refuses_when_stock_is_reserved() {
        let mut stock = MockProductStock::new();
        stock
            .expect_remove()
            .returning(|_| Ok(StockRemoval::Reserved(Quantity::new(3).unwrap())));
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
        let mut stock = MockProductStock::new();
        stock
            .expect_remove()
            .times(1)
            .returning(|_| Ok(StockRemoval::Removed));
        let mut cache = MockCache::new();
        cache.expect_delete().times(2).returning(|_| Ok(()));
        let uc = DeleteProduct::new(Arc::new(products), Arc::new(stock), Arc::new(cache));
        uc.execute(&Actor::Service, product(1).id).await.unwrap();
    }

    #[tokio::test]
    async fn refuses_when_inventory_cannot_be_asked() {
        let mut stock = MockProductStock::new();
        stock
            .expect_remove()
            .returning(|_| Err(ProductStockError::Unavailable(anyhow::anyhow!("timeout"))));
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
            Arc::new(MockProductStock::new()),
            Arc::new(MockCache::new()),
        );
        let result = uc.execute(&admin(), product(1).id).await;
        assert!(matches!(result, Err(DeleteProductError::NotFound(_))));
    }

    #[tokio::test]
    async fn anonymous_callers_must_authenticate() {
        let uc = DeleteProduct::new(
            Arc::new(MockProductRepository::new()),
            Arc::new(MockProductStock::new()),
            Arc::new(MockCache::new()),
        );
        let result = uc.execute(&Actor::Anonymous, product(1).id).await;
        assert!(matches!(
            result,
            Err(DeleteProductError::Denied(AccessDenied::Unauthenticated))
        ));
    }
}
