use std::sync::Arc;

use emporium_domain::catalog::{
    Category, CategoryId, CategoryName, CategoryRepository, CategoryRepositoryError, Slug,
};
use emporium_domain::{AccessDenied, Actor};

use crate::failure::{Failure, UseCaseError};

/// A change to a category: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryChanges {
    /// New name.
    pub name: Option<CategoryName>,
    /// New URL key.
    pub slug: Option<Slug>,
}

/// Renames a category or changes its slug. Admins and services.
pub struct UpdateCategory {
    categories: Arc<dyn CategoryRepository>,
}

/// Failures of [`UpdateCategory`].
#[derive(Debug, thiserror::Error)]
pub enum UpdateCategoryError {
    /// The actor may not manage the catalog.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such category.
    #[error("There is no category with id {0}.")]
    NotFound(CategoryId),
    /// Another category has this name.
    #[error("A category named \"{0}\" already exists.")]
    DuplicateName(CategoryName),
    /// Another category has this slug.
    #[error("A category with slug \"{0}\" already exists.")]
    DuplicateSlug(Slug),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for UpdateCategoryError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound(_) => Failure::not_found(),
            Self::DuplicateName(_) => Failure::conflict("duplicate_name").on_value("name"),
            Self::DuplicateSlug(_) => Failure::conflict("duplicate_slug").on_value("slug"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl UpdateCategory {
    /// The use case over its port.
    pub fn new(categories: Arc<dyn CategoryRepository>) -> Self {
        Self { categories }
    }

    /// Applies `changes` and returns the category as stored. The slug stays as it was
    /// unless given: links to a category survive a rename.
    #[tracing::instrument(name = "update_category", skip_all, fields(category_id = %id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        id: CategoryId,
        changes: CategoryChanges,
    ) -> Result<Category, UpdateCategoryError> {
        actor.ensure_can_manage_catalog()?;
        let mut category = self
            .categories
            .get(id)
            .await
            .map_err(|e| anyhow::Error::new(e).context("reading the category to update"))?
            .ok_or(UpdateCategoryError::NotFound(id))?;
        if changes == CategoryChanges::default() {
            return Ok(category);
        }
        if let Some(name) = changes.name {
            category.name = name;
        }
        if let Some(slug) = changes.slug {
            category.slug = slug;
        }
        self.categories
            .update(&category)
            .await
            .map_err(|error| match error {
                CategoryRepositoryError::NotFound(id) => UpdateCategoryError::NotFound(id),
                CategoryRepositoryError::DuplicateName(name) => {
                    UpdateCategoryError::DuplicateName(name)
                }
                CategoryRepositoryError::DuplicateSlug(slug) => {
                    UpdateCategoryError::DuplicateSlug(slug)
                }
                other => anyhow::Error::new(other)
                    .context("storing the category")
                    .into(),
            })?;
        tracing::info!("category updated");
        Ok(category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use emporium_domain::catalog::MockCategoryRepository;

    fn stored() -> Category {
        category(4, "Cups")
    }

    #[tokio::test]
    async fn renames_and_keeps_the_slug() {
        let mut categories = MockCategoryRepository::new();
        categories.expect_get().returning(|_| Ok(Some(stored())));
        categories
            .expect_update()
            .withf(|c| c.name.as_str() == "Mugs" && c.slug.as_str() == "cups")
            .times(1)
            .returning(|_| Ok(()));
        let changes = CategoryChanges {
            name: Some(CategoryName::new("Mugs").unwrap()),
            slug: None,
        };
        let updated = UpdateCategory::new(Arc::new(categories))
            .execute(&admin(), stored().id, changes)
            .await
            .unwrap();
        assert_eq!(updated.name.as_str(), "Mugs");
    }

    #[tokio::test]
    async fn an_empty_change_writes_nothing() {
        let mut categories = MockCategoryRepository::new();
        categories.expect_get().returning(|_| Ok(Some(stored())));
        let unchanged = UpdateCategory::new(Arc::new(categories))
            .execute(&Actor::Service, stored().id, CategoryChanges::default())
            .await
            .unwrap();
        assert_eq!(unchanged, stored());
    }

    #[tokio::test]
    async fn duplicates_and_denials_are_reported() {
        let mut categories = MockCategoryRepository::new();
        categories.expect_get().returning(|_| Ok(Some(stored())));
        categories
            .expect_update()
            .returning(|c| Err(CategoryRepositoryError::DuplicateSlug(c.slug.clone())));
        let uc = UpdateCategory::new(Arc::new(categories));
        let changes = CategoryChanges {
            name: None,
            slug: Some(Slug::new("mugs").unwrap()),
        };
        assert!(matches!(
            uc.execute(&admin(), stored().id, changes.clone()).await,
            Err(UpdateCategoryError::DuplicateSlug(_))
        ));
        assert!(matches!(
            uc.execute(&customer(), stored().id, changes).await,
            Err(UpdateCategoryError::Denied(AccessDenied::Forbidden))
        ));
    }
}
