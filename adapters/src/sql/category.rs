//! [`CategoryRepository`] on sea-orm.

use anyhow::Context;
use async_trait::async_trait;
use emporium_domain::catalog::{
    Category, CategoryId, CategoryName, CategoryRepository, CategoryRepositoryError, Slug,
};
use emporium_domain::{Page, PageRequest};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::category::{self, Column, Entity};
use super::errors::{DbResultExt, Violation, store_error, violation};
use super::migration::names;

/// Stores categories in the `categories` table (SQLite or PostgreSQL). A category
/// that products belong to cannot be deleted: the products' foreign key refuses it.
#[derive(Debug, Clone)]
pub struct SqlCategoryRepository {
    db: DatabaseConnection,
}

impl SqlCategoryRepository {
    /// A repository on `db` (migrated with [`super::migrate`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Maps a failed write of `category` to the port's error.
    fn write_error(err: DbErr, category: &Category, action: &str) -> CategoryRepositoryError {
        match violation(&err) {
            Some(v) if v.is_unique(names::CATEGORIES_NAME, "categories", "name") => {
                CategoryRepositoryError::DuplicateName(category.name.clone())
            }
            Some(v) if v.is_unique(names::CATEGORIES_SLUG, "categories", "slug") => {
                CategoryRepositoryError::DuplicateSlug(category.slug.clone())
            }
            _ => store_error(err, format!("{action} category {}", category.id)).into(),
        }
    }
}

fn to_domain(row: category::Model) -> anyhow::Result<Category> {
    let id = row.id;
    let convert = || -> anyhow::Result<Category> {
        Ok(Category {
            id: CategoryId(row.id),
            name: CategoryName::new(row.name).context("stored category name is invalid")?,
            slug: Slug::new(row.slug).context("stored category slug is invalid")?,
            created_at: row.created_at,
        })
    };
    convert().with_context(|| format!("reading category {id}"))
}

fn active_model(category: &Category) -> category::ActiveModel {
    category::ActiveModel {
        id: Set(category.id.0),
        name: Set(category.name.as_str().to_owned()),
        slug: Set(category.slug.as_str().to_owned()),
        created_at: Set(super::to_stored_time(category.created_at)),
    }
}

#[async_trait]
impl CategoryRepository for SqlCategoryRepository {
    async fn insert(&self, category: &Category) -> Result<(), CategoryRepositoryError> {
        Entity::insert(active_model(category))
            .exec_without_returning(&self.db)
            .await
            .map_err(|err| Self::write_error(err, category, "inserting"))?;
        Ok(())
    }

    async fn get(&self, id: CategoryId) -> Result<Option<Category>, CategoryRepositoryError> {
        let row = Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .or_store_error(|| format!("loading category {id}"))?;
        Ok(row.map(to_domain).transpose()?)
    }

    async fn get_many(&self, ids: &[CategoryId]) -> Result<Vec<Category>, CategoryRepositoryError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = Entity::find()
            .filter(Column::Id.is_in(ids.iter().map(|id| id.0)))
            .all(&self.db)
            .await
            .or_store_error(|| format!("loading {} categories", ids.len()))?;
        Ok(rows
            .into_iter()
            .map(to_domain)
            .collect::<anyhow::Result<Vec<_>>>()?)
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Category>, CategoryRepositoryError> {
        let select = Entity::find()
            .order_by_asc(Column::Name)
            .order_by_asc(Column::Id);
        Ok(super::fetch_page(&self.db, select, page, "categories", to_domain).await?)
    }

    async fn update(&self, category: &Category) -> Result<(), CategoryRepositoryError> {
        let result = Entity::update_many()
            .set(active_model(category))
            .filter(Column::Id.eq(category.id.0))
            .exec(&self.db)
            .await
            .map_err(|err| Self::write_error(err, category, "updating"))?;
        if result.rows_affected == 0 {
            return Err(CategoryRepositoryError::NotFound(category.id));
        }
        Ok(())
    }

    async fn delete(&self, id: CategoryId) -> Result<bool, CategoryRepositoryError> {
        match Entity::delete_by_id(id.0).exec(&self.db).await {
            Ok(result) => Ok(result.rows_affected > 0),
            Err(err) if violation(&err) == Some(Violation::ForeignKey) => {
                Err(CategoryRepositoryError::InUse(id))
            }
            Err(err) => Err(store_error(err, format!("deleting category {id}")).into()),
        }
    }
}
