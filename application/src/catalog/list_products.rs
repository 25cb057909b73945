use std::sync::Arc;

use emporium_domain::Page;
use emporium_domain::catalog::{Product, ProductListQuery, ProductRepository};

/// Lists products: paged, sorted, filtered by category and text. Public.
pub struct ListProducts {
    products: Arc<dyn ProductRepository>,
}

/// Failures of [`ListProducts`].
#[derive(Debug, thiserror::Error)]
pub enum ListProductsError {
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ListProducts {
    /// The use case over its port.
    pub fn new(products: Arc<dyn ProductRepository>) -> Self {
        Self { products }
    }

    /// One page of products matching `query`.
    pub async fn execute(
        &self,
        query: &ProductListQuery,
    ) -> Result<Page<Product>, ListProductsError> {
        Ok(self
            .products
            .list(query)
            .await
            .map_err(|e| anyhow::Error::new(e).context("listing products"))?)
    }
}
