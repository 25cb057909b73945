//! Top-level answer documents (`data`, `included`, `links`, `meta`), serialised in one
//! pass from borrowed resource serialisers (no intermediate `serde_json::Value`).

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

/// `{"self": "<url>"}`.
pub struct SelfLink<'a>(pub &'a str);

impl Serialize for SelfLink<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("self", self.0)?;
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
