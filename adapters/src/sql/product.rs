//! [`ProductRepository`] on sea-orm.

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use emporium_domain::catalog::{
    CategoryId, Description, ImageUrl, Price, Product, ProductId, ProductListQuery, ProductName,
    ProductRepository, ProductRepositoryError, ProductSortField, Sku,
};
use emporium_domain::{Page, SortDirection};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, Order,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use super::entities::product::{self, Column, Entity};
use super::errors::{DbResultExt, Violation, store_error, violation};
use super::migration::names;

/// Stores products in the `products` table (SQLite or PostgreSQL).
///
/// Search is a case-insensitive substring match on name, description and SKU
/// (`ILIKE` on PostgreSQL; `LIKE` on SQLite, which folds case for ASCII letters only).
#[derive(Debug, Clone)]
pub struct SqlProductRepository {
    db: DatabaseConnection,
}

impl SqlProductRepository {
    /// A repository on `db` (migrated with [`super::migrate`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    fn sqlite(&self) -> bool {
        super::is_sqlite(&self.db)
    }

    /// The columns of a product, with the price read as exact decimal text.
    fn select(&self) -> Select<Entity> {
        Entity::find()
            .select_only()
            .columns([
                Column::Id,
                Column::Name,
                Column::Description,
                Column::Sku,
                Column::Images,
                Column::Active,
                Column::CategoryId,
                Column::CreatedAt,
                Column::UpdatedAt,
            ])
            .column_as(Expr::col(Column::Price).cast_as("TEXT"), "price")
    }

    /// The filters of `query` as one condition.
    fn condition(&self, query: &ProductListQuery) -> Condition {
        let mut condition = Condition::all();
        if let Some(category) = query.category {
            condition = condition.add(Column::CategoryId.eq(category.0));
        }
        if let Some(search) = &query.search {
            let pattern = format!("%{}%", escape_like(search.as_str()));
            let sqlite = self.sqlite();
            let matches = |column: Column| {
                if sqlite {
                    // LIKE folds ASCII case on SQLite.
                    Expr::col(column).like(LikeExpr::new(pattern.clone()).escape('\\'))
                } else {
                    // sea-query parenthesises `ILIKE (… ESCAPE …)`, which PostgreSQL
                    // refuses; E'\\' is one backslash whatever the server settings.
                    Expr::cust_with_exprs(
                        r"$1 ILIKE $2 ESCAPE E'\\'",
                        [Expr::col(column), Expr::val(pattern.clone())],
                    )
                }
            };
            condition = condition.add(
                Condition::any()
                    .add(matches(Column::Name))
                    .add(matches(Column::Description))
                    .add(matches(Column::Sku)),
            );
        }
        condition
    }

    /// Maps a failed write of `product` to the port's error.
    fn write_error(&self, err: DbErr, product: &Product, action: &str) -> ProductRepositoryError {
        match (violation(&err), product.category_id) {
            (Some(v), _) if v.is_unique(names::PRODUCTS_SKU, "products", "sku") => {
                ProductRepositoryError::DuplicateSku(product.sku.clone())
            }
            (Some(Violation::ForeignKey), Some(category)) => {
                ProductRepositoryError::UnknownCategory(category)
            }
            _ => store_error(err, format!("{action} product {}", product.id)).into(),
        }
    }
}

