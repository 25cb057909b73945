use std::sync::Arc;

use emporium_domain::catalog::{Category, CategoryRepository};
use emporium_domain::{Page, PageRequest};

use crate::failure::{Failure, UseCaseError};

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

impl UseCaseError for ListCategoriesError {
    fn failure(&self) -> Failure {
        match self {
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
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
