use std::sync::Arc;

use emporium_domain::catalog::{CategoryId, CategoryRepository, CategoryRepositoryError};
use emporium_domain::{AccessDenied, Actor};

use crate::failure::{Failure, UseCaseError};

/// Deletes a category that no product belongs to. Admins and services.
pub struct DeleteCategory {
    categories: Arc<dyn CategoryRepository>,
}

/// Failures of [`DeleteCategory`].
#[derive(Debug, thiserror::Error)]
pub enum DeleteCategoryError {
    /// The actor may not manage the catalog.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such category.
    #[error("There is no category with id {0}.")]
    NotFound(CategoryId),
    /// Products still belong to it.
    #[error("Products still belong to this category; move or delete them first.")]
    InUse(CategoryId),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for DeleteCategoryError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::InUse(_) => Failure::conflict("category_in_use"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl DeleteCategory {
    /// The use case over its port.
    pub fn new(categories: Arc<dyn CategoryRepository>) -> Self {
        Self { categories }
    }

    /// Deletes the category.
    #[tracing::instrument(name = "delete_category", skip_all, fields(category_id = %id))]
    pub async fn execute(&self, actor: &Actor, id: CategoryId) -> Result<(), DeleteCategoryError> {
        actor.ensure_can_manage_catalog()?;
        let deleted = self
            .categories
            .delete(id)
            .await
            .map_err(|error| match error {
                CategoryRepositoryError::InUse(id) => DeleteCategoryError::InUse(id),
                other => anyhow::Error::new(other)
                    .context("deleting the category")
                    .into(),
            })?;
        if !deleted {
            return Err(DeleteCategoryError::NotFound(id));
        }
        tracing::info!("category deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use emporium_domain::catalog::MockCategoryRepository;
    use uuid::Uuid;

    #[tokio::test]
    async fn a_category_in_use_is_kept() {
        let mut categories = MockCategoryRepository::new();
        categories
            .expect_delete()
            .returning(|id| Err(CategoryRepositoryError::InUse(id)));
        let result = DeleteCategory::new(Arc::new(categories))
            .execute(&admin(), CategoryId(Uuid::from_u128(4)))
            .await;
        assert!(matches!(result, Err(DeleteCategoryError::InUse(_))));
    }

    #[tokio::test]
    async fn deletes_or_reports_a_missing_category() {
        let mut categories = MockCategoryRepository::new();
        categories
            .expect_delete()
            .withf(|id| id.0 == Uuid::from_u128(4))
            .returning(|_| Ok(true));
        categories.expect_delete().returning(|_| Ok(false));
        let uc = DeleteCategory::new(Arc::new(categories));
        uc.execute(&Actor::Service, CategoryId(Uuid::from_u128(4)))
            .await
            .unwrap();
        assert!(matches!(
            uc.execute(&admin(), CategoryId(Uuid::from_u128(5))).await,
            Err(DeleteCategoryError::NotFound(_))
        ));
        let denied = DeleteCategory::new(Arc::new(MockCategoryRepository::new()))
            .execute(&customer(), CategoryId(Uuid::from_u128(4)))
            .await;
        assert!(matches!(
            denied,
            Err(DeleteCategoryError::Denied(AccessDenied::Forbidden))
        ));
    }
}
