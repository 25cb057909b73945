use std::sync::Arc;

use emporium_domain::catalog::{
    CategoryId, CategoryRepository, NewProduct, Product, ProductId, ProductRepository,
    ProductRepositoryError, Sku,
};
use emporium_domain::{AccessDenied, Actor, Clock, IdGenerator};

use crate::failure::{Failure, FailureKind, UseCaseError};

/// Adds a product to the catalog. Admins and services only.
pub struct CreateProduct {
    products: Arc<dyn ProductRepository>,
    categories: Arc<dyn CategoryRepository>,
    ids: Arc<dyn IdGenerator>,
    clock: Arc<dyn Clock>,
}

/// Failures of [`CreateProduct`].
#[derive(Debug, thiserror::Error)]
pub enum CreateProductError {
    /// The actor may not manage the catalog.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// Another product has this SKU.
    #[error("Another product already has SKU {0}.")]
    DuplicateSku(Sku),
    /// The named category does not exist.
    #[error("There is no category with id {0}.")]
    UnknownCategory(CategoryId),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for CreateProductError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::DuplicateSku(_) => Failure::conflict("duplicate_sku").on_value("sku"),
            Self::UnknownCategory(_) => unknown_category(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

/// A product names a category that does not exist.
pub(super) fn unknown_category() -> Failure {
    Failure::new(FailureKind::NotFound, "unknown_category").on_reference("category")
}

impl CreateProduct {
    /// The use case over its ports.
    pub fn new(
        products: Arc<dyn ProductRepository>,
        categories: Arc<dyn CategoryRepository>,
        ids: Arc<dyn IdGenerator>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            products,
            categories,
            ids,
            clock,
        }
    }

    /// Creates the product and returns it as stored.
    #[tracing::instrument(name = "create_product", skip_all, fields(sku = %input.sku))]
    pub async fn execute(
        &self,
        actor: &Actor,
        input: NewProduct,
    ) -> Result<Product, CreateProductError> {
        actor.ensure_can_manage_catalog()?;
        if let Some(category_id) = input.category_id {
            let found =
                self.categories.get(category_id).await.map_err(|e| {
                    anyhow::Error::new(e).context("looking up the product's category")
                })?;
            if found.is_none() {
                return Err(CreateProductError::UnknownCategory(category_id));
            }
        }
        let product = input.into_product(ProductId(self.ids.new_id()), self.clock.now());
        self.products
            .insert(&product)
            .await
            .map_err(|error| match error {
                ProductRepositoryError::DuplicateSku(sku) => CreateProductError::DuplicateSku(sku),
                ProductRepositoryError::UnknownCategory(id) => {
                    CreateProductError::UnknownCategory(id)
                }
                other => anyhow::Error::new(other)
                    .context("inserting the product")
                    .into(),
            })?;
        tracing::info!(product_id = %product.id, "product created");
        Ok(product)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use emporium_domain::catalog::{MockCategoryRepository, MockProductRepository};
    use uuid::Uuid;

    fn use_case(
        products: MockProductRepository,
        categories: MockCategoryRepository,
    ) -> CreateProduct {
        CreateProduct::new(
            Arc::new(products),
            Arc::new(categories),
            ids(Uuid::from_u128(7)),
            clock(),
        )
    }

    #[tokio::test]
    async fn creates_with_generated_id_and_clock_time() {
        let mut products = MockProductRepository::new();
        products
            .expect_insert()
            .withf(|p| p.id.0 == Uuid::from_u128(7) && p.created_at == now())
            .times(1)
            .returning(|_| Ok(()));
        let created = use_case(products, MockCategoryRepository::new())
            .execute(&admin(), new_product())
            .await
            .unwrap();
        assert_eq!(created.id.0, Uuid::from_u128(7));
        assert_eq!(created.updated_at, now());
    }

    #[tokio::test]
    async fn customers_and_anonymous_callers_are_refused_before_any_write() {
        let uc = use_case(MockProductRepository::new(), MockCategoryRepository::new());
        assert!(matches!(
            uc.execute(&customer(), new_product()).await,
            Err(CreateProductError::Denied(AccessDenied::Forbidden))
        ));
        assert!(matches!(
            uc.execute(&Actor::Anonymous, new_product()).await,
            Err(CreateProductError::Denied(AccessDenied::Unauthenticated))
        ));
    }

    #[tokio::test]
    async fn unknown_category_is_refused() {
        let mut categories = MockCategoryRepository::new();
        categories.expect_get().returning(|_| Ok(None));
        let mut input = new_product();
        input.category_id = Some(CategoryId(Uuid::from_u128(9)));
        let result = use_case(MockProductRepository::new(), categories)
            .execute(&Actor::Service, input)
            .await;
        assert!(
            matches!(result, Err(CreateProductError::UnknownCategory(id)) if id.0 == Uuid::from_u128(9))
        );
    }

    #[tokio::test]
    async fn duplicate_sku_is_reported() {
        let mut products = MockProductRepository::new();
        products
            .expect_insert()
            .returning(|p| Err(ProductRepositoryError::DuplicateSku(p.sku.clone())));
        let result = use_case(products, MockCategoryRepository::new())
            .execute(&admin(), new_product())
            .await;
        assert!(
            matches!(result, Err(CreateProductError::DuplicateSku(sku)) if sku.as_str() == "CUP-090")
        );
    }
}
