//! The catalog: products and the categories they belong to.

mod category;
mod ports;
mod product;
mod values;

pub use category::{Category, CategoryId, CategoryName, Slug};
pub use ports::{
    CatalogError, CategoryRepository, CategoryRepositoryError, ProductCatalog, ProductListQuery,
    ProductRepository, ProductRepositoryError, ProductSort, ProductSortField, ProductStock,
    ProductStockError, StockRemoval,
};
#[cfg(feature = "mocks")]
pub use ports::{
    MockCategoryRepository, MockProductCatalog, MockProductRepository, MockProductStock,
};
pub use product::{NewProduct, Product, ProductChanges, ProductId};
pub use values::{Description, ImageUrl, Price, ProductName, SearchText, Sku, ValueError};
pub(crate) use values::{string_value, trimmed_with_length};
