use std::sync::Arc;

use emporium_domain::Cache;
use emporium_domain::catalog::{
    Category, CategoryRepository, Product, ProductId, ProductRepository,
};

use super::cache::{
    PRODUCT_CACHE_TTL, cache_product, cached_product, rendered_product_cache_key, rendering_entry,
    rendering_of,
};

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

    /// The product `id` as `render` shows it, for an edge that answers the same bytes
    /// to every caller (the plain read of a product): the rendering is cached beside
    /// the product, under the edge's `shape` tag, and forgotten with it when the
    /// product changes or goes, so a hit costs one cache read — no decoding of the
    /// product and no rendering. An entry in another shape (an edge of another
    /// version sharing the cache) counts as a miss and is replaced. Cache failures are
    /// logged and the product is rendered from the repository.
    pub async fn rendered<F>(
        &self,
        id: ProductId,
        shape: &str,
        render: F,
    ) -> Result<Vec<u8>, GetProductError>
    where
        F: FnOnce(Product) -> anyhow::Result<Vec<u8>> + Send,
    {
        let key = rendered_product_cache_key(id);
        match self.cache.get(&key).await {
            Ok(Some(mut entry)) => {
                if let Some(rendering) = rendering_of(&entry, shape) {
                    let start = entry.len() - rendering.len();
                    entry.drain(..start);
                    return Ok(entry);
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(product_id = %id, %error, "rendered product cache read failed; rendering it");
            }
        }
        let product = self.product(id).await?;
        let rendering = render(product)?;
        if let Err(error) = self
            .cache
            .set(&key, &rendering_entry(shape, &rendering), PRODUCT_CACHE_TTL)
            .await
        {
            tracing::warn!(product_id = %id, %error, "rendered product cache write failed");
        }
        Ok(rendering)
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

    fn render(product: Product) -> anyhow::Result<Vec<u8>> {
        Ok(format!("<{}>", product.name.as_str()).into_bytes())
    }

    #[tokio::test]
    async fn a_rendered_hit_in_this_shape_is_answered_as_stored() {
        let stored = product(1);
        let mut cache = MockCache::new();
        cache
            .expect_get()
            .withf(move |key| key == crate::catalog::rendered_product_cache_key(stored.id))
            .returning(|_| Ok(Some(b"shape-2\n<cached>".to_vec())));
        let uc = GetProduct::new(
            Arc::new(MockProductRepository::new()), // any call would panic
            Arc::new(MockCategoryRepository::new()),
            Arc::new(cache),
        );
        let rendered = uc
            .rendered(stored.id, "shape-2", |_| panic!("rendered again"))
            .await
            .unwrap();
        assert_eq!(rendered, b"<cached>");
    }

    #[tokio::test]
    async fn a_rendering_in_another_shape_or_none_is_made_and_stored() {
        let stored = product(1);
        let name = stored.name.as_str().to_owned();
        let copy = stored.clone();
        let mut products = MockProductRepository::new();
        products
            .expect_get()
            .times(2)
            .returning(move |_| Ok(Some(copy.clone())));
        let mut cache = MockCache::new();
        let rendered_key = crate::catalog::rendered_product_cache_key(stored.id);
        let old_shape = rendered_key.clone();
        cache
            .expect_get()
            .withf(move |key| *key == old_shape)
            .times(1)
            .returning(|_| Ok(Some(b"shape-1\n<old>".to_vec())));
        cache
            .expect_get()
            .withf(move |key| key.ends_with(":rendered"))
            .times(1)
            .returning(|_| Ok(None));
        cache.expect_get().returning(|_| Ok(None)); // the product's own entry
        let expected = format!("shape-2\n<{name}>").into_bytes();
        cache
            .expect_set()
            .withf(move |key, value, ttl| {
                key == rendered_key && value == expected && *ttl == PRODUCT_CACHE_TTL
            })
            .times(2)
            .returning(|_, _, _| Ok(()));
        cache.expect_set().returning(|_, _, _| Ok(())); // the product's own entry
        let uc = GetProduct::new(
            Arc::new(products),
            Arc::new(MockCategoryRepository::new()),
            Arc::new(cache),
        );
        for _ in 0..2 {
            let rendered = uc.rendered(stored.id, "shape-2", render).await.unwrap();
            assert_eq!(rendered, format!("<{name}>").into_bytes());
        }
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