/// Escapes the LIKE wildcards `%` and `_` (and the escape character `\`) in `text`.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A product row as read: the price comes back as decimal text.
#[derive(Debug, FromQueryResult)]
struct ProductRow {
    id: Uuid,
    name: String,
    description: String,
    price: String,
    sku: String,
    images: serde_json::Value,
    active: bool,
    category_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ProductRow {
    fn into_domain(self) -> anyhow::Result<Product> {
        let id = self.id;
        self.convert()
            .with_context(|| format!("reading product {id}"))
    }

    fn convert(self) -> anyhow::Result<Product> {
        let id = self.id;
        let images: Vec<String> = serde_json::from_value(self.images)
            .with_context(|| format!("stored images of product {id} are not a list of strings"))?;
        Ok(Product {
            id: ProductId(id),
            name: ProductName::new(self.name).context("stored product name is invalid")?,
            description: Description::new(self.description)
                .context("stored description is invalid")?,
            price: Price::parse(&self.price)
                .with_context(|| format!("stored price {:?} is invalid", self.price))?,
            sku: Sku::new(self.sku).context("stored SKU is invalid")?,
            images: images
                .into_iter()
                .map(ImageUrl::new)
                .collect::<Result<_, _>>()
                .context("stored image URL is invalid")?,
            active: self.active,
            category_id: self.category_id.map(CategoryId),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The row written for `product` (every column set).
fn active_model(product: &Product) -> product::ActiveModel {
    let images = product
        .images
        .iter()
        .map(|image| serde_json::Value::String(image.as_str().to_owned()))
        .collect();
    product::ActiveModel {
        id: Set(product.id.0),
        name: Set(product.name.as_str().to_owned()),
        description: Set(product.description.as_str().to_owned()),
        price: Set(product.price.amount()),
        sku: Set(product.sku.as_str().to_owned()),
        images: Set(serde_json::Value::Array(images)),
        active: Set(product.active),
        category_id: Set(product.category_id.map(|c| c.0)),
        created_at: Set(super::to_stored_time(product.created_at)),
        updated_at: Set(super::to_stored_time(product.updated_at)),
    }
}

#[async_trait]
impl ProductRepository for SqlProductRepository {
    async fn insert(&self, product: &Product) -> Result<(), ProductRepositoryError> {
        Entity::insert(active_model(product))
            .exec_without_returning(&self.db)
            .await
            .map_err(|err| self.write_error(err, product, "inserting"))?;
        Ok(())
    }

    async fn get(&self, id: ProductId) -> Result<Option<Product>, ProductRepositoryError> {
        let row = self
            .select()
            .filter(Column::Id.eq(id.0))
            .into_model::<ProductRow>()
            .one(&self.db)
            .await
            .or_store_error(|| format!("loading product {id}"))?;
        Ok(row.map(ProductRow::into_domain).transpose()?)
    }

    async fn list(
        &self,
        query: &ProductListQuery,
    ) -> Result<Page<Product>, ProductRepositoryError> {
        let mut select = self.select().filter(self.condition(query));
        let sort = if query.sort.is_empty() {
            // Oldest first.
            vec![(Column::CreatedAt, Order::Asc)]
        } else {
            query
                .sort
                .iter()
                .map(|key| {
                    let column = match key.field {
                        ProductSortField::Name => Column::Name,
                        ProductSortField::Price => Column::Price,
                        ProductSortField::Sku => Column::Sku,
                        ProductSortField::CreatedAt => Column::CreatedAt,
                        ProductSortField::UpdatedAt => Column::UpdatedAt,
                    };
                    let order = match key.direction {
                        SortDirection::Ascending => Order::Asc,
                        SortDirection::Descending => Order::Desc,
                    };
                    (column, order)
                })
                .collect()
        };
        for (column, order) in sort {
            select = if matches!(column, Column::Price) && self.sqlite() {
                // Decimal text on SQLite: order numerically. Every valid price (at most
                // 12 significant digits) is exact in a double.
                select.order_by(Expr::col(Column::Price).cast_as("REAL"), order)
            } else {
                select.order_by(column, order)
            };
        }
        let select = select
            .order_by(Column::Id, Order::Asc)
            .into_model::<ProductRow>();
        Ok(super::fetch_page(
            &self.db,
            select,
            query.page,
            "products",
            ProductRow::into_domain,
        )
        .await?)
    }

    async fn update(&self, product: &Product) -> Result<(), ProductRepositoryError> {
        let row = product::ActiveModel {
            id: NotSet,
            ..active_model(product)
        };
        let result = Entity::update_many()
            .set(row)
            .filter(Column::Id.eq(product.id.0))
            .exec(&self.db)
            .await
            .map_err(|err| self.write_error(err, product, "updating"))?;
        if result.rows_affected == 0 {
            return Err(ProductRepositoryError::NotFound(product.id));
        }
        Ok(())
    }

    async fn delete(&self, id: ProductId) -> Result<bool, ProductRepositoryError> {
        let result = Entity::delete_by_id(id.0)
            .exec(&self.db)
            .await
            .or_store_error(|| format!("deleting product {id}"))?;
        Ok(result.rows_affected > 0)
    }

    async fn ping(&self) -> Result<(), ProductRepositoryError> {
        Ok(super::ping_store(&self.db).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(escape_like("cup"), "cup");
    }
}
