use std::sync::Arc;

use emporium_domain::catalog::{
    CategoryId, CategoryRepository, Product, ProductChanges, ProductId, ProductRepository,
    ProductRepositoryError, Sku,
};
use emporium_domain::{AccessDenied, Actor, Cache, Clock};

use super::cache::forget_product;

use crate::failure::{Failure, UseCaseError};

/// Changes some fields of a product and drops it from the cache. Admins and services.
pub struct UpdateProduct {
    products: Arc<dyn ProductRepository>,
    categories: Arc<dyn CategoryRepository>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
}

/// Failures of [`UpdateProduct`].
#[derive(Debug, thiserror::Error)]
pub enum UpdateProductError {
    /// The actor may not manage the catalog.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such product.
    #[error("There is no product with id {0}.")]
    NotFound(ProductId),
    /// Another product has this SKU.
    #[error("Another product already has SKU {0}.")]
    DuplicateSku(Sku),
    /// The named category does not exist.
    #[error("There is no category with id {0}.")]
    UnknownCategory(CategoryId),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for UpdateProductError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::DuplicateSku(_) => Failure::conflict("duplicate_sku").on_value("sku"),
            Self::UnknownCategory(_) => super::create_product::unknown_category(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl UpdateProduct {
    /// The use case over its ports.
    pub fn new(
        products: Arc<dyn ProductRepository>,
        categories: Arc<dyn CategoryRepository>,
        cache: Arc<dyn Cache>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            products,
            categories,
            cache,
            clock,
        }
    }

    /// Applies `changes` and returns the product as stored.
    #[tracing::instrument(name = "update_product", skip_all, fields(product_id = %id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        id: ProductId,
        changes: ProductChanges,
    ) -> Result<Product, UpdateProductError> {
        actor.ensure_can_manage_catalog()?;
        let mut product = self
            .products
            .get(id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the product to update"))?
            .ok_or(UpdateProductError::NotFound(id))?;
        if changes.is_empty() {
            return Ok(product);
        }
        if let Some(Some(category_id)) = changes.category_id {
            let found = self
                .categories
                .get(category_id)
                .await
                .map_err(|e| anyhow::Error::new(e).context("looking up the new category"))?;
            if found.is_none() {
                return Err(UpdateProductError::UnknownCategory(category_id));
            }
        }
        product.apply(changes, self.clock.now());
        self.products
            .update(&product)
            .await
            .map_err(|error| match error {
                ProductRepositoryError::NotFound(id) => UpdateProductError::NotFound(id),
                ProductRepositoryError::DuplicateSku(sku) => UpdateProductError::DuplicateSku(sku),
                ProductRepositoryError::UnknownCategory(id) => {
                    UpdateProductError::UnknownCategory(id)
                }
                other => anyhow::Error::new(other)
                    .context("storing the product")
                    .into(),
            })?;
        forget_product(self.cache.as_ref(), id).await;
        tracing::info!("product updated");
        Ok(product)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use emporium_domain::MockCache;
    use emporium_domain::catalog::{MockCategoryRepository, MockProductRepository, Price};

    #[tokio::test]
    async fn updates_and_invalidates_the_cache() {
        let stored = product(1);
        let mut products = MockProductRepository::new();
        let copy = stored.clone();
        products
            .expect_get()
            .returning(move |_| Ok(Some(copy.clone())));
        products
            .expect_update()
            .withf(|p| p.price.to_string() == "9.99")
            .times(1)
            .returning(|_| Ok(()));
        let mut cache = MockCache::new();
        let id = stored.id;
        cache
            .expect_delete()
            .withf(move |key| key == crate::catalog::product_cache_key(id))
            .times(1)
            .returning(|_| Ok(()));
        cache
            .expect_delete()
            .withf(move |key| key == crate::catalog::rendered_product_cache_key(id))
            .times(1)
            .returning(|_| Ok(()));
        let uc = UpdateProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(cache),
            clock(),
        );
        let changes = ProductChanges {
            price: Some(Price::parse("9.99").unwrap()),
            ..Default::default()
        };
        let updated = uc.execute(&admin(), stored.id, changes).await.unwrap();
        assert_eq!(updated.price.to_string(), "9.99");
        assert_eq!(updated.name, stored.name);
    }

    #[tokio::test]
    async fn a_failing_cache_invalidation_does_not_fail_the_update() {
        let stored = product(1);
        let mut products = MockProductRepository::new();
        let copy = stored.clone();
        products
            .expect_get()
            .returning(move |_| Ok(Some(copy.clone())));
        products.expect_update().returning(|_| Ok(()));
        let mut cache = MockCache::new();
        cache
            .expect_delete()
            .returning(|_| Err(emporium_domain::CacheError(anyhow::anyhow!("down"))));
        let uc = UpdateProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(cache),
            clock(),
        );
        assert!(
            uc.execute(&Actor::Service, stored.id, ProductChanges::default())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn an_empty_update_writes_nothing() {
        let stored = product(1);
        let mut products = MockProductRepository::new();
        let copy = stored.clone();
        products
            .expect_get()
            .returning(move |_| Ok(Some(copy.clone())));
        // No expect_update / expect_delete: a write or an invalidation would panic.
        let uc = UpdateProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(MockCache::new()),
            clock(),
        );
        let unchanged = uc
            .execute(&admin(), stored.id, ProductChanges::default())
            .await
            .unwrap();
        assert_eq!(unchanged, stored);
    }

    #[tokio::test]
    async fn customers_cannot_update() {
        let uc = UpdateProduct::new(
            Arc::new(MockProductRepository::new()),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(MockCache::new()),
            clock(),
        );
        let result = uc
            .execute(&customer(), product(1).id, ProductChanges::default())
            .await;
        assert!(matches!(
            result,
            Err(UpdateProductError::Denied(AccessDenied::Forbidden))
        ));
    }

    #[tokio::test]
    async fn missing_product_is_not_found() {
        let mut products = MockProductRepository::new();
        products.expect_get().returning(|_| Ok(None));
        let uc = UpdateProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(MockCache::new()),
            clock(),
        );
        let result = uc
            .execute(&admin(), product(1).id, ProductChanges::default())
            .await;
        assert!(matches!(result, Err(UpdateProductError::NotFound(_))));
    }
}
