//! One description per resource type: [`Resource`] names the type, its attributes
//! (one struct that derives both `serde::Serialize` — the JSON — and
//! `poem_openapi::Object` — the OpenAPI schema), its relationships and its URL.
//! Everything else is generic over it: the resource object ([`ResourceObject`]) with
//! sparse fieldsets, the documents and their schemas (`document`), the
//! `fields[type]` parameter (`query`) and the request documents (`body`).

use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use uuid::Uuid;

use super::error::ApiError;
use super::query::Fields;
use super::schema::{Schema, SchemaDef, object, string_enum};

/// A JSON:API resource type.
///
/// `Attributes` is the single description of the attributes: its `Serialize` gives
/// the JSON, its `Object` derive the OpenAPI schema (served without `required`, since
/// sparse fieldsets may leave out any attribute). [`Resource::ATTRIBUTES`] lists the
/// same names for `fields[type]`; a unit test checks the two agree.
pub trait Resource: Sized + Send + Sync + 'static {
    /// The domain value shown as this resource.
    type Model;
    /// The attributes: `#[derive(Serialize, Object)]` with camelCase names.
    type Attributes: Serialize + Type;
    /// What `include` may add to its documents: `()` for nothing, or the related
    /// resource type.
    type Included: Includable;
    /// The `type` member.
    const TYPE: &'static str;
    /// The stem of its OpenAPI names: `Product` gives `ProductResource`,
    /// `ProductDocument`, `ProductListDocument`, …
    const NAME: &'static str;
    /// The collection URL; `links.self` is `{PATH}/{id}`. `None`: no self link.
    const PATH: Option<&'static str>;
    /// The attribute names, as in `Attributes`.
    const ATTRIBUTES: &'static [&'static str];
    /// The relationships, in the order of [`Resource::linkage`].
    const RELATIONSHIPS: &'static [Relationship] = &[];
    /// One resource per caller at `PATH` itself (`/v1/cart`): `links.self` is `PATH`.
    const SINGLETON: bool = false;

    /// The resource id.
    fn id(model: &Self::Model) -> Uuid;
    /// Linkage of each relationship, in the order of [`Resource::RELATIONSHIPS`].
    fn linkage(_model: &Self::Model) -> Vec<Linkage> {
        Vec::new()
    }
    /// The attributes, taking the model apart (no copies of its text).
    fn attributes(model: Self::Model) -> Self::Attributes;

    /// `model` as a resource object showing `fields`.
    fn object<'f>(model: Self::Model, fields: Fields<'f>) -> ResourceObject<'f, Self> {
        ResourceObject::new(model, fields)
    }

    /// The URL of the resource `id`.
    fn self_link(id: Uuid) -> Option<String> {
        match Self::SINGLETON {
            true => Self::PATH.map(str::to_owned),
            false => Self::PATH.map(|path| format!("{path}/{id}")),
        }
    }

    /// Whether `name` is an attribute or relationship (for `fields[type]`).
    fn has_field(name: &str) -> bool {
        Self::ATTRIBUTES.contains(&name) || Self::RELATIONSHIPS.iter().any(|r| r.name == name)
    }
}

/// A relationship of a resource type, described once for its JSON and its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relationship {
    /// Its name (`category`).
    pub name: &'static str,
    /// The related resource type (`categories`).
    pub target: &'static str,
    /// Whether `data` may be `null` (a to-one relationship that can be empty).
    pub nullable: bool,
    /// A to-many relationship: `data` is an array of identifiers.
    pub many: bool,
}

impl Relationship {
    /// A to-one relationship that always names a resource.
    pub const fn to_one(name: &'static str, target: &'static str) -> Self {
        Self {
            name,
            target,
            nullable: false,
            many: false,
        }
    }

    /// A to-one relationship whose `data` may be `null`.
    pub const fn optional(name: &'static str, target: &'static str) -> Self {
        Self {
            name,
            target,
            nullable: true,
            many: false,
        }
    }

    /// A to-many relationship (`data` is an array, maybe empty).
    pub const fn to_many(name: &'static str, target: &'static str) -> Self {
        Self {
            name,
            target,
            nullable: false,
            many: true,
        }
    }
}

/// The data of one relationship of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkage {
    /// A to-one relationship: the related id, or none.
    One(Option<Uuid>),
    /// A to-many relationship: the related ids.
    Many(Vec<Uuid>),
    /// Not loaded for this answer: the relationship is left out (JSON:API makes every
    /// relationship member optional; an included resource's is always loaded).
    NotLoaded,
}

