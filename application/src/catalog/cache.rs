//! The product read-through cache: key scheme, TTL, and best-effort helpers that log
//! cache failures instead of failing the request.

use std::time::Duration;

use emporium_domain::Cache;
use emporium_domain::catalog::{Product, ProductId};

/// How long a cached product may be served: 300 s.
pub const PRODUCT_CACHE_TTL: Duration = Duration::from_secs(300);

/// The cache key of one product. Versioned, so a change of the cached shape never
/// reads an old entry.
pub fn product_cache_key(id: ProductId) -> String {
    format!("emporium:product:v1:{id}")
}

/// The cached product, or `None` on a miss, an unreadable entry or a cache failure
/// (logged): the caller then reads the repository.
pub(crate) async fn cached_product(cache: &dyn Cache, id: ProductId) -> Option<Product> {
    match cache.get(&product_cache_key(id)).await {
        Ok(Some(bytes)) => match serde_json::from_slice(&bytes) {
            Ok(product) => Some(product),
            Err(error) => {
                tracing::warn!(product_id = %id, %error, "unreadable product cache entry; ignoring it");
                None
            }
        },
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(product_id = %id, %error, "product cache read failed; using the repository");
            None
        }
    }
}

/// Stores `product` in the cache; failures are logged and otherwise ignored.
pub(crate) async fn cache_product(cache: &dyn Cache, product: &Product) {
    let bytes = match serde_json::to_vec(product) {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(product_id = %product.id, %error, "could not serialise product for the cache");
            return;
        }
    };
    if let Err(error) = cache
        .set(&product_cache_key(product.id), &bytes, PRODUCT_CACHE_TTL)
        .await
    {
        tracing::warn!(product_id = %product.id, %error, "product cache write failed");
    }
}

/// Removes a product from the cache; failures are logged (the entry then expires
/// within [`PRODUCT_CACHE_TTL`]).
pub(crate) async fn forget_product(cache: &dyn Cache, id: ProductId) {
    if let Err(error) = cache.delete(&product_cache_key(id)).await {
        tracing::warn!(product_id = %id, %error, "product cache invalidation failed; entry expires with its TTL");
    }
}
