//! The product entity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::category::CategoryId;
use super::values::{Description, ImageUrl, Price, ProductName, Sku};

/// Identifies a product (and, one to one, its inventory record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductId(pub Uuid);

impl std::fmt::Display for ProductId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A product in the catalog. Every field is a validated value, so a `Product` that
/// exists is a valid one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Identity.
    pub id: ProductId,
    /// Display name.
    pub name: ProductName,
    /// Free-text description (may be empty).
    pub description: Description,
    /// Unit price.
    pub price: Price,
    /// Stock-keeping unit, unique across products.
    pub sku: Sku,
    /// Image addresses, in display order.
    pub images: Vec<ImageUrl>,
    /// Whether the product is offered for sale.
    pub active: bool,
    /// The category it belongs to, if any.
    pub category_id: Option<CategoryId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What a caller supplies to create a product; the id and times come from the ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// Display name.
    pub name: ProductName,
    /// Description (empty when not given).
    pub description: Description,
    /// Unit price.
    pub price: Price,
    /// Stock-keeping unit.
    pub sku: Sku,
    /// Image addresses.
    pub images: Vec<ImageUrl>,
    /// Offered for sale (defaults to `true` at the edge).
    pub active: bool,
    /// Category, if any.
    pub category_id: Option<CategoryId>,
}

impl NewProduct {
    /// The product this describes, with its identity and creation time.
    pub fn into_product(self, id: ProductId, now: DateTime<Utc>) -> Product {
        Product {
            id,
            name: self.name,
            description: self.description,
            price: self.price,
            sku: self.sku,
            images: self.images,
            active: self.active,
            category_id: self.category_id,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A partial update: `None` leaves a field as it is. For the category,
/// `Some(None)` removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductChanges {
    /// New name.
    pub name: Option<ProductName>,
    /// New description.
    pub description: Option<Description>,
    /// New price.
    pub price: Option<Price>,
    /// New SKU.
    pub sku: Option<Sku>,
    /// New image list (replaces the old one).
    pub images: Option<Vec<ImageUrl>>,
    /// New active flag.
    pub active: Option<bool>,
    /// New category (`Some(None)` clears it).
    pub category_id: Option<Option<CategoryId>>,
}

impl ProductChanges {
    /// True when the update changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl Product {
    /// Applies `changes` and stamps `updated_at` with `now`.
    pub fn apply(&mut self, changes: ProductChanges, now: DateTime<Utc>) {
        let ProductChanges {
            name,
            description,
            price,
            sku,
            images,
            active,
            category_id,
        } = changes;
        if let Some(name) = name {
            self.name = name;
        }
        if let Some(description) = description {
            self.description = description;
        }
        if let Some(price) = price {
            self.price = price;
        }
        if let Some(sku) = sku {
            self.sku = sku;
        }
        if let Some(images) = images {
            self.images = images;
        }
        if let Some(active) = active {
            self.active = active;
        }
        if let Some(category_id) = category_id {
            self.category_id = category_id;
        }
        self.updated_at = now.max(self.created_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn product() -> Product {
        NewProduct {
            name: ProductName::new("Cup").unwrap(),
            description: Description::default(),
            price: Price::parse("12.50").unwrap(),
            sku: Sku::new("CUP-1").unwrap(),
            images: vec![],
            active: true,
            category_id: Some(CategoryId(Uuid::nil())),
        }
        .into_product(
            ProductId(Uuid::nil()),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        )
    }

    #[test]
    fn apply_changes_only_given_fields() {
        let mut p = product();
        let later = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap();
        p.apply(
            ProductChanges {
                price: Some(Price::parse("9.99").unwrap()),
                category_id: Some(None),
                ..Default::default()
            },
            later,
        );
        assert_eq!(p.price.to_string(), "9.99");
        assert_eq!(p.name.as_str(), "Cup");
        assert_eq!(p.category_id, None);
        assert_eq!(p.updated_at, later);
    }

    #[test]
    fn serde_round_trip_keeps_values_valid() {
        let p = product();
        let json = serde_json::to_string(&p).unwrap();
        let back: Product = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let tampered = json.replace("12.50", "-1");
        assert!(serde_json::from_str::<Product>(&tampered).is_err());
    }
}
