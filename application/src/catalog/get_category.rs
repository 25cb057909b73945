use std::sync::Arc;

use emporium_domain::catalog::{Category, CategoryId, CategoryRepository};

/// Reads one category. Public.
pub struct GetCategory {
    categories: Arc<dyn CategoryRepository>,
}

/// Failures of [`GetCategory`].
#[derive(Debug, thiserror::Error)]
pub enum GetCategoryError {
    /// No such category.
    #[error("category {0} not found")]
    NotFound(CategoryId),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl GetCategory {
    /// The use case over its port.
    pub fn new(categories: Arc<dyn CategoryRepository>) -> Self {
        Self { categories }
    }

    /// The category with this id.
    pub async fn execute(&self, id: CategoryId) -> Result<Category, GetCategoryError> {
        self.categories
            .get(id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the category"))?
            .ok_or(GetCategoryError::NotFound(id))
    }
}
