//! Ports of the catalog: product and category storage, the product lookup other
//! services make, and the stock lookup the catalog makes before deleting a product.

use async_trait::async_trait;

use super::category::{Category, CategoryId, CategoryName, Slug};
use super::product::{Product, ProductId};
use super::values::Sku;
use crate::inventory::Quantity;
use crate::pagination::{Page, PageRequest, SortDirection};

/// Fields a product list can be sorted by. Ties are always broken by id, so paging
/// is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSortField {
    /// By name.
    Name,
    /// By price.
    Price,
    /// By SKU.
    Sku,
    /// By creation time.
    CreatedAt,
    /// By last change.
    UpdatedAt,
}

/// One sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductSort {
    /// The field.
    pub field: ProductSortField,
    /// The direction.
    pub direction: SortDirection,
}

/// What to list: a page, sort keys (empty means oldest first), and filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductListQuery {
    /// Which page.
    pub page: PageRequest,
    /// Sort keys, most significant first.
    pub sort: Vec<ProductSort>,
    /// Only products in this category.
    pub category: Option<CategoryId>,
    /// Only products whose name, description or SKU contains this text,
    /// case-insensitively.
    pub search: Option<String>,
}

/// Failures of [`ProductRepository`].
#[derive(Debug, thiserror::Error)]
pub enum ProductRepositoryError {
    /// Another product already has this SKU.
    #[error("a product with SKU {0} already exists")]
    DuplicateSku(Sku),
    /// The referenced category does not exist.
    #[error("category {0} does not exist")]
    UnknownCategory(CategoryId),
    /// The product to update does not exist.
    #[error("product {0} not found")]
    NotFound(ProductId),
    /// The store failed (unreachable, timed out, corrupt row, …).
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores products.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Inserts a new product.
    /// Errors: `DuplicateSku`, `UnknownCategory`, `Unexpected`.
    async fn insert(&self, product: &Product) -> Result<(), ProductRepositoryError>;
    /// The product with this id, if any. Errors: `Unexpected`.
    async fn get(&self, id: ProductId) -> Result<Option<Product>, ProductRepositoryError>;
    /// A page of products matching `query`. Errors: `Unexpected`.
    async fn list(&self, query: &ProductListQuery)
    -> Result<Page<Product>, ProductRepositoryError>;
    /// Replaces the stored product with the same id.
    /// Errors: `NotFound`, `DuplicateSku`, `UnknownCategory`, `Unexpected`.
    async fn update(&self, product: &Product) -> Result<(), ProductRepositoryError>;
    /// Deletes the product; `false` when there was none. Errors: `Unexpected`.
    async fn delete(&self, id: ProductId) -> Result<bool, ProductRepositoryError>;
    /// Checks that the store answers (readiness probes). Errors: `Unexpected`.
    async fn ping(&self) -> Result<(), ProductRepositoryError>;
}

/// Failures of [`CategoryRepository`].
#[derive(Debug, thiserror::Error)]
pub enum CategoryRepositoryError {
    /// Another category already has this name.
    #[error("a category named {0} already exists")]
    DuplicateName(CategoryName),
    /// Another category already has this slug.
    #[error("a category with slug {0} already exists")]
    DuplicateSlug(Slug),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores categories.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CategoryRepository: Send + Sync {
    /// Inserts a new category. Errors: `DuplicateName`, `DuplicateSlug`, `Unexpected`.
    async fn insert(&self, category: &Category) -> Result<(), CategoryRepositoryError>;
    /// The category with this id, if any. Errors: `Unexpected`.
    async fn get(&self, id: CategoryId) -> Result<Option<Category>, CategoryRepositoryError>;
    /// A page of categories, ordered by name. Errors: `Unexpected`.
    async fn list(&self, page: PageRequest) -> Result<Page<Category>, CategoryRepositoryError>;
}

/// Failures of [`ProductCatalog`].
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalog could not be asked (down, timed out, refused our credentials, …).
    #[error("product catalog unavailable: {0:#}")]
    Unavailable(#[source] anyhow::Error),
}

/// The lookup other parts of the shop (inventory, later carts and orders) make of the
/// catalog: in-process in the all-in-one server, over HTTP between services.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ProductCatalog: Send + Sync {
    /// The product with this id, `None` when the catalog has no such product.
    /// Errors: `Unavailable`.
    async fn find_product(&self, id: ProductId) -> Result<Option<Product>, CatalogError>;
}

/// Failures of [`StockLookup`].
#[derive(Debug, thiserror::Error)]
pub enum StockLookupError {
    /// Inventory could not be asked.
    #[error("inventory unavailable: {0:#}")]
    Unavailable(#[source] anyhow::Error),
}

/// The lookup the catalog makes of inventory before it deletes a product.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait StockLookup: Send + Sync {
    /// How much of the product's stock is reserved; `None` when it has no stock record.
    /// Errors: `Unavailable`.
    async fn reserved_quantity(&self, id: ProductId) -> Result<Option<Quantity>, StockLookupError>;
}
