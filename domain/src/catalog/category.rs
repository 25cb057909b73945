//! Categories group products. Names and slugs are unique.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::values::{ValueError, string_value, trimmed_with_length};

/// Identifies a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CategoryId(pub Uuid);

impl std::fmt::Display for CategoryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

string_value!(
    /// A category's name: trimmed, 1 to 100 characters. Unique.
    CategoryName,
    |value| trimmed_with_length(value, "name", 100)
);

string_value!(
    /// A URL-friendly key for a category: 1 to 100 lower-case ASCII letters, digits and
    /// single hyphens, neither starting nor ending with a hyphen. Unique.
    Slug,
    |value| {
        let valid = !value.is_empty()
            && value.len() <= 100
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--");
        if valid {
            Ok(value)
        } else {
            Err(ValueError(
                "slug must be 1-100 lower-case letters, digits and single hyphens".into(),
            ))
        }
    }
);

impl Slug {
    /// Derives a slug from a name: ASCII letters and digits kept (lower-cased), every
    /// other run of characters becomes one hyphen. Fails when nothing is left (a name
    /// made only of punctuation or non-Latin letters); the caller then asks for a slug.
    pub fn from_name(name: &CategoryName) -> Result<Self, ValueError> {
        let mut slug = String::new();
        for c in name.as_str().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-');
        let slug: String = slug.chars().take(100).collect();
        Self::new(slug.trim_end_matches('-').to_owned())
    }
}

/// A product category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Identity.
    pub id: CategoryId,
    /// Display name, unique.
    pub name: CategoryName,
    /// URL key, unique.
    pub slug: Slug,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_from_name() {
        let name = CategoryName::new("  Coffee & Tea -- Cups! ").unwrap();
        assert_eq!(Slug::from_name(&name).unwrap().as_str(), "coffee-tea-cups");
        let symbols = CategoryName::new("!!!").unwrap();
        assert!(Slug::from_name(&symbols).is_err());
    }

    #[test]
    fn slug_rules() {
        assert!(Slug::new("cups").is_ok());
        assert!(Slug::new("Cups").is_err());
        assert!(Slug::new("-cups").is_err());
        assert!(Slug::new("a--b").is_err());
    }
}
