//! Text attributes described as the domain checks them, so that the OpenAPI document
//! admits every value the server accepts and, where the rule fits a regular
//! expression, nothing else.
//!
//! The domain trims names (Rust's `str::trim`: Unicode `White_Space`) before it counts
//! their characters and looks for control characters, so a schema with `maxLength` or
//! "no control characters anywhere" would refuse `" Cup\n"`, which the server takes.
//! [`trimmed_pattern`] says the same as the domain instead: white space at either end,
//! then 1 to `max` characters without control characters that neither start nor end
//! with white space.

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// Unicode `White_Space` (what `str::trim` removes), as a regex character-class body.
const WHITE_SPACE: &str =
    "\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/// Control characters (`char::is_control`), as a regex character-class body.
const CONTROL: &str = "\\u0000-\\u001f\\u007f-\\u009f";

/// Text that is trimmed, then holds 1 to `max` characters (`max` ≥ 2) and no control
/// characters: `ProductName`, `CategoryName`, `DisplayName`, `SearchText`.
pub fn trimmed_pattern(max: usize) -> String {
    format!("^{}$", trimmed_core(max))
}

/// [`trimmed_pattern`], or only white space (a blank parameter, taken as absent).
pub fn blank_or_trimmed_pattern(max: usize) -> String {
    format!("^(?:[{WHITE_SPACE}]*|{})$", trimmed_core(max))
}

fn trimmed_core(max: usize) -> String {
    let edge = format!("[^{WHITE_SPACE}{CONTROL}]");
    format!(
        "[{WHITE_SPACE}]*(?:{edge}|{edge}[^{CONTROL}]{{0,{}}}{edge})[{WHITE_SPACE}]*",
        max - 2
    )
}

/// A stock-keeping unit as `Sku` takes it: trimmed, then 1 to 64 letters, digits,
/// `-`, `_` and `.`.
pub fn sku_pattern() -> String {
    format!("^[{WHITE_SPACE}]*[A-Za-z0-9._-]{{1,64}}[{WHITE_SPACE}]*$")
}

/// Every address `Email` takes (trimmed, then lower-cased): a local part of the
/// allowed characters and dots, `@`, and two or more dot-separated labels. The
/// lengths (64 and 254) and "no two dots in a row" are checked by the server (422).
pub fn email_pattern() -> String {
    let local = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    format!(
        "^[{WHITE_SPACE}]*{local}(?:[.A-Za-z0-9!#$%&'*+/=?^_`{{|}}~-]*{local})?@{label}(?:\\.{label})+[{WHITE_SPACE}]*$"
    )
}

/// An absolute `http(s)` URL as `ImageUrl` takes it: a host name, IPv4 address or
/// bracketed IPv6 address with an optional port, then no white space or control
/// characters (the 2,048 limit counts bytes, checked by the server).
pub fn image_url_pattern() -> String {
    format!(
        "^https?://([A-Za-z0-9._~%!$&'()*+,;=-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]*)?\
         ([/?#][^{WHITE_SPACE}{CONTROL}]*)?$"
    )
}

/// The request schema of a list of image URLs ([`image_url_pattern`]).
pub fn image_urls_schema() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        items: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema {
            max_length: Some(2048),
            pattern: Some(image_url_pattern()),
            ..MetaSchema::new("string")
        })))),
        ..MetaSchema::new("array")
    }))
}

/// One kind of text attribute: the pattern of its schema.
pub trait TextRule: Send + Sync + 'static {
    /// The regular expression the attribute's schema gives.
    fn pattern() -> String;
}

/// Trimmed text of 1 to `MAX` characters without control characters
/// ([`trimmed_pattern`]).
pub struct Trimmed<const MAX: usize>;

impl<const MAX: usize> TextRule for Trimmed<MAX> {
    fn pattern() -> String {
        trimmed_pattern(MAX)
    }
}

/// A stock-keeping unit ([`sku_pattern`]).
pub struct SkuRule;

impl TextRule for SkuRule {
    fn pattern() -> String {
        sku_pattern()
    }
}

/// An e-mail address ([`email_pattern`]).
pub struct EmailRule;

impl TextRule for EmailRule {
    fn pattern() -> String {
        email_pattern()
    }
}

/// A string attribute whose schema is `R`'s; JSON is the plain string.
pub struct Text<R>(pub String, PhantomData<fn() -> R>);

impl<R> Text<R> {
    /// `value`, as the resource shows it.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into(), PhantomData)
    }
}

