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

/// The cache key of one product as an edge rendered it (see
/// [`GetProduct::rendered`](super::GetProduct::rendered)); forgotten with the product.
pub fn rendered_product_cache_key(id: ProductId) -> String {
    format!("emporium:product:v1:{id}:rendered")
}

/// A rendering as cached: the edge's `shape` tag, a newline, the bytes. `None` when
/// the entry was rendered in another shape (by an older or newer edge).
pub(crate) fn rendering_of<'b>(entry: &'b [u8], shape: &str) -> Option<&'b [u8]> {
    let rest = entry.strip_prefix(shape.as_bytes())?;
    rest.strip_prefix(b"\n")
}

/// The cache entry of `rendering` in `shape`.
pub(crate) fn rendering_entry(shape: &str, rendering: &[u8]) -> Vec<u8> {
    let mut entry = Vec::with_capacity(shape.len() + 1 + rendering.len());
    entry.extend_from_slice(shape.as_bytes());
    entry.push(b'\n');
    entry.extend_from_slice(rendering);
    entry
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
    for key in [product_cache_key(id), rendered_product_cache_key(id)] {
        if let Err(error) = cache.delete(&key).await {
            tracing::warn!(product_id = %id, %error, key, "product cache invalidation failed; entry expires with its TTL");
        }
    }
}