/// A resource object ready to serialise: `type`, `id`, `attributes` (only the asked
/// fields), `relationships` (when it has any asked for) and `links.self`.
pub struct ResourceObject<'f, R: Resource> {
    id: Uuid,
    attributes: R::Attributes,
    linkage: Vec<Linkage>,
    fields: Fields<'f>,
}

impl<'f, R: Resource> ResourceObject<'f, R> {
    /// `model`, showing `fields`.
    pub fn new(model: R::Model, fields: Fields<'f>) -> Self {
        let id = R::id(&model);
        let linkage = R::linkage(&model);
        Self {
            id,
            attributes: R::attributes(model),
            linkage,
            fields,
        }
    }

    /// The resource id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Its URL (`links.self`), when the type has one.
    pub fn self_link(&self) -> Option<String> {
        R::self_link(self.id)
    }
}

impl<R: Resource> Serialize for ResourceObject<'_, R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", R::TYPE)?;
        map.serialize_entry("id", &self.id)?;
        if self.fields.is_all() {
            map.serialize_entry("attributes", &self.attributes)?;
        } else {
            map.serialize_entry(
                "attributes",
                &Sparse {
                    value: &self.attributes,
                    fields: self.fields,
                },
            )?;
        }
        let shown = R::RELATIONSHIPS
            .iter()
            .zip(&self.linkage)
            .filter(|(relationship, linkage)| {
                **linkage != Linkage::NotLoaded && self.fields.allows(relationship.name)
            });
        if shown.clone().next().is_some() {
            map.serialize_entry("relationships", &Relationships(shown))?;
        }
        if let Some(path) = R::PATH {
            let id = (!R::SINGLETON).then_some(&self.id);
            map.serialize_entry("links", &SelfLink { path, id })?;
        }
        map.end()
    }
}

/// Attributes narrowed to a sparse fieldset. Only requests with `fields[type]` pay
/// for the detour through a `serde_json::Value`.
struct Sparse<'a, T> {
    value: &'a T,
    fields: Fields<'a>,
}

impl<T: Serialize> Serialize for Sparse<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = serde_json::to_value(self.value).map_err(serde::ser::Error::custom)?;
        let mut map = serializer.serialize_map(None)?;
        if let serde_json::Value::Object(members) = value {
            for (name, value) in members.iter().filter(|(name, _)| self.fields.allows(name)) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

struct Relationships<I>(I);

impl<'a, I> Serialize for Relationships<I>
where
    I: Iterator<Item = (&'a Relationship, &'a Linkage)> + Clone,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (relationship, linkage) in self.0.clone() {
            map.serialize_entry(relationship.name, &Related(relationship, linkage))?;
        }
        map.end()
    }
}

/// `{"data": null | {"type": …, "id": …}}`.
struct Related<'a>(&'a Relationship, &'a Linkage);

impl Serialize for Related<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self.1 {
            Linkage::One(Some(id)) => map.serialize_entry(
                "data",
                &Identifier {
                    kind: self.0.target,
                    id,
                },
            )?,
            Linkage::One(None) => map.serialize_entry("data", &())?,
            Linkage::Many(ids) => map.serialize_entry(
                "data",
                &ids.iter()
                    .map(|id| Identifier {
                        kind: self.0.target,
                        id,
                    })
                    .collect::<Vec<_>>(),
            )?,
            Linkage::NotLoaded => map.serialize_entry("data", &())?,
        }
        map.end()
    }
}

/// A resource identifier object.
#[derive(Serialize)]
struct Identifier<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a Uuid,
}

/// `{"self": "{path}/{id}"}`, written without building the URL first.
struct SelfLink<'a> {
    path: &'a str,
    /// `None` for a singleton, whose link is its path.
    id: Option<&'a Uuid>,
}

impl Serialize for SelfLink<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self.id {
            Some(id) => map.serialize_entry("self", &format_args!("{}/{id}", self.path))?,
            None => map.serialize_entry("self", self.path)?,
        }
        map.end()
    }
}

/// What a document's `included` member may hold.
pub trait Includable {
    /// One member of `included`.
    type Item<'f>: Serialize;
    /// The schema of one included resource object; `None` when nothing can be
    /// included.
    fn item_schema(registry: &mut Registry) -> Option<MetaSchemaRef>;
}

impl Includable for () {
    type Item<'f> = ();
    fn item_schema(_registry: &mut Registry) -> Option<MetaSchemaRef> {
        None
    }
}

