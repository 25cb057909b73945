//! Money: the shop's currency and exact two-place amounts for line totals and
//! order totals.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{Price, ValueError};

use super::line::LineQuantity;

/// The shop's currency: an ISO 4217 alphabetic code (`EUR`, `USD`, `GBP`, …), three
/// upper-case ASCII letters. Every price and total is in this one currency; it is
/// recorded at first start and not silently changed later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// The default shop currency.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses a code; lower case is refused so that stored values compare exactly.
    pub fn new(code: &str) -> Result<Self, ValueError> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(ValueError(format!(
                "currency must be an ISO 4217 code of three upper-case letters such as \"EUR\", got {code:?}"
            ))),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        // Three ASCII letters, checked on construction.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::EUR
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = ValueError;
    fn from_str(code: &str) -> Result<Self, ValueError> {
        Self::new(code)
    }
}

impl TryFrom<String> for Currency {
    type Error = ValueError;
    fn try_from(code: String) -> Result<Self, ValueError> {
        Self::new(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.as_str().to_owned()
    }
}

/// An amount of the shop's currency with exactly two decimal places, from zero to
/// [`Money::max`]: room for 50 lines × 99 units × the largest price, so a total can
/// never overflow. Stored as `NUMERIC(18, 2)` (or exact text on SQLite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Money(Decimal);

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, 2));

    /// The largest amount: 50 lines × 99 units × [`Price::max`].
    pub fn max() -> Decimal {
        Price::max() * Decimal::from(99 * 50)
    }

    /// Validates `amount`: ≥ 0, at most two decimal places, at most [`Money::max`];
    /// normalised to exactly two places.
    pub fn new(amount: Decimal) -> Result<Self, ValueError> {
        let normalized = amount.normalize();
        if normalized < Decimal::ZERO {
            return Err(ValueError("an amount must not be negative".into()));
        }
        if normalized.scale() > 2 {
            return Err(ValueError(
                "an amount must have at most 2 decimal places".into(),
            ));
        }
        if normalized > Self::max() {
            return Err(ValueError(format!(
                "an amount must be at most {}",
                Self::max()
            )));
        }
        let mut exact = normalized;
        exact.rescale(2);
        Ok(Self(exact))
    }

    /// Parses a decimal string such as `"25.00"`.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let amount = Decimal::from_str(text.trim()).map_err(|_| {
            ValueError("an amount must be a decimal number such as \"25.00\"".into())
        })?;
        Self::new(amount)
    }

    /// `quantity` units at `price`: exact, and always within [`Money::max`].
    pub fn line_total(price: Price, quantity: LineQuantity) -> Money {
        let mut total = price.amount() * Decimal::from(quantity.value());
        total.rescale(2);
        Money(total)
    }

    /// The sum of `amounts`; refused past [`Money::max`].
    pub fn sum(amounts: impl IntoIterator<Item = Money>) -> Result<Money, ValueError> {
        let total = amounts
            .into_iter()
            .try_fold(Decimal::ZERO, |sum, amount| sum.checked_add(amount.0))
            .ok_or_else(|| ValueError("the total is too large".into()))?;
        Self::new(total)
    }

    /// The amount, with two decimal places.
    pub fn amount(&self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl TryFrom<Decimal> for Money {
    type Error = ValueError;
    fn try_from(amount: Decimal) -> Result<Self, ValueError> {
        Self::new(amount)
    }
}

impl From<Money> for Decimal {
    fn from(money: Money) -> Decimal {
        money.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert_eq!(Currency::new("GBP").unwrap().as_str(), "GBP");
        assert_eq!(Currency::default(), Currency::EUR);
        for bad in ["eur", "EU", "EURO", "E1R", "", "ÉUR"] {
            assert!(Currency::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn line_totals_and_sums_are_exact() {
        let price = Price::parse("12.50").unwrap();
        let two = LineQuantity::new(2).unwrap();
        assert_eq!(Money::line_total(price, two).to_string(), "25.00");
        let cents = Money::line_total(Price::parse("0.10").unwrap(), LineQuantity::new(3).unwrap());
        assert_eq!(cents.to_string(), "0.30");
        let total = Money::sum([Money::parse("25.00").unwrap(), cents]).unwrap();
        assert_eq!(total.to_string(), "25.30");
        assert_eq!(Money::sum([]).unwrap(), Money::ZERO);
        assert_eq!(Money::ZERO.to_string(), "0.00");
    }

    #[test]
    fn the_largest_order_fits() {
        let largest = Money::line_total(
            Price::new(Price::max()).unwrap(),
            LineQuantity::new(LineQuantity::MAX).unwrap(),
        );
        let total = Money::sum(std::iter::repeat_n(largest, 50)).unwrap();
        assert_eq!(total.amount(), Money::max());
        assert!(Money::sum([total, Money::parse("0.01").unwrap()]).is_err());
    }

    #[test]
    fn bad_amounts_are_refused() {
        for bad in ["-0.01", "1.005", "abc"] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Money::parse("7.5").unwrap().to_string(), "7.50");
    }
}
