use std::sync::Arc;

use emporium_domain::catalog::{
    Category, CategoryId, CategoryName, CategoryRepository, CategoryRepositoryError, Slug,
};
use emporium_domain::{AccessDenied, Actor, Clock, IdGenerator};

use crate::failure::{Failure, UseCaseError};

/// What a caller supplies to create a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCategory {
    /// Display name.
    pub name: CategoryName,
    /// URL key; derived from the name when absent.
    pub slug: Option<Slug>,
}

/// Adds a category. Admins and services.
pub struct CreateCategory {
    categories: Arc<dyn CategoryRepository>,
    ids: Arc<dyn IdGenerator>,
    clock: Arc<dyn Clock>,
}

/// Failures of [`CreateCategory`].
#[derive(Debug, thiserror::Error)]
pub enum CreateCategoryError {
    /// The actor may not manage the catalog.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// Another category has this name.
    #[error("A category named \"{0}\" already exists.")]
    DuplicateName(CategoryName),
    /// Another category has this slug.
    #[error("A category with slug \"{0}\" already exists.")]
    DuplicateSlug(Slug),
    /// No slug was given and none can be derived from the name.
    #[error("No slug can be derived from this name; give one.")]
    SlugRequired,
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for CreateCategoryError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::DuplicateName(_) => Failure::conflict("duplicate_name").on_value("name"),
            Self::DuplicateSlug(_) => Failure::conflict("duplicate_slug").on_value("slug"),
            Self::SlugRequired => Failure::invalid("slug_required").on_value("slug"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl CreateCategory {
    /// The use case over its ports.
    pub fn new(
        categories: Arc<dyn CategoryRepository>,
        ids: Arc<dyn IdGenerator>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            categories,
            ids,
            clock,
        }
    }

    /// Creates the category and returns it.
    #[tracing::instrument(name = "create_category", skip_all, fields(name = %input.name))]
    pub async fn execute(
        &self,
        actor: &Actor,
        input: NewCategory,
    ) -> Result<Category, CreateCategoryError> {
        actor.ensure_can_manage_catalog()?;
        let slug = match input.slug {
            Some(slug) => slug,
            None => Slug::from_name(&input.name).map_err(|_| CreateCategoryError::SlugRequired)?,
        };
        let category = Category {
            id: CategoryId(self.ids.new_id()),
            name: input.name,
            slug,
            created_at: self.clock.now(),
        };
        self.categories
            .insert(&category)
            .await
            .map_err(|error| match error {
                CategoryRepositoryError::DuplicateName(name) => {
                    CreateCategoryError::DuplicateName(name)
                }
                CategoryRepositoryError::DuplicateSlug(slug) => {
                    CreateCategoryError::DuplicateSlug(slug)
                }
                other => anyhow::Error::new(other)
                    .context("inserting the category")
                    .into(),
            })?;
        tracing::info!(category_id = %category.id, "category created");
        Ok(category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use emporium_domain::catalog::MockCategoryRepository;
    use uuid::Uuid;

    fn use_case(categories: MockCategoryRepository) -> CreateCategory {
        CreateCategory::new(Arc::new(categories), ids(Uuid::from_u128(3)), clock())
    }

    #[tokio::test]
    async fn derives_the_slug_from_the_name() {
        let mut categories = MockCategoryRepository::new();
        categories
            .expect_insert()
            .withf(|c| c.slug.as_str() == "coffee-cups")
            .times(1)
            .returning(|_| Ok(()));
        let category = use_case(categories)
            .execute(
                &admin(),
                NewCategory {
                    name: CategoryName::new("Coffee Cups").unwrap(),
                    slug: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(category.id.0, Uuid::from_u128(3));
    }

    #[tokio::test]
    async fn a_name_without_latin_letters_needs_a_slug() {
        let result = use_case(MockCategoryRepository::new())
            .execute(
                &admin(),
                NewCategory {
                    name: CategoryName::new("茶").unwrap(),
                    slug: None,
                },
            )
            .await;
        assert!(matches!(result, Err(CreateCategoryError::SlugRequired)));
    }

    #[tokio::test]
    async fn duplicate_name_is_reported() {
        let mut categories = MockCategoryRepository::new();
        categories
            .expect_insert()
            .returning(|c| Err(CategoryRepositoryError::DuplicateName(c.name.clone())));
        let result = use_case(categories)
            .execute(
                &Actor::Service,
                NewCategory {
                    name: CategoryName::new("Cups").unwrap(),
                    slug: None,
                },
            )
            .await;
        assert!(matches!(result, Err(CreateCategoryError::DuplicateName(_))));
    }

    #[tokio::test]
    async fn customers_cannot_create_categories() {
        let result = use_case(MockCategoryRepository::new())
            .execute(
                &customer(),
                NewCategory {
                    name: CategoryName::new("Cups").unwrap(),
                    slug: None,
                },
            )
            .await;
        assert!(matches!(
            result,
            Err(CreateCategoryError::Denied(AccessDenied::Forbidden))
        ));
    }
}
