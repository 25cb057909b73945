use std::sync::Arc;

use emporium_domain::catalog::{Category, CategoryRepository};
use emporium_domain::{Page, PageRequest};

/// Lists categories by name, paged. Public.
pub struct ListCategories {
    categories: Arc<dyn CategoryRepository>,
}

/// Failures of [`ListCategories`].
#[derive(Debug, thiserror::Error)]
pub enum ListCategoriesError {
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ListCategories {
    /// The use case over its port.
    pub fn new(categories: Arc<dyn CategoryRepository>) -> Self {
        Self { categories }
    }

    /// One page of categories.
    pub async fn execute(&self, page: PageRequest) -> Result<Page<Category>, ListCategoriesError> {
        Ok(self
            .categories
            .list(page)
            .await
            .map_err(|e| anyhow::Error::new(e).context("listing categories"))?)
    }
}
