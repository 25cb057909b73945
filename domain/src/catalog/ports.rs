//! Ports of the catalog: product and category storage, the product lookup other
//! services make, and the stock lookup the catalog makes before deleting a product.

use async_trait::async_trait;

use super::category::{Category, CategoryId, CategoryName, Slug};
use super::product::{Product, ProductId};
use super::values::{SearchText, Sku};
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
    pub search: Option<SearchText>,
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
    /// The store cannot be reached now (connection refused, no free connection,
    /// server gone); the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed (unreachable, timed out, corrupt row, …).
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores products.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Inserts a new product.
    /// Errors: `DuplicateSku`, `UnknownCategory`, `Unavailable`, `Unexpected`.
    async fn insert(&self, product: &Product) -> Result<(), ProductRepositoryError>;
    /// The product with this id, if any. Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, id: ProductId) -> Result<Option<Product>, ProductRepositoryError>;
    /// A page of products matching `query`. Errors: `Unavailable`, `Unexpected`.
    async fn list(&self, query: &ProductListQuery)
    -> Result<Page<Product>, ProductRepositoryError>;
    /// Replaces the stored product with the same id.
    /// Errors: `NotFound`, `DuplicateSku`, `UnknownCategory`, `Unavailable`, `Unexpected`.
    async fn update(&self, product: &Product) -> Result<(), ProductRepositoryError>;
    /// Deletes the product; `false` when there was none. Errors: `Unavailable`, `Unexpected`.
    async fn delete(&self, id: ProductId) -> Result<bool, ProductRepositoryError>;
    /// Checks that the store answers (readiness probes). Errors: `Unavailable`, `Unexpected`.
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
    /// The category to change does not exist.
    #[error("category {0} not found")]
    NotFound(CategoryId),
    /// Products still belong to the category to delete.
    #[error("products belong to category {0}")]
    InUse(CategoryId),
    /// The store cannot be reached now (connection refused, no free connection,
    /// server gone); the same call may succeed later.
    #[error("the store cannot be reached")]
    Unavailable(#[from] crate::Unavailable),
    /// The store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Stores categories.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CategoryRepository: Send + Sync {
    /// Inserts a new category. Errors: `DuplicateName`, `DuplicateSlug`, `Unavailable`, `Unexpected`.
    async fn insert(&self, category: &Category) -> Result<(), CategoryRepositoryError>;
    /// The category with this id, if any. Errors: `Unavailable`, `Unexpected`.
    async fn get(&self, id: CategoryId) -> Result<Option<Category>, CategoryRepositoryError>;
    /// The categories with these ids that exist, in no particular order (one query,
    /// for `include`). Errors: `Unavailable`, `Unexpected`.
    async fn get_many(&self, ids: &[CategoryId]) -> Result<Vec<Category>, CategoryRepositoryError>;
    /// A page of categories, ordered by name. Errors: `Unavailable`, `Unexpected`.
    async fn list(&self, page: PageRequest) -> Result<Page<Category>, CategoryRepositoryError>;
    /// Replaces the stored category with the same id.
    /// Errors: `NotFound`, `DuplicateName`, `DuplicateSlug`, `Unavailable`, `Unexpected`.
    async fn update(&self, category: &Category) -> Result<(), CategoryRepositoryError>;
    /// Deletes the category unless products belong to it (checked by the store in the
    /// same statement, so a product added meanwhile is never orphaned); `false` when
    /// there was none. Errors: `InUse`, `Unavailable`, `Unexpected`.
    async fn delete(&self, id: CategoryId) -> Result<bool, CategoryRepositoryError>;
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

/// Failures of [`ProductStock`].
#[derive(Debug, thiserror::Error)]
pub enum ProductStockError {
    /// Inventory could not be asked.
    #[error("inventory unavailable: {0:#}")]
    Unavailable(#[source] anyhow::Error),
}

/// What removing a product's stock record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockRemoval {
    /// The record existed, had nothing reserved, and is gone.
    Removed,
    /// The product had no stock record.
    NoRecord,
    /// Units are reserved for orders: the record was kept.
    Reserved(Quantity),
}

/// What the catalog asks of inventory when it deletes a product: in-process in the
/// all-in-one server, over HTTP between services.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ProductStock: Send + Sync {
    /// Removes the product's stock record unless some of it is reserved — one atomic,
    /// conditional delete, so a reservation arriving meanwhile is never lost.
    /// Errors: `Unavailable`.
    async fn remove(&self, id: ProductId) -> Result<StockRemoval, ProductStockError>;
}
