//! [`CategoryRepository`] on sea-orm.

use anyhow::Context;
use async_trait::async_trait;
use emporium_domain::catalog::{
    Category, CategoryId, CategoryName, CategoryRepository, CategoryRepositoryError, Slug,
};
use emporium_domain::{Page, PageRequest};
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect,
};

use super::entities::category::{self, Column, Entity};
use super::errors::violation;
use super::migration::names;

/// Stores categories in the `categories` table (SQLite or PostgreSQL).
#[derive(Debug, Clone)]
pub struct SqlCategoryRepository {
    db: DatabaseConnection,
}

impl SqlCategoryRepository {
    /// A repository on `db` (migrated with [`super::migrate`]).
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn to_domain(row: category::Model) -> anyhow::Result<Category> {
    Ok(Category {
        id: CategoryId(row.id),
        name: CategoryName::new(row.name).context("stored category name is invalid")?,
        slug: Slug::new(row.slug).context("stored category slug is invalid")?,
        created_at: row.created_at,
    })
}

#[async_trait]
impl CategoryRepository for SqlCategoryRepository {
    async fn insert(&self, category: &Category) -> Result<(), CategoryRepositoryError> {
        let row = category::ActiveModel {
            id: Set(category.id.0),
            name: Set(category.name.as_str().to_owned()),
            slug: Set(category.slug.as_str().to_owned()),
            created_at: Set(super::to_stored_time(category.created_at)),
        };
        match Entity::insert(row).exec_without_returning(&self.db).await {
            Ok(_) => Ok(()),
            Err(err) => match violation(&err) {
                Some(v) if v.is_unique(names::CATEGORIES_NAME, "categories", "name") => Err(
                    CategoryRepositoryError::DuplicateName(category.name.clone()),
                ),
                Some(v) if v.is_unique(names::CATEGORIES_SLUG, "categories", "slug") => Err(
                    CategoryRepositoryError::DuplicateSlug(category.slug.clone()),
                ),
                _ => Err(anyhow::Error::new(err)
                    .context(format!("inserting category {}", category.id))
                    .into()),
            },
        }
    }

    async fn get(&self, id: CategoryId) -> Result<Option<Category>, CategoryRepositoryError> {
        let row = Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .with_context(|| format!("loading category {id}"))?;
        Ok(row
            .map(to_domain)
            .transpose()
            .with_context(|| format!("reading category {id}"))?)
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Category>, CategoryRepositoryError> {
        let total = Entity::find()
            .count(&self.db)
            .await
            .context("counting categories")?;
        let rows = Entity::find()
            .order_by_asc(Column::Name)
            .order_by_asc(Column::Id)
            .offset(page.offset())
            .limit(u64::from(page.size()))
            .all(&self.db)
            .await
            .context("listing categories")?;
        let items = rows
            .into_iter()
            .map(to_domain)
            .collect::<anyhow::Result<Vec<_>>>()
            .context("reading categories")?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }
}
