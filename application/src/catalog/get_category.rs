use std::sync::Arc;

use emporium_domain::catalog::{Category, CategoryId, CategoryRepository};

use crate::failure::{Failure, UseCaseError};

/// Reads one category. Public.
pub struct GetCategory {
    categories: Arc<dyn CategoryRepository>,
}

/// Failures of [`GetCategory`].
#[derive(Debug, thiserror::Error)]
pub enum GetCategoryError {
    /// No such category.
    #[error("There is no category with id {0}.")]
    NotFound(CategoryId),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for GetCategoryError {
    fn failure(&self) -> Failure {
        match self {
            Self::NotFound(_) => Failure::not_found(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
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
