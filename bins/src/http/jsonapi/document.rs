//! Top-level answer documents (`data`, `included`, `links`, `meta`), serialised in one
//! pass from the resource objects (no intermediate `serde_json::Value`), and their
//! OpenAPI schemas, derived from the resource description: a single-resource
//! document ([`SingleDocument`]) and a page of a list ([`ListDocument`]).

use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::query::ListLinks;
use super::resource::{Includable, Resource, ResourceSchema};
use super::schema::{
    ListLinksSchema, ListMetaSchema, Schema, SchemaDef, array, object, registered,
};

/// A document with primary data `D` (one resource, or a `Vec` of them for lists) and
/// included resources `I` (compound documents).
pub struct Document<D, I = ()> {
    data: D,
    included: Vec<I>,
    links: Option<ListLinks>,
    total: Option<u64>,
}

impl<D: Serialize, I: Serialize> Document<D, I> {
    /// A document with `data` and the resources it includes (none: a plain document).
    pub fn new(data: D, included: Vec<I>) -> Self {
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

/// The schema of a document holding one `R` (`ProductDocument`).
pub type SingleDocument<R> = Schema<Single<R>>;
/// The schema of a page of `R`s (`ProductListDocument`).
pub type ListDocument<R> = Schema<List<R>>;

/// See [`SingleDocument`].
pub struct Single<R>(PhantomData<R>);
/// See [`ListDocument`].
pub struct List<R>(PhantomData<R>);

/// `included`, when `R` can include anything.
fn included_property<R: Resource>(
    registry: &mut Registry,
) -> Option<(&'static str, MetaSchemaRef)> {
    R::Included::item_schema(registry).map(|item| ("included", array(item)))
}

impl<R: Resource> SchemaDef for Single<R> {
    fn name() -> String {
        format!("{}Document", R::NAME)
    }

    fn schema(registry: &mut Registry) -> MetaSchema {
        let mut properties = vec![("data", registered::<ResourceSchema<R>>(registry))];
        properties.extend(included_property::<R>(registry));
        object(properties, vec!["data"])
    }
}

impl<R: Resource> SchemaDef for List<R> {
    fn name() -> String {
        format!("{}ListDocument", R::NAME)
    }

    fn schema(registry: &mut Registry) -> MetaSchema {
        let mut properties = vec![("data", array(registered::<ResourceSchema<R>>(registry)))];
        properties.extend(included_property::<R>(registry));
        properties.push(("links", registered::<ListLinksSchema>(registry)));
        properties.push(("meta", registered::<ListMetaSchema>(registry)));
        object(properties, vec!["data", "links", "meta"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_documents_have_only_data() {
        let doc = Document::<_, ()>::new(json!({"type": "x", "id": "1"}), Vec::new());
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
}
