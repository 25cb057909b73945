//! Top-level answer documents (`data`, `included`, `links`, `meta`), serialised in one
//! pass from borrowed resource serialisers (no intermediate `serde_json::Value`).

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::query::ListLinks;

/// A document with primary data `D` (one resource, or a `Vec` of them for lists) and
/// included resources `I` (compound documents).
pub struct Document<D, I = ()> {
    data: D,
    included: Vec<I>,
    links: Option<ListLinks>,
    total: Option<u64>,
}

impl<D: Serialize> Document<D, ()> {
    /// A document with one resource as primary data.
    pub fn single(data: D) -> Self {
        Self {
            data,
            included: Vec::new(),
            links: None,
            total: None,
        }
    }
}

impl<D: Serialize, I: Serialize> Document<D, I> {
    /// A document with `data` and the resources it includes.
    pub fn compound(data: D, included: Vec<I>) -> Self {
        Self {
            data,
            included,
            links: None,
            total: None,
        }
    }

    /// A page of a list: `links` to the other pages and `meta.total`.
    pub fn page(data: D, included: Vec<I>, links: ListLinks, total: u64) -> Self {
        Self {
            data,
            included,
            links: Some(links),
            total: Some(total),
        }
    }
}

impl<D: Serialize, I: Serialize> Serialize for Document<D, I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("data", &self.data)?;
        if !self.included.is_empty() {
            map.serialize_entry("included", &self.included)?;
        }
        if let Some(links) = &self.links {
            map.serialize_entry("links", links)?;
        }
        if let Some(total) = self.total {
            map.serialize_entry("meta", &ListMeta { total })?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ListMeta {
    total: u64,
}

/// Serialises a value through its `Display` impl, without an intermediate `String`.
pub struct Displayed<'a, T: std::fmt::Display>(pub &'a T);

impl<T: std::fmt::Display> Serialize for Displayed<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

/// An RFC 3339 UTC timestamp with microseconds (`2026-11-22T12:28:45.720613Z`, the
/// precision storage keeps), formatted by hand: it is on every resource of the hot
/// path, and `core::fmt` through serde's `collect_str` costs several times more.
pub struct Timestamp<'a>(pub &'a DateTime<Utc>);

impl Timestamp<'_> {
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

impl Serialize for Timestamp<'_> {
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

/// `{"self": "/v1/<collection>/<id>"}`, written without building the URL first.
pub struct SelfLink<'a, Id: std::fmt::Display> {
    /// The collection path under `/v1/`, e.g. `products`.
    pub collection: &'a str,
    /// The resource id.
    pub id: Id,
}

impl<Id: std::fmt::Display> std::fmt::Display for SelfLink<'_, Id> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/v1/{}/{}", self.collection, self.id)
    }
}

impl<Id: std::fmt::Display> Serialize for SelfLink<'_, Id> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("self", &Displayed(self))?;
        map.end()
    }
}

/// A to-one relationship object: `{"data": null | {"type": …, "id": …}}`.
pub struct ToOne<'a, Id: Serialize> {
    /// The target's resource type.
    pub kind: &'a str,
    /// The target's id, if any.
    pub id: Option<Id>,
}

impl<Id: Serialize> Serialize for ToOne<'_, Id> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match &self.id {
            Some(id) => map.serialize_entry(
                "data",
                &Identifier {
                    kind: self.kind,
                    id,
                },
            )?,
            None => map.serialize_entry("data", &())?,
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Identifier<'a, Id: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a Id,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_documents_have_only_data() {
        let doc = Document::single(json!({"type": "x", "id": "1"}));
        assert_eq!(
            serde_json::to_value(&doc).unwrap(),
            json!({"data": {"type": "x", "id": "1"}})
        );
    }

    #[test]
    fn pages_have_links_and_total() {
        let links = ListLinks {
            self_: "/a?page[number]=1".into(),
            first: "/a?page[number]=1".into(),
            prev: None,
            next: None,
            last: "/a?page[number]=1".into(),
        };
        let doc = Document::page(Vec::<u8>::new(), vec![json!({"type": "y"})], links, 0);
        let value = serde_json::to_value(&doc).unwrap();
        assert_eq!(value["meta"]["total"], 0);
        assert_eq!(value["links"]["prev"], serde_json::Value::Null);
        assert_eq!(value["included"][0]["type"], "y");
        assert_eq!(value["data"], json!([]));
    }

    #[test]
    fn timestamps_have_microseconds() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::nanoseconds(720_613_999);
        assert_eq!(
            serde_json::to_value(Timestamp(&t)).unwrap(),
            "2026-01-02T03:04:05.720613Z"
        );
        let whole = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(
            serde_json::to_value(Timestamp(&whole)).unwrap(),
            "1999-12-31T23:59:59.000000Z"
        );
        let parsed: DateTime<Utc> =
            serde_json::from_value(serde_json::to_value(Timestamp(&t)).unwrap()).unwrap();
        assert_eq!(parsed.timestamp_subsec_micros(), 720_613);
    }

    #[test]
    fn to_one_relationships() {
        let some = ToOne {
            kind: "categories",
            id: Some("c1"),
        };
        assert_eq!(
            serde_json::to_value(&some).unwrap(),
            json!({"data": {"type": "categories", "id": "c1"}})
        );
        let none: ToOne<'_, &str> = ToOne {
            kind: "categories",
            id: None,
        };
        assert_eq!(serde_json::to_value(&none).unwrap(), json!({"data": null}));
    }
}