impl<R> Serialize for Text<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<R: TextRule> Type for Text<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(R::pattern()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<R: TextRule> ParseFromJSON for Text<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => Ok(Self::new(text)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl<R: TextRule> ToJSON for Text<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use emporium_domain::accounts::{DisplayName, Email};
    use emporium_domain::catalog::{CategoryName, ImageUrl, ProductName, SearchText, Sku};
    use regex::Regex;

    use super::*;

    /// Strings at the edges of the rules: white space and control characters at
    /// either end and inside, lengths around the limits, astral characters.
    fn samples(max: usize) -> Vec<String> {
        let mut samples: Vec<String> = [
            "",
            " ",
            "a",
            " a ",
            "\ta\n",
            "a\tb",
            "a\u{85}",
            "\u{85}a",
            "\u{a0}a\u{a0}",
            "\u{feff}",
            "\u{feff}a",
            "a\0",
            "\0",
            "é",
            "\u{2028}x\u{3000}",
            "a b",
            "\u{7f}",
            "\u{9f}a",
            "a\u{1680}",
            "CUP-090",
            " CUP-090 ",
            "c u p",
            "a..b@x.io",
            "first.last@example.com",
            " Ada@Example.COM ",
            "a@b",
            "a@-b.io",
            ".a@b.io",
            "https://example.com/a.png",
            "http://h",
            "https://:80",
            "https:///x",
            "https://a b",
            "https://ü.example/?q#f",
            "ftp://h",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        for length in [max - 1, max, max + 1] {
            samples.push("x".repeat(length));
            samples.push("😀".repeat(length));
            samples.push(format!(" {} ", "x".repeat(length)));
            samples.push(format!("\t{}\n", "x".repeat(length)));
            samples.push(format!("x{}x", " ".repeat(length.saturating_sub(2))));
        }
        samples
    }

    /// The pattern says exactly what `accepts` says, on every sample.
    fn agrees(pattern: &str, max: usize, accepts: impl Fn(&str) -> bool) {
        let regex = Regex::new(pattern).expect("a valid pattern");
        for sample in samples(max) {
            assert_eq!(
                regex.is_match(&sample),
                accepts(&sample),
                "{pattern} on {sample:?}"
            );
        }
    }

    /// The pattern admits everything `accepts` says yes to.
    fn admits(pattern: &str, max: usize, accepts: impl Fn(&str) -> bool) {
        let regex = Regex::new(pattern).expect("a valid pattern");
        for sample in samples(max) {
            if accepts(&sample) {
                assert!(regex.is_match(&sample), "{pattern} refuses {sample:?}");
            }
        }
    }

    #[test]
    fn trimmed_text_patterns_agree_with_the_domain() {
        agrees(&trimmed_pattern(255), 255, |s| ProductName::new(s).is_ok());
        agrees(&trimmed_pattern(100), 100, |s| CategoryName::new(s).is_ok());
        agrees(&trimmed_pattern(100), 100, |s| DisplayName::new(s).is_ok());
        agrees(&trimmed_pattern(SearchText::MAX_CHARS), 200, |s| {
            SearchText::new(s).is_ok()
        });
        agrees(&blank_or_trimmed_pattern(SearchText::MAX_CHARS), 200, |s| {
            s.trim().is_empty() || SearchText::new(s).is_ok()
        });
        agrees(&sku_pattern(), 64, |s| Sku::new(s).is_ok());
    }

    #[test]
    fn looser_patterns_admit_all_the_domain_takes() {
        admits(&email_pattern(), 64, |s| Email::parse(s).is_ok());
        admits(&image_url_pattern(), 2048, |s| ImageUrl::new(s).is_ok());
        let image = Regex::new(&image_url_pattern()).unwrap();
        for url in [
            "https://img.example/cup.jpg",
            "http://img.example",
            "https://[::1]:8443/cup.jpg",
            "http://192.0.2.7:80?size=2#top",
            "https://[abc/cup.jpg",
            "https://img]example/cup.jpg",
            "https://user@img.example/cup.jpg",
            "https://img.example:80x/cup.jpg",
            "https://:80/cup.jpg",
            "https://img.example/a b.jpg",
            "ftp://img.example/cup.jpg",
            "https://",
        ] {
            assert_eq!(
                image.is_match(url),
                ImageUrl::new(url).is_ok(),
                "the image pattern and ImageUrl disagree on {url:?}"
            );
        }
        let email = Regex::new(&email_pattern()).unwrap();
        assert!(email.is_match(" Ada.Lovelace@Example.COM "));
        assert!(!email.is_match("ada@localhost"));
    }
}
