use std::sync::Arc;

use emporium_domain::Cache;
use emporium_domain::catalog::{
    Category, CategoryRepository, Product, ProductId, ProductRepository,
};

use super::cache::{cache_product, cached_product};

use crate::failure::{Failure, UseCaseError};

/// Reads one product through the cache: a hit is served from the cache; a miss (or a
/// cache that errors or is down) reads the repository and fills the cache for
/// [`PRODUCT_CACHE_TTL`](super::PRODUCT_CACHE_TTL). The cache never fails a request.
/// With `include_category`, the product's category comes along. Public.
pub struct GetProduct {
    products: Arc<dyn ProductRepository>,
    categories: Arc<dyn CategoryRepository>,
    cache: Arc<dyn Cache>,
}

/// A product and, when asked for, its category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductView {
    /// The product.
    pub product: Product,
    /// Its category, when asked for and it has one.
    pub category: Option<Category>,
}

/// Failures of [`GetProduct`].
#[derive(Debug, thiserror::Error)]
pub enum GetProductError {
    /// No such product.
    #[error("There is no product with id {0}.")]
    NotFound(ProductId),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for GetProductError {
    fn failure(&self) -> Failure {
        match self {
            Self::NotFound(_) => Failure::not_found(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl GetProduct {
    /// The use case over its ports.
    pub fn new(
        products: Arc<dyn ProductRepository>,
        categories: Arc<dyn CategoryRepository>,
        cache: Arc<dyn Cache>,
    ) -> Self {
        Self {
            products,
            categories,
            cache,
        }
    }

    /// The product with this id, with its category when `include_category`.
    pub async fn execute(
        &self,
        id: ProductId,
        include_category: bool,
    ) -> Result<ProductView, GetProductError> {
        let product = self.product(id).await?;
        let category = match product.category_id {
            Some(category_id) if include_category => self
                .categories
                .get(category_id)
                .await
                .map_err(|e| anyhow::Error::new(e).context("reading the product's category"))?,
            _ => None,
        };
        Ok(ProductView { product, category })
    }

    async fn product(&self, id: ProductId) -> Result<Product, GetProductError> {
        if let Some(product) = cached_product(self.cache.as_ref(), id).await {
            return Ok(product);
        }
        let product = self
            .products
            .get(id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the product"))?
            .ok_or(GetProductError::NotFound(id))?;
        cache_product(self.cache.as_ref(), &product).await;
        Ok(product)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::product_cache_key;
    use crate::catalog::test_support::*;
    use emporium_domain::catalog::{MockCategoryRepository, MockProductRepository};
    use emporium_domain::{CacheError, MockCache};

    #[tokio::test]
    async fn a_hit_does_not_touch_the_repository() {
        let stored = product(1);
        let bytes = serde_json::to_vec(&stored).unwrap();
        let mut cache = MockCache::new();
        cache
            .expect_get()
            .withf(move |key| key == product_cache_key(ProductId(uuid::Uuid::from_u128(1))))
            .returning(move |_| Ok(Some(bytes.clone())));
        let products = MockProductRepository::new(); // any call would panic
        let found = GetProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(cache),
        )
        .execute(stored.id, false)
        .await
        .unwrap();
        assert_eq!(found.product, stored);
    }

    #[tokio::test]
    async fn a_miss_reads_the_repository_and_fills_the_cache_for_300_seconds() {
        let stored = product(1);
        let mut cache = MockCache::new();
        cache.expect_get().returning(|_| Ok(None));
        cache
            .expect_set()
            .withf(|_, _, ttl| ttl.as_secs() == 300)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut products = MockProductRepository::new();
        let copy = stored.clone();
        products
            .expect_get()
            .times(1)
            .returning(move |_| Ok(Some(copy.clone())));
        let found = GetProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(cache),
        )
        .execute(stored.id, false)
        .await
        .unwrap();
        assert_eq!(found.product, stored);
    }

    #[tokio::test]
    async fn a_failing_cache_falls_back_to_the_repository() {
        let stored = product(1);
        let mut cache = MockCache::new();
        cache
            .expect_get()
            .returning(|_| Err(CacheError(anyhow::anyhow!("connection refused"))));
        cache
            .expect_set()
            .returning(|_, _, _| Err(CacheError(anyhow::anyhow!("connection refused"))));
        let mut products = MockProductRepository::new();
        let copy = stored.clone();
        products
            .expect_get()
            .returning(move |_| Ok(Some(copy.clone())));
        let found = GetProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(cache),
        )
        .execute(stored.id, false)
        .await
        .unwrap();
        assert_eq!(found.product, stored);
    }

    #[tokio::test]
    async fn a_corrupt_cache_entry_is_ignored() {
        let stored = product(1);
        let mut cache = MockCache::new();
        cache
            .expect_get()
            .returning(|_| Ok(Some(b"{not json".to_vec())));
        cache.expect_set().returning(|_, _, _| Ok(()));
        let mut products = MockProductRepository::new();
        let copy = stored.clone();
        products
            .expect_get()
            .returning(move |_| Ok(Some(copy.clone())));
        let uc = GetProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(cache),
        );
        assert_eq!(uc.execute(stored.id, false).await.unwrap().product, stored);
    }

    #[tokio::test]
    async fn the_category_comes_along_only_when_asked() {
        let mut stored = product(1);
        stored.category_id = Some(category(4, "Cups").id);
        let bytes = serde_json::to_vec(&stored).unwrap();
        let mut cache = MockCache::new();
        cache
            .expect_get()
            .returning(move |_| Ok(Some(bytes.clone())));
        let mut categories = MockCategoryRepository::new();
        categories
            .expect_get()
            .times(1)
            .returning(|_| Ok(Some(category(4, "Cups"))));
        let uc = GetProduct::new(
            Arc::new(MockProductRepository::new()),
            Arc::new(categories),
            Arc::new(cache),
        );
        assert_eq!(uc.execute(stored.id, false).await.unwrap().category, None);
        let view = uc.execute(stored.id, true).await.unwrap();
        assert_eq!(view.category.unwrap().name.as_str(), "Cups");
    }

    #[tokio::test]
    async fn missing_product_is_not_found_and_not_cached() {
        let mut cache = MockCache::new();
        cache.expect_get().returning(|_| Ok(None));
        let mut products = MockProductRepository::new();
        products.expect_get().returning(|_| Ok(None));
        let result = GetProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(cache),
        )
        .execute(ProductId(uuid::Uuid::from_u128(5)), true)
        .await;
        assert!(matches!(result, Err(GetProductError::NotFound(_))));
    }
}
