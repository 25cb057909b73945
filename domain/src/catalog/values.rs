//! Value objects of the catalog. Each validates on construction, so a value that
//! exists is a valid one; serde goes through the same constructors.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why a value was refused. The message is written for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl ValueError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Defines a string newtype whose `TryFrom<String>` runs `$check`.
macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates (and normalises) `value`.
            pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
                let check: fn(String) -> Result<String, ValueError> = $check;
                check(value.into()).map(Self)
            }

            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(value: String) -> Result<Self, ValueError> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use string_value;

/// Trims `value` and checks its length in characters.
pub(crate) fn trimmed_with_length(
    value: String,
    what: &str,
    max: usize,
) -> Result<String, ValueError> {
    let trimmed = value.trim();
    let length = trimmed.chars().count();
    if length == 0 {
        return Err(ValueError::new(format!("{what} must not be empty")));
    }
    if length > max {
        return Err(ValueError::new(format!(
            "{what} must be at most {max} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValueError::new(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(trimmed.to_owned())
}

string_value!(
    /// A product's name: trimmed, 1 to 255 characters, no control characters.
    ProductName,
    |value| trimmed_with_length(value, "name", 255)
);

string_value!(
    /// A product's description: free text of at most 10,000 characters (may be empty).
    Description,
    |value| {
        if value.chars().count() > Description::MAX_CHARS {
            Err(ValueError::new(format!(
                "description must be at most {} characters",
                Description::MAX_CHARS
            )))
        } else {
            Ok(value)
        }
    }
);

impl Description {
    /// The longest description accepted.
    pub const MAX_CHARS: usize = 10_000;
}

impl Default for Description {
    fn default() -> Self {
        Self(String::new())
    }
}

string_value!(
    /// A stock-keeping unit: trimmed, 1 to 64 characters of letters, digits, `-`, `_`
    /// and `.`. Unique across products; compared exactly as given.
    Sku,
    |value| {
        let value = trimmed_with_length(value, "sku", 64)?;
        if value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            Ok(value)
        } else {
            Err(ValueError::new(
                "sku may contain only letters, digits, '-', '_' and '.'",
            ))
        }
    }
);

string_value!(
    /// The address of a product image: an absolute `http` or `https` URL with a host,
    /// at most 2,048 characters, without spaces.
    ImageUrl,
    |value| {
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"));
        let host = rest.and_then(|rest| rest.split(['/', '?', '#']).next());
        let valid = value.len() <= 2048
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && host.is_some_and(|host| !host.is_empty() && !host.starts_with(':'));
        if valid {
            Ok(value)
        } else {
            Err(ValueError::new(
                "image must be an absolute http(s) URL of at most 2048 characters",
            ))
        }
    }
);

/// A price: a decimal amount greater than zero with at most two decimal places and at
/// most ten digits before the point (it fits `NUMERIC(12, 2)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Price(Decimal);

impl Price {
    /// The largest accepted price.
    pub fn max() -> Decimal {
        Decimal::new(9_999_999_999_99, 2)
    }

    /// Validates `amount`: > 0, at most 2 decimal places, at most [`Price::max`].
    /// Trailing zeros are normalised to exactly two places (`12.5` → `12.50`).
    pub fn new(amount: Decimal) -> Result<Self, ValueError> {
        let normalized = amount.normalize();
        if normalized <= Decimal::ZERO {
            return Err(ValueError::new("price must be greater than 0"));
        }
        if normalized.scale() > 2 {
            return Err(ValueError::new(
                "price must have at most 2 decimal places",
            ));
        }
        if normalized > Self::max() {
            return Err(ValueError::new(format!(
                "price must be at most {}",
                Self::max()
            )));
        }
        let mut exact = normalized;
        exact.rescale(2);
        Ok(Self(exact))
    }

    /// Parses a decimal string such as `"12.50"`.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let amount = Decimal::from_str(text.trim())
            .map_err(|_| ValueError::new("price must be a decimal number such as \"12.50\""))?;
        Self::new(amount)
    }

    /// The amount, always with two decimal places.
    pub fn amount(&self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Price {
    type Error = ValueError;
    fn try_from(value: Decimal) -> Result<Self, ValueError> {
        Self::new(value)
    }
}

impl From<Price> for Decimal {
    fn from(value: Price) -> Decimal {
        value.0
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_name_is_trimmed_and_bounded() {
        assert_eq!(ProductName::new("  Cup  ").unwrap().as_str(), "Cup");
        assert!(ProductName::new("   ").is_err());
        assert!(ProductName::new("a".repeat(255)).is_ok());
        assert!(ProductName::new("a".repeat(256)).is_err());
        assert!(ProductName::new("bad\u{0}name").is_err());
        // Length counts characters, not bytes.
        assert!(ProductName::new("é".repeat(255)).is_ok());
    }

    #[test]
    fn price_rules() {
        assert_eq!(Price::parse("12.5").unwrap().to_string(), "12.50");
        assert_eq!(Price::parse("12.500").unwrap().to_string(), "12.50");
        assert_eq!(Price::parse("7").unwrap().to_string(), "7.00");
        assert!(Price::parse("0").is_err());
        assert!(Price::parse("-1.00").is_err());
        assert!(Price::parse("1.005").is_err());
        assert!(Price::parse("abc").is_err());
        assert!(Price::parse("10000000000.00").is_err());
        assert!(Price::parse("9999999999.99").is_ok());
    }

    #[test]
    fn price_serde_goes_through_validation() {
        let price: Price = serde_json::from_str("\"3.10\"").unwrap();
        assert_eq!(price.to_string(), "3.10");
        assert!(serde_json::from_str::<Price>("\"-3\"").is_err());
    }

    #[test]
    fn sku_charset() {
        assert_eq!(Sku::new(" CUP-090 ").unwrap().as_str(), "CUP-090");
        assert!(Sku::new("CUP 090").is_err());
        assert!(Sku::new("").is_err());
        assert!(Sku::new("a".repeat(65)).is_err());
    }

    #[test]
    fn image_urls() {
        assert!(ImageUrl::new("https://img.example/cup.jpg").is_ok());
        assert!(ImageUrl::new("http://img.example").is_ok());
        assert!(ImageUrl::new("ftp://img.example/cup.jpg").is_err());
        assert!(ImageUrl::new("https://").is_err());
        assert!(ImageUrl::new("https://img.example/a b.jpg").is_err());
        assert!(ImageUrl::new("javascript:alert(1)").is_err());
    }

    #[test]
    fn description_may_be_empty_but_bounded() {
        assert!(Description::new("").is_ok());
        assert!(Description::new("x".repeat(Description::MAX_CHARS + 1)).is_err());
    }
}
