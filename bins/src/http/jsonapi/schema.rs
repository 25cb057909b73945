//! OpenAPI schemas: the generic [`Schema`] type through which documents derived from
//! a [`Resource`](super::resource::Resource) reach poem-openapi, small builders, and
//! the schemas every route shares (error documents, list links and meta).

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::Object;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;

/// A schema built by code (from a resource description) rather than derived.
pub trait SchemaDef: Send + Sync + 'static {
    /// Its name under `components/schemas`.
    fn name() -> String;
    /// The schema; registers what it refers to.
    fn schema(registry: &mut Registry) -> MetaSchema;
}

/// A poem-openapi [`Type`] for the schema `T` describes. Never serialised: answers
/// are written by the document serialisers, and this type only documents them.
pub struct Schema<T>(PhantomData<fn() -> T>);

impl<T: SchemaDef> Type for Schema<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        T::name().into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(T::name())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(T::name(), T::schema);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

/// An object schema with these properties, of which `required` are required.
pub fn object(
    properties: Vec<(&'static str, MetaSchemaRef)>,
    required: Vec<&'static str>,
) -> MetaSchema {
    MetaSchema {
        properties,
        required,
        ..MetaSchema::new("object")
    }
}

/// A string that is one of `values`.
pub fn string_enum(values: &[&'static str]) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        enum_items: values.iter().map(|v| serde_json::Value::from(*v)).collect(),
        ..MetaSchema::new("string")
    }))
}

/// An array of `items`.
pub fn array(items: MetaSchemaRef) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        items: Some(Box::new(items)),
        ..MetaSchema::new("array")
    }))
}

/// The registered schema of `T`, referenced.
pub fn registered<T: Type>(registry: &mut Registry) -> MetaSchemaRef {
    T::register(registry);
    T::schema_ref()
}

/// An array of 1 to `max_items` lines `{"productId": …, "quantity": …}`, each of 1 to
/// `max_quantity` units.
pub fn product_lines(
    max_quantity: i64,
    max_items: usize,
    description: Option<&'static str>,
) -> MetaSchemaRef {
    let quantity = MetaSchemaRef::Inline(Box::new(MetaSchema {
        minimum: Some(1.0),
        maximum: Some(max_quantity as f64),
        ..MetaSchema::new_with_format("integer", "int64")
    }));
    let line = MetaSchemaRef::Inline(Box::new(object(
        vec![
            ("productId", super::resource::uuid_schema()),
            ("quantity", quantity),
        ],
        vec!["productId", "quantity"],
    )));
    let MetaSchemaRef::Inline(mut lines) = array(line) else {
        unreachable!("array() is inline");
    };
    lines.min_items = Some(1);
    lines.max_items = Some(max_items);
    lines.description = description;
    MetaSchemaRef::Inline(lines)
}

/// A JSON:API error document.
#[derive(Object)]
#[oai(rename = "ErrorDocument")]
pub struct ErrorDocumentSchema {
    /// One object per problem.
    pub errors: Vec<ErrorObjectSchema>,
    /// On server-side failures: the request id to quote when reporting it.
    pub meta: Option<RequestIdMetaSchema>,
}

/// One problem with the request, or a server-side failure.
#[derive(Object)]
#[oai(rename = "ErrorObject")]
pub struct ErrorObjectSchema {
    /// The HTTP status as a string, e.g. `"422"`.
    pub status: String,
    /// A stable machine-readable code, e.g. `insufficient_stock`.
    pub code: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// What exactly was wrong.
    pub detail: String,
    /// Where in the request the problem is.
    pub source: Option<ErrorSourceSchema>,
    /// The request id of a server-side failure, or the resource at fault when no
    /// input member names it.
    pub meta: Option<ErrorObjectMetaSchema>,
}

/// `meta` of an error object: each member only where it applies.
#[derive(Object)]
#[oai(rename = "ErrorObjectMeta", rename_all = "camelCase")]
pub struct ErrorObjectMetaSchema {
    /// On server-side failures: the `X-Request-ID` of the failed request.
    pub request_id: Option<String>,
    /// The product at fault (`insufficient_stock` for an order placed from the cart
    /// or a reservation, `unknown_product`).
    pub product_id: Option<String>,
}

/// Where a problem is: one of the members is present.
#[derive(Object)]
#[oai(rename = "ErrorSource")]
pub struct ErrorSourceSchema {
    /// A JSON Pointer into the request document.
    pub pointer: Option<String>,
    /// A query parameter.
    pub parameter: Option<String>,
    /// A request header.
    pub header: Option<String>,
}

/// `meta` of server-side failures.
#[derive(Object)]
#[oai(rename = "RequestIdMeta", rename_all = "camelCase")]
pub struct RequestIdMetaSchema {
    /// The `X-Request-ID` of the failed request.
    pub request_id: String,
}

/// `links` of a list: every URL is root-relative and keeps the list's other query
/// parameters.
#[derive(Object)]
#[oai(rename = "ListLinks")]
pub struct ListLinksSchema {
    /// This page.
    #[oai(rename = "self")]
    pub self_: String,
    /// The first page.
    pub first: String,
    /// The previous page; `null` on the first.
    #[oai(nullable)]
    pub prev: Option<String>,
    /// The next page; `null` on the last.
    #[oai(nullable)]
    pub next: Option<String>,
    /// The last page.
    pub last: String,
}

/// `meta` of a list.
#[derive(Object)]
#[oai(rename = "ListMeta")]
pub struct ListMetaSchema {
    /// How many resources match, across all pages.
    pub total: u64,
}
