//! Catalog use cases: products and categories.

mod cache;
mod create_category;
mod create_product;
mod delete_product;
mod get_category;
mod get_product;
mod list_categories;
mod list_products;
mod update_product;

pub use cache::{PRODUCT_CACHE_TTL, product_cache_key};
pub use create_category::{CreateCategory, CreateCategoryError, NewCategory};
pub use create_product::{CreateProduct, CreateProductError};
pub use delete_product::{DeleteProduct, DeleteProductError};
pub use get_category::{GetCategory, GetCategoryError};
pub use get_product::{GetProduct, GetProductError};
pub use list_categories::{ListCategories, ListCategoriesError};
pub use list_products::{ListProducts, ListProductsError};
pub use update_product::{UpdateProduct, UpdateProductError};

#[cfg(test)]
pub(crate) mod test_support;