impl<R: Resource> Includable for R {
    type Item<'f> = ResourceObject<'f, R>;
    fn item_schema(registry: &mut Registry) -> Option<MetaSchemaRef> {
        Some(super::schema::registered::<ResourceSchema<R>>(registry))
    }
}

/// Two resource types that may be included (an order's shipment and payments).
impl<A: Resource, B: Resource> Includable for (A, B) {
    type Item<'f> = IncludedEither<'f, A, B>;
    fn item_schema(registry: &mut Registry) -> Option<MetaSchemaRef> {
        Some(MetaSchemaRef::Inline(Box::new(MetaSchema {
            one_of: vec![
                super::schema::registered::<ResourceSchema<A>>(registry),
                super::schema::registered::<ResourceSchema<B>>(registry),
            ],
            ..MetaSchema::ANY
        })))
    }
}

/// A member of `included` of one of two types.
pub enum IncludedEither<'f, A: Resource, B: Resource> {
    /// Of the first type.
    First(ResourceObject<'f, A>),
    /// Of the second type.
    Second(ResourceObject<'f, B>),
}

impl<A: Resource, B: Resource> Serialize for IncludedEither<'_, A, B> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::First(object) => object.serialize(serializer),
            Self::Second(object) => object.serialize(serializer),
        }
    }
}

// ---- OpenAPI ----

/// The schema of `R`'s resource objects (`ProductResource`).
pub type ResourceSchema<R> = Schema<ResourceDef<R>>;

/// See [`ResourceSchema`].
pub struct ResourceDef<R>(PhantomData<R>);

impl<R: Resource> SchemaDef for ResourceDef<R> {
    fn name() -> String {
        format!("{}Resource", R::NAME)
    }

    fn schema(registry: &mut Registry) -> MetaSchema {
        let mut properties = vec![
            ("type", string_enum(&[R::TYPE])),
            ("id", uuid_schema()),
            ("attributes", response_attributes::<R>(registry)),
        ];
        let mut required = vec!["type", "id", "attributes"];
        if !R::RELATIONSHIPS.is_empty() {
            properties.push((
                "relationships",
                MetaSchemaRef::Inline(Box::new(object(
                    R::RELATIONSHIPS
                        .iter()
                        .map(|relationship| (relationship.name, relationship_schema(relationship)))
                        .collect(),
                    Vec::new(),
                ))),
            ));
        }
        if R::PATH.is_some() {
            properties.push((
                "links",
                MetaSchemaRef::Inline(Box::new(object(
                    vec![(
                        "self",
                        MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
                    )],
                    vec!["self"],
                ))),
            ));
            required.push("links");
        }
        let mut schema = object(properties, required);
        schema.description =
            Some("A resource object; `fields[type]` narrows its attributes and relationships.");
        schema
    }
}

/// The attributes schema of `R` as answers show it: registered from its `Object`
/// derive, with no member required (a sparse fieldset may leave any out).
fn response_attributes<R: Resource>(registry: &mut Registry) -> MetaSchemaRef {
    R::Attributes::register(registry);
    let reference = R::Attributes::schema_ref();
    if let MetaSchemaRef::Reference(name) = &reference
        && let Some(schema) = registry.schemas.get_mut(name)
    {
        schema.required.clear();
    }
    reference
}

/// A UUID string.
pub fn uuid_schema() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "uuid")))
}

/// A resource identifier object of `target` (`{"type": target, "id": uuid}`).
pub fn identifier_schema(target: &'static str, nullable: bool) -> MetaSchemaRef {
    let mut schema = object(
        vec![
            ("type", string_enum(&[target])),
            ("id", uuid_schema()),
            (
                "meta",
                MetaSchemaRef::Inline(Box::new(MetaSchema::new("object"))),
            ),
        ],
        vec!["type", "id"],
    );
    schema.nullable = nullable;
    MetaSchemaRef::Inline(Box::new(schema))
}

/// The id in a resource's URL: a UUID, else 404 — no `what` has that id (a malformed
/// id names nothing, as an unknown one does).
pub fn path_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(what, raw))
}

/// `{"data": identifier | null}`, or `{"data": [identifier, …]}` when to-many.
pub fn relationship_schema(relationship: &Relationship) -> MetaSchemaRef {
    let identifier = identifier_schema(relationship.target, relationship.nullable);
    let data = match relationship.many {
        true => super::schema::array(identifier),
        false => identifier,
    };
    MetaSchemaRef::Inline(Box::new(object(vec![("data", data)], vec!["data"])))
}
