//! Catalog use cases: products and categories, and [`Catalog`], all of them built
//! over one set of ports.

mod cache;
mod create_category;
mod create_product;
mod delete_category;
mod delete_product;
mod get_category;
mod get_product;
mod list_categories;
mod list_products;
mod update_category;
mod update_product;

use std::sync::Arc;

use emporium_domain::catalog::{CategoryRepository, ProductRepository, ProductStock};
use emporium_domain::{Cache, Clock, IdGenerator};

pub use cache::{PRODUCT_CACHE_TTL, product_cache_key, rendered_product_cache_key};
pub use create_category::{CreateCategory, CreateCategoryError, NewCategory};
pub use create_product::{CreateProduct, CreateProductError};
pub use delete_category::{DeleteCategory, DeleteCategoryError};
pub use delete_product::{DeleteProduct, DeleteProductError};
pub use get_category::{GetCategory, GetCategoryError};
pub use get_product::{GetProduct, GetProductError, ProductView};
pub use list_categories::{ListCategories, ListCategoriesError};
pub use list_products::{ListProducts, ListProductsError, ProductList};
pub use update_category::{CategoryChanges, UpdateCategory, UpdateCategoryError};
pub use update_product::{UpdateProduct, UpdateProductError};

#[cfg(test)]
pub(crate) mod test_support;

/// The ports the catalog's use cases drive.
#[derive(Clone)]
pub struct CatalogPorts {
    /// Product storage.
    pub products: Arc<dyn ProductRepository>,
    /// Category storage.
    pub categories: Arc<dyn CategoryRepository>,
    /// The read-through product cache.
    pub cache: Arc<dyn Cache>,
    /// Inventory, asked to remove a product's stock record before it is deleted.
    pub stock: Arc<dyn ProductStock>,
    /// New ids.
    pub ids: Arc<dyn IdGenerator>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// Every catalog use case, over one set of ports: what a driving adapter (the HTTP
/// edge, an embedding application) holds.
pub struct Catalog {
    /// Adds a product.
    pub create_product: CreateProduct,
    /// Reads a product (through the cache), optionally with its category.
    pub get_product: GetProduct,
    /// Lists products, optionally with their categories.
    pub list_products: ListProducts,
    /// Changes a product.
    pub update_product: UpdateProduct,
    /// Deletes a product and its stock record.
    pub delete_product: DeleteProduct,
    /// Adds a category.
    pub create_category: CreateCategory,
    /// Reads a category.
    pub get_category: GetCategory,
    /// Lists categories.
    pub list_categories: ListCategories,
    /// Renames a category or changes its slug.
    pub update_category: UpdateCategory,
    /// Deletes an unused category.
    pub delete_category: DeleteCategory,
}

impl Catalog {
    /// The use cases over `ports`.
    pub fn new(ports: CatalogPorts) -> Self {
        let CatalogPorts {
            products,
            categories,
            cache,
            stock,
            ids,
            clock,
        } = ports;
        Self {
            create_product: CreateProduct::new(
                products.clone(),
                categories.clone(),
                ids.clone(),
                clock.clone(),
            ),
            get_product: GetProduct::new(products.clone(), categories.clone(), cache.clone()),
            list_products: ListProducts::new(products.clone(), categories.clone()),
            update_product: UpdateProduct::new(
                products.clone(),
                categories.clone(),
                cache.clone(),
                clock.clone(),
            ),
            delete_product: DeleteProduct::new(products, stock, cache),
            create_category: CreateCategory::new(categories.clone(), ids, clock),
            get_category: GetCategory::new(categories.clone()),
            list_categories: ListCategories::new(categories.clone()),
            update_category: UpdateCategory::new(categories.clone()),
            delete_category: DeleteCategory::new(categories),
        }
    }
}
