//! Attribute value types with a fixed JSON form: each derives its OpenAPI schema from
//! the standard type it wraps and writes its JSON by hand, because these values are
//! on every resource of the hot path.

use chrono::{DateTime, Datelike, Timelike, Utc};
use poem_openapi::NewType;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::body::Invalid;

/// An RFC 3339 UTC timestamp with exactly six fractional digits
/// (`2026-11-22T12:28:45.720613Z`, the precision storage keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, NewType)]
#[oai(from_parameter = false, from_multipart = false, to_header = false)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    fn format(&self, buffer: &mut [u8; 32]) -> usize {
        let t = self.0;
        let year = t.year();
        if !(0..=9999).contains(&year) {
            return 0;
        }
        let micros = t.timestamp_subsec_micros().min(999_999);
        let mut put = |at: usize, value: u32, width: usize| {
            let mut value = value;
            for i in (0..width).rev() {
                buffer[at + i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, year as u32, 4);
        put(5, t.month(), 2);
        put(8, t.day(), 2);
        put(11, t.hour(), 2);
        put(14, t.minute(), 2);
        put(17, t.second().min(59), 2);
        put(20, micros, 6);
        buffer[4] = b'-';
        buffer[7] = b'-';
        buffer[10] = b'T';
        buffer[13] = b':';
        buffer[16] = b':';
        buffer[19] = b'.';
        buffer[26] = b'Z';
        27
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0u8; 32];
        match self.format(&mut buffer) {
            0 => self.0.serialize(serializer),
            length => serializer.serialize_str(
                std::str::from_utf8(&buffer[..length]).map_err(serde::ser::Error::custom)?,
            ),
        }
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(time: DateTime<Utc>) -> Self {
        Self(time)
    }
}

/// A money amount as a decimal string with exactly two places (`"12.50"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, NewType)]
#[oai(from_parameter = false, from_multipart = false, to_header = false)]
pub struct Amount(pub Decimal);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let amount = self.0;
        let mantissa = amount.mantissa();
        if amount.scale() != 2 || !(0..=i128::from(u64::MAX)).contains(&mantissa) {
            return serializer.collect_str(&amount);
        }
        let mut value = mantissa as u64;
        let mut buffer = [0u8; 24];
        let mut at = buffer.len();
        let mut digits = 0;
        loop {
            if digits == 2 {
                at -= 1;
                buffer[at] = b'.';
            }
            at -= 1;
            buffer[at] = b'0' + (value % 10) as u8;
            value /= 10;
            digits += 1;
            if value == 0 && digits >= 3 {
                break;
            }
        }
        serializer
            .serialize_str(std::str::from_utf8(&buffer[at..]).map_err(serde::ser::Error::custom)?)
    }
}

/// An amount as requests send it: a decimal string of digits with an optional point
/// and digits (`"12.50"`: no sign, exponent, separators or spaces), or a JSON number;
/// `make` checks the amount itself (its places and range: 422).
pub fn amount<T, E: std::fmt::Display>(
    make: impl Fn(&str) -> Result<T, E>,
) -> impl Fn(&Value) -> Result<T, Invalid> {
    move |value| {
        let made = match value {
            Value::String(text) if is_decimal_text(text) => make(text),
            Value::Number(number) => make(&number.to_string()),
            Value::String(_) => {
                return Err(Invalid::Value(
                    "the amount must be a decimal number such as \"12.50\".".into(),
                ));
            }
            _ => {
                return Err(Invalid::Type(
                    "a decimal string such as \"12.50\" or a number",
                ));
            }
        };
        made.map_err(|error| Invalid::Value(error.to_string()))
    }
}

/// The form [`amount`] takes a string in.
const DECIMAL_TEXT: &str = "^[0-9]+(\\.[0-9]+)?$";

fn is_decimal_text(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

/// The request schema of an [`amount`] greater than 0 with at most ten digits before
/// the point.
pub fn amount_schema() -> MetaSchemaRef {
    let inline = |schema| MetaSchemaRef::Inline(Box::new(schema));
    inline(MetaSchema {
        description: Some(
            "Greater than 0, at most two decimal places and ten digits before the point, \
             as a string (`\"12.50\"`); a JSON number is accepted too.",
        ),
        any_of: vec![
            inline(MetaSchema {
                pattern: Some(DECIMAL_TEXT.into()),
                ..MetaSchema::new("string")
            }),
            inline(MetaSchema {
                minimum: Some(0.0),
                exclusive_minimum: Some(true),
                maximum: Some(9_999_999_999.99),
                ..MetaSchema::new("number")
            }),
        ],
        ..MetaSchema::ANY
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn timestamps_have_microseconds() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::nanoseconds(720_613_999);
        assert_eq!(
            serde_json::to_value(Timestamp(t)).unwrap(),
            "2026-01-02T03:04:05.720613Z"
        );
        let whole = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(
            serde_json::to_value(Timestamp(whole)).unwrap(),
            "1999-12-31T23:59:59.000000Z"
        );
        let parsed: DateTime<Utc> =
            serde_json::from_value(serde_json::to_value(Timestamp(t)).unwrap()).unwrap();
        assert_eq!(parsed.timestamp_subsec_micros(), 720_613);
    }

    #[test]
    fn amounts_are_read_from_decimal_strings_and_numbers() {
        let read = amount(|text: &str| Decimal::from_str(text));
        assert_eq!(read(&Value::from("12.50")).unwrap().to_string(), "12.50");
        assert_eq!(read(&serde_json::json!(7.5)).unwrap().to_string(), "7.5");
        for refused in [" 12.50", "+1", "1_0", "1.", ".5", "1e2", ""] {
            assert!(
                matches!(read(&Value::from(refused)), Err(Invalid::Value(_))),
                "{refused:?}"
            );
        }
        assert!(matches!(read(&Value::Bool(true)), Err(Invalid::Type(_))));
    }

    #[test]
    fn amounts_are_decimal_strings_with_two_places() {
        for text in ["0.01", "0.10", "1.00", "12.50", "9999999999.99"] {
            let amount = Amount(Decimal::from_str(text).unwrap());
            assert_eq!(serde_json::to_value(amount).unwrap(), text);
        }
    }
}
