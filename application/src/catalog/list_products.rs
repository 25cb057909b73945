use std::sync::Arc;

use emporium_domain::Page;
use emporium_domain::catalog::{
    Category, CategoryId, CategoryRepository, Product, ProductListQuery, ProductRepository,
};

use crate::failure::{Failure, UseCaseError};

/// Lists products: paged, sorted, filtered by category and text, with their
/// categories when asked (one batched read, never one per product). Public.
pub struct ListProducts {
    products: Arc<dyn ProductRepository>,
    categories: Arc<dyn CategoryRepository>,
}

/// A page of products and, when asked for, their categories.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductList {
    /// The products.
    pub page: Page<Product>,
    /// The distinct categories of the page's products, when asked for.
    pub categories: Vec<Category>,
}

/// Failures of [`ListProducts`].
#[derive(Debug, thiserror::Error)]
pub enum ListProductsError {
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for ListProductsError {
    fn failure(&self) -> Failure {
        match self {
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

impl ListProducts {
    /// The use case over its ports.
    pub fn new(
        products: Arc<dyn ProductRepository>,
        categories: Arc<dyn CategoryRepository>,
    ) -> Self {
        Self {
            products,
            categories,
        }
    }

    /// One page of products matching `query`, with their categories when
    /// `include_categories`.
    pub async fn execute(
        &self,
        query: &ProductListQuery,
        include_categories: bool,
    ) -> Result<ProductList, ListProductsError> {
        let page = self
            .products
            .list(query)
            .await
            .map_err(|e| anyhow::Error::new(e).context("listing products"))?;
        let mut ids: Vec<CategoryId> = page.items.iter().filter_map(|p| p.category_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let categories = if include_categories && !ids.is_empty() {
            self.categories
                .get_many(&ids)
                .await
                .map_err(|e| anyhow::Error::new(e).context("reading the products' categories"))?
        } else {
            Vec::new()
        };
        Ok(ProductList { page, categories })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use emporium_domain::PageRequest;
    use emporium_domain::catalog::{MockCategoryRepository, MockProductRepository};

    #[tokio::test]
    async fn categories_are_read_once_for_the_whole_page() {
        let cups = category(4, "Cups");
        let mut products = MockProductRepository::new();
        products.expect_list().returning(move |_| {
            let mut items: Vec<Product> = (1..=3).map(product).collect();
            items[0].category_id = Some(cups.id);
            items[1].category_id = Some(cups.id);
            Ok(Page {
                items,
                total: 3,
                request: PageRequest::default(),
            })
        });
        let mut categories = MockCategoryRepository::new();
        categories
            .expect_get_many()
            .withf(|ids| ids.len() == 1)
            .times(1)
            .returning(|_| Ok(vec![category(4, "Cups")]));
        let uc = ListProducts::new(Arc::new(products), Arc::new(categories));
        let list = uc
            .execute(&ProductListQuery::default(), true)
            .await
            .unwrap();
        assert_eq!(list.page.items.len(), 3);
        assert_eq!(list.categories.len(), 1);
    }
}
