//! Request documents, read declaratively. Each write operation describes its
//! document once as a [`Write`] — the resource type, whether a client may send an
//! id, and which attributes and relationships it takes (required, optional or
//! nullable). From that one description come both the request schema in the OpenAPI
//! document ([`RequestDocument`]) and the structural checks of [`Reader`]; the
//! operation's door into the domain then converts each member with a parser, and
//! every problem is reported with its JSON Pointer, several at once.
//!
//! Status codes, the same for every body:
//! - the document's structure (not an object, no `data`, unknown members, a member of
//!   the wrong JSON type, an id that is not a UUID): 400;
//! - `type` (of the resource or of a relationship's data) not the one expected, or
//!   `id` not the one in the URL: 409;
//! - a client-generated id where the server makes ids, a read-only attribute or
//!   relationship: 403;
//! - a value of the right JSON type that breaks a rule (empty name, negative or
//!   over-precise price, zero delta) or a required member left out: 422.

use std::marker::PhantomData;

use poem::http::StatusCode;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::{ApiError, ErrorObject, escape_pointer_token};
use super::resource::{Relationship, Resource, identifier_schema, uuid_schema};
use super::schema::{SchemaDef, object, string_enum};

/// Whether a request may carry `data.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientId {
    /// The server makes ids: an `id` is refused (403).
    Refused,
    /// A client-generated id (a UUID) may be sent.
    Allowed,
    /// `id` is required and must be the id in the URL (updates).
    MatchesUrl,
}

/// How an operation takes one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// It must be present.
    Required,
    /// It may be left out.
    Optional,
    /// It may be left out or `null`.
    Nullable,
}

/// One member an operation takes.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    /// Its name.
    pub name: &'static str,
    /// Required, optional or nullable.
    pub rule: Rule,
    /// Its schema when the served attribute's does not describe what requests take
    /// (a password or a quantity delta, which answers never show; a price, which
    /// requests send with its rules spelled out).
    pub schema: Option<fn() -> MetaSchemaRef>,
}

impl Member {
    /// A required member.
    pub const fn required(name: &'static str) -> Self {
        Self::new(name, Rule::Required)
    }

    /// A member that may be left out.
    pub const fn optional(name: &'static str) -> Self {
        Self::new(name, Rule::Optional)
    }

    /// A member that may be left out or `null`.
    pub const fn nullable(name: &'static str) -> Self {
        Self::new(name, Rule::Nullable)
    }

    const fn new(name: &'static str, rule: Rule) -> Self {
        Self {
            name,
            rule,
            schema: None,
        }
    }

    /// `schema` documents the member in requests (see [`Member::schema`]).
    pub const fn with_schema(mut self, schema: fn() -> MetaSchemaRef) -> Self {
        self.schema = Some(schema);
        self
    }
}

/// The request document of one write operation.
pub trait Write: Send + Sync + 'static {
    /// The resource type the document carries.
    type Resource: Resource;
    /// The stem of its OpenAPI name: `ProductCreate` → `ProductCreateDocument`.
    const NAME: &'static str;
    /// Whether `data.id` may or must be sent.
    const ID: ClientId;
    /// The attributes it takes.
    const ATTRIBUTES: &'static [Member];
    /// The relationships it takes (by name, from the resource's relationships).
    const RELATIONSHIPS: &'static [Member] = &[];
}

/// Top-level members a request document may have besides `data`; they are ignored.
const IGNORED_TOP_LEVEL: &[&str] = &["meta", "jsonapi"];
/// Members of a resource object besides `type`, `id`, `attributes` and `relationships`
/// that are accepted and ignored.
const IGNORED_IN_RESOURCE: &[&str] = &["meta", "links"];

/// Why a member's value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// The wrong JSON type: "`name` must be {expected}" (400).
    Type(&'static str),
    /// The right type but a broken rule; the message says which (422).
    Value(String),
    /// Problems inside an array, by index.
    Items(Vec<(usize, Invalid)>),
    /// Problems inside an object, by member name.
    Members(Vec<(String, Invalid)>),
}

/// A parser of one member's value.
pub type Parser<'p, T> = &'p dyn Fn(&Value) -> Result<T, Invalid>;

/// The primary resource object of a request document, checked against its
/// [`Write`] description; its members are taken with the typed accessors, and
/// [`Reader::finish`] answers with every problem found.
pub struct Reader<'v, W: Write> {
    id: Option<Uuid>,
    attributes: Option<&'v Map<String, Value>>,
    relationships: Option<&'v Map<String, Value>>,
    problems: Vec<ErrorObject>,
    _write: PhantomData<W>,
}

impl<'v, W: Write> Reader<'v, W> {
    /// Reads the structure of `document` (400/403/409 for the first kind of problem
    /// that stops reading, otherwise problems are collected). `url_id` is the id in
    /// the URL for [`ClientId::MatchesUrl`].
    pub fn new(document: &'v Value, url_id: Option<Uuid>) -> Result<Self, ApiError> {
        let resource = primary_resource(document, <W::Resource as Resource>::TYPE)?;
        let id = read_id(resource.id, W::ID, url_id)?;
        let mut reader = Self {
            id,
            attributes: resource.attributes,
            relationships: resource.relationships,
            problems: Vec::new(),
            _write: PhantomData,
        };
        reader.check_members();
        Ok(reader)
    }

    /// The client-generated id, when [`ClientId::Allowed`] and sent.
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    /// Refuses members this operation does not take, and reports required ones left
    /// out.
    fn check_members(&mut self) {
        for (key, _) in self.attributes.into_iter().flatten() {
            if !W::ATTRIBUTES.iter().any(|member| member.name == key) {
                let problem = refused_attribute::<W::Resource>(key);
                self.problems.push(problem);
            }
        }
        for (key, _) in self.relationships.into_iter().flatten() {
            if !W::RELATIONSHIPS.iter().any(|member| member.name == key) {
                let known = <W::Resource as Resource>::RELATIONSHIPS
                    .iter()
                    .any(|relationship| relationship.name == key);
                self.problems.push(if known {
                    ErrorObject::new(
                        StatusCode::FORBIDDEN,
                        "read_only_relationship",
                        "Read-only relationship",
                        format!("{key} cannot be changed here."),
                    )
                    .at_pointer(relationship_pointer(key))
                } else {
                    ErrorObject::new(
                        StatusCode::BAD_REQUEST,
                        "unknown_relationship",
                        "Unknown relationship",
                        format!("{key:?} is not a relationship of this resource."),
                    )
                    .at_pointer(relationship_pointer(key))
                });
            }
        }
        for member in W::ATTRIBUTES {
            let present = self
                .attributes
                .is_some_and(|map| map.contains_key(member.name));
            if member.rule == Rule::Required && !present {
                self.problems.push(missing_required(
                    &attribute_pointer(member.name),
                    member.name,
                ));
            }
        }
        for member in W::RELATIONSHIPS {
            let present = self
                .relationships
                .is_some_and(|map| map.contains_key(member.name));
            if member.rule == Rule::Required && !present {
                self.problems.push(missing_required(
                    &relationship_pointer(member.name),
                    &format!("relationships.{}", member.name),
                ));
            }
        }
    }

    fn member(&self, name: &str) -> Option<&'v Value> {
        debug_assert!(
            W::ATTRIBUTES.iter().any(|member| member.name == name),
            "{} does not take the attribute {name}",
            W::NAME
        );
        self.attributes.and_then(|map| map.get(name))
    }

    /// Whether the document sends the attribute `name` (`null` included).
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.is_some_and(|map| map.contains_key(name))
    }

    /// The attribute `name` parsed by `parse`: `None` when it is absent (a required
    /// one is reported missing already) or invalid (reported).
    pub fn attribute<T>(&mut self, name: &'static str, parse: Parser<'_, T>) -> Option<T> {
        let value = self.member(name)?;
        match parse(value) {
            Ok(value) => Some(value),
            Err(invalid) => {
                self.report(&attribute_pointer(name), name, invalid);
                None
            }
        }
    }

    /// A nullable attribute: absent → `None`, `null` → `Some(None)`, otherwise the
    /// parsed value (`None` when invalid, reported).
    pub fn nullable<T>(&mut self, name: &'static str, parse: Parser<'_, T>) -> Option<Option<T>> {
        match self.member(name)? {
            Value::Null => Some(None),
            _ => self.attribute(name, parse).map(Some),
        }
    }

    /// A to-one relationship: absent → `None`; `data: null` → `Some(None)` (refused
    /// for a relationship that cannot be empty); otherwise the related id.
    pub fn to_one(&mut self, name: &'static str) -> Option<Option<Uuid>> {
        debug_assert!(W::RELATIONSHIPS.iter().any(|member| member.name == name));
        let value = self.relationships.and_then(|map| map.get(name))?;
        let relationship = relationship_of::<W::Resource>(name);
        match to_one_relationship(name, value, relationship.target) {
            Ok(None) if !relationship.nullable => {
                self.problems.push(invalid_value(
                    &format!("{}/data", relationship_pointer(name)),
                    format!("{name} must name a resource; it cannot be null."),
                ));
                None
            }
            Ok(id) => Some(id),
            Err(problem) => {
                self.problems.push(problem);
                None
            }
        }
    }

    /// Records a problem found by the door itself.
    pub fn push(&mut self, problem: ErrorObject) {
        self.problems.push(problem);
    }

    /// Every problem found, or the value `build` makes of the members read (`build`
    /// returns `None` only when a member it needs is missing, which was reported).
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        if !self.problems.is_empty() {
            return Err(ApiError::from_objects(self.problems));
        }
        build()
            .ok_or_else(|| ApiError::from(missing_required("/data", "a member this request needs")))
    }

    fn report(&mut self, pointer: &str, name: &str, invalid: Invalid) {
        match invalid {
            Invalid::Type(expected) => {
                self.problems.push(invalid_type(pointer, name, expected));
            }
            Invalid::Value(detail) => self.problems.push(invalid_value(pointer, detail)),
            Invalid::Items(items) => {
                for (index, invalid) in items {
                    let pointer = format!("{pointer}/{index}");
                    self.report(&pointer, &format!("{name}[{index}]"), invalid);
                }
            }
            Invalid::Members(members) => {
                for (member, invalid) in members {
                    let pointer = format!("{pointer}/{}", escape_pointer_token(&member));
                    self.report(&pointer, &format!("{name}.{member}"), invalid);
                }
            }
        }
    }
}

/// The problem with an attribute `key` the operation does not take: read-only when
/// the resource has it (403), unknown otherwise (400), with a hint when it names a
/// relationship.
fn refused_attribute<R: Resource>(key: &str) -> ErrorObject {
    if R::ATTRIBUTES.contains(&key) || matches!(key, "id" | "type") {
        return ErrorObject::new(
            StatusCode::FORBIDDEN,
            "read_only_attribute",
            "Read-only attribute",
            format!("{key} is maintained by the server and cannot be set here."),
        )
        .at_pointer(attribute_pointer(key));
    }
    let stem = key
        .strip_suffix("Id")
        .or_else(|| key.strip_suffix("_id"))
        .unwrap_or(key);
    let detail = match R::RELATIONSHIPS.iter().find(|r| r.name == stem) {
        Some(relationship) => format!(
            "{key:?} is not an attribute: {name} is a relationship; set \
             relationships.{name}.data to {{\"type\": \"{target}\", \"id\": …}}.",
            name = relationship.name,
            target = relationship.target,
        ),
        None => format!("{key:?} is not an attribute of this resource."),
    };
    ErrorObject::new(
        StatusCode::BAD_REQUEST,
        "unknown_attribute",
        "Unknown attribute",
        detail,
    )
    .at_pointer(attribute_pointer(key))
}

fn relationship_of<R: Resource>(name: &str) -> Relationship {
    R::RELATIONSHIPS
        .iter()
        .find(|relationship| relationship.name == name)
        .copied()
        .unwrap_or_else(|| panic!("{} has no relationship {name}", R::TYPE))
}

/// The structure of the primary resource object.
struct ResourceParts<'v> {
    id: Option<&'v Value>,
    attributes: Option<&'v Map<String, Value>>,
    relationships: Option<&'v Map<String, Value>>,
}

/// Reads the structure of a request document whose primary data must be one resource
/// object of `expected_type`.
fn primary_resource<'v>(
    document: &'v Value,
    expected_type: &str,
) -> Result<ResourceParts<'v>, ApiError> {
    let Some(top) = document.as_object() else {
        return Err(ApiError::from(
            ApiError::bad_request(
                "invalid_document",
                "The request document must be a JSON object.",
            )
            .at_pointer(""),
        ));
    };
    let mut errors = Vec::new();
    for key in top.keys() {
        if key != "data" && !IGNORED_TOP_LEVEL.contains(&key.as_str()) {
            errors.push(unknown_member(
                &format!("/{}", escape_pointer_token(key)),
                key,
            ));
        }
    }
    errors.extend(non_objects(top, IGNORED_TOP_LEVEL, ""));
    let Some(data) = top.get("data") else {
        errors.push(missing_member("/data", "data"));
        return Err(ApiError::from_objects(errors));
    };
    let Some(data) = data.as_object() else {
        errors.push(
            ApiError::bad_request("invalid_document", "data must be a single resource object.")
                .at_pointer("/data"),
        );
        return Err(ApiError::from_objects(errors));
    };
    let mut type_error = None;
    match data.get("type") {
        None => errors.push(missing_member("/data/type", "type")),
        Some(Value::String(kind)) if kind == expected_type => {}
        Some(Value::String(kind)) => {
            type_error = Some(type_mismatch("/data/type", kind, expected_type));
        }
        Some(_) => errors.push(invalid_type("/data/type", "type", "a string")),
    }
    for key in data.keys() {
        let known = matches!(key.as_str(), "type" | "id" | "attributes" | "relationships")
            || IGNORED_IN_RESOURCE.contains(&key.as_str());
        if !known {
            errors.push(unknown_member(
                &format!("/data/{}", escape_pointer_token(key)),
                key,
            ));
        }
    }
    errors.extend(non_objects(data, IGNORED_IN_RESOURCE, "/data"));
    let mut object_member = |name: &str| match data.get(name) {
        None => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => {
            errors.push(invalid_type(&format!("/data/{name}"), name, "an object"));
            None
        }
    };
    let attributes = object_member("attributes");
    let relationships = object_member("relationships");
    // A wrong type is a conflict about the whole document: answer it alone (409).
    if let Some(conflict) = type_error {
        return Err(ApiError::from(conflict));
    }
    if !errors.is_empty() {
        return Err(ApiError::from_objects(errors));
    }
    Ok(ResourceParts {
        id: data.get("id"),
        attributes,
        relationships,
    })
}

/// Checks `data.id` against the operation's rule.
fn read_id(
    id: Option<&Value>,
    rule: ClientId,
    url_id: Option<Uuid>,
) -> Result<Option<Uuid>, ApiError> {
    match (rule, id) {
        (ClientId::Refused, None) | (ClientId::Allowed, None) => Ok(None),
        (ClientId::Refused, Some(_)) => Err(ApiError::from(
            ErrorObject::new(
                StatusCode::FORBIDDEN,
                "client_id_unsupported",
                "Client-generated ids are not supported",
                "Leave out data.id: the server assigns it.",
            )
            .at_pointer("/data/id"),
        )),
        (ClientId::Allowed, Some(Value::String(text))) => {
            Uuid::parse_str(text).map(Some).map_err(|_| {
                ApiError::from(
                    ErrorObject::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_id",
                        "Invalid id",
                        "data.id must be a UUID.",
                    )
                    .at_pointer("/data/id"),
                )
            })
        }
        (ClientId::MatchesUrl, None) => Err(ApiError::from(missing_member("/data/id", "id"))),
        (ClientId::MatchesUrl, Some(Value::String(text))) => {
            let url_id = url_id.expect("an update reads its document with the id of its URL");
            match Uuid::parse_str(text) {
                Ok(id) if id == url_id => Ok(Some(id)),
                _ => Err(ApiError::from(
                    ErrorObject::new(
                        StatusCode::CONFLICT,
                        "id_mismatch",
                        "Id mismatch",
                        format!("data.id {text:?} does not match the id in the URL ({url_id})."),
                    )
                    .at_pointer("/data/id"),
                )),
            }
        }
        (_, Some(_)) => Err(ApiError::from(invalid_type("/data/id", "id", "a string"))),
    }
}

/// The pointer of attribute `name`.
pub fn attribute_pointer(name: &str) -> String {
    format!("/data/attributes/{}", escape_pointer_token(name))
}

/// The pointer of relationship `name`.
pub fn relationship_pointer(name: &str) -> String {
    format!("/data/relationships/{}", escape_pointer_token(name))
}

/// 400: a member this resource does not have.
fn unknown_member(pointer: &str, name: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::BAD_REQUEST,
        "unknown_member",
        "Unknown member",
        format!("{name:?} is not a member this request accepts."),
    )
    .at_pointer(pointer)
}

/// 400: a member of the wrong JSON type.
fn invalid_type(pointer: &str, name: &str, expected: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::BAD_REQUEST,
        "invalid_type",
        "Wrong JSON type",
        format!("{name} must be {expected}."),
    )
    .at_pointer(pointer)
}

/// 422: a value that breaks a rule; `detail` says which.
pub fn invalid_value(pointer: &str, detail: impl Into<String>) -> ErrorObject {
    ErrorObject::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        "Invalid value",
        detail,
    )
    .at_pointer(pointer)
}

/// 422: a required member left out.
fn missing_required(pointer: &str, name: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
        "Required member missing",
        format!("{name} is required."),
    )
    .at_pointer(pointer)
}

/// 400: a structural member of the document left out.
fn missing_member(pointer: &str, name: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::BAD_REQUEST,
        "missing_member",
        "Missing member",
        format!("The request document needs {name}."),
    )
    .at_pointer(pointer)
}

/// 409: `type` names another resource type.
fn type_mismatch(pointer: &str, found: &str, expected: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::CONFLICT,
        "type_mismatch",
        "Type mismatch",
        format!("type must be {expected:?} here, not {found:?}."),
    )
    .at_pointer(pointer)
}

/// 400 for each of `names` that `object` (at `base`) has with a value other than an
/// object: `meta`, `links` and `jsonapi` are ignored, but must be what JSON:API says.
fn non_objects<'a>(
    object: &'a Map<String, Value>,
    names: &'a [&str],
    base: &'a str,
) -> impl Iterator<Item = ErrorObject> + 'a {
    names
        .iter()
        .filter_map(move |name| match object.get(*name) {
            Some(value) if !value.is_object() => {
                Some(invalid_type(&format!("{base}/{name}"), name, "an object"))
            }
            _ => None,
        })
}

/// Reads a to-one relationship `{"data": null | {"type": …, "id": …}}` whose target
/// must be of `expected_type`; `None` for `data: null`.
fn to_one_relationship(
    name: &str,
    value: &Value,
    expected_type: &str,
) -> Result<Option<Uuid>, ErrorObject> {
    let base = relationship_pointer(name);
    let Some(object) = value.as_object() else {
        return Err(invalid_type(
            &base,
            name,
            "a relationship object with a data member",
        ));
    };
    if let Some(key) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "data" | "meta" | "links"))
    {
        return Err(unknown_member(
            &format!("{base}/{}", escape_pointer_token(key)),
            key,
        ));
    }
    if let Some(error) = non_objects(object, &["meta", "links"], &base).next() {
        return Err(error);
    }
    let data_pointer = format!("{base}/data");
    let identifier = match object.get("data") {
        None => return Err(missing_member(&data_pointer, "data")),
        Some(Value::Null) => return Ok(None),
        Some(Value::Object(identifier)) => identifier,
        Some(_) => {
            return Err(invalid_type(
                &data_pointer,
                "data",
                "a resource identifier object or null",
            ));
        }
    };
    if let Some(key) = identifier
        .keys()
        .find(|k| !matches!(k.as_str(), "type" | "id" | "meta"))
    {
        return Err(unknown_member(
            &format!("{data_pointer}/{}", escape_pointer_token(key)),
            key,
        ));
    }
    if let Some(error) = non_objects(identifier, &["meta"], &data_pointer).next() {
        return Err(error);
    }
    match identifier.get("type") {
        Some(Value::String(kind)) if kind == expected_type => {}
        Some(Value::String(kind)) => {
            return Err(type_mismatch(
                &format!("{data_pointer}/type"),
                kind,
                expected_type,
            ));
        }
        Some(_) => {
            return Err(invalid_type(
                &format!("{data_pointer}/type"),
                "type",
                "a string",
            ));
        }
        None => return Err(missing_member(&format!("{data_pointer}/type"), "type")),
    }
    let id_pointer = format!("{data_pointer}/id");
    match identifier.get("id") {
        Some(Value::String(id)) => Uuid::parse_str(id).map(Some).map_err(|_| {
            ErrorObject::new(
                StatusCode::BAD_REQUEST,
                "invalid_id",
                "Invalid id",
                format!("{id:?} is not a valid {expected_type} id (a UUID)."),
            )
            .at_pointer(id_pointer)
        }),
        Some(_) => Err(invalid_type(&id_pointer, "id", "a string")),
        None => Err(missing_member(&id_pointer, "id")),
    }
}

// ---- parsers ----

/// A string, converted by `make` (a value object's constructor).
pub fn text<T, E: std::fmt::Display>(
    make: impl Fn(String) -> Result<T, E>,
) -> impl Fn(&Value) -> Result<T, Invalid> {
    move |value| match value {
        Value::String(text) => {
            make(text.clone()).map_err(|error| Invalid::Value(error.to_string()))
        }
        _ => Err(Invalid::Type("a string")),
    }
}

/// A UUID string (an id given in an attribute, e.g. a line's `productId`), wrapped by
/// `make`; `what` names it in the message.
pub fn uuid_id<T>(
    what: &'static str,
    make: impl Fn(uuid::Uuid) -> T,
) -> impl Fn(&Value) -> Result<T, Invalid> {
    move |value| match value {
        Value::String(text) => uuid::Uuid::parse_str(text)
            .map(&make)
            .map_err(|_| Invalid::Value(format!("{text:?} is not {what} (a UUID)."))),
        _ => Err(Invalid::Type("a string")),
    }
}

/// `true` or `false`.
pub fn boolean(value: &Value) -> Result<bool, Invalid> {
    value.as_bool().ok_or(Invalid::Type("true or false"))
}

/// A JSON integer (no fraction or exponent), converted by `make`.
pub fn integer<T, E: std::fmt::Display>(
    make: impl Fn(i64) -> Result<T, E>,
) -> impl Fn(&Value) -> Result<T, Invalid> {
    move |value| match value {
        Value::Number(number) => match number.as_i64() {
            Some(n) => make(n).map_err(|error| Invalid::Value(error.to_string())),
            None if number.is_u64() => Err(Invalid::Value("the number is out of range.".into())),
            None => Err(Invalid::Type("an integer")),
        },
        _ => Err(Invalid::Type("an integer")),
    }
}

/// An array whose items `item` parses; every bad item is reported at its index.
pub fn list<T>(
    item: impl Fn(&Value) -> Result<T, Invalid>,
) -> impl Fn(&Value) -> Result<Vec<T>, Invalid> {
    move |value| {
        let Value::Array(items) = value else {
            return Err(Invalid::Type("an array"));
        };
        let mut parsed = Vec::with_capacity(items.len());
        let mut problems = Vec::new();
        for (index, item_value) in items.iter().enumerate() {
            match item(item_value) {
                Ok(value) => parsed.push(value),
                Err(invalid) => problems.push((index, invalid)),
            }
        }
        if problems.is_empty() {
            Ok(parsed)
        } else {
            Err(Invalid::Items(problems))
        }
    }
}

/// Reads the members of a JSON object that is an attribute's value (an address, one
/// line of a list): each member through its own parser, every problem kept with its
/// member's name (so its pointer ends in it), unknown members refused.
pub struct ObjectReader<'v> {
    members: &'v Map<String, Value>,
    known: Vec<&'static str>,
    problems: Vec<(String, Invalid)>,
}

impl<'v> ObjectReader<'v> {
    /// A reader of `value`; `Invalid::Type` when it is not an object.
    pub fn new(value: &'v Value) -> Result<Self, Invalid> {
        match value {
            Value::Object(members) => Ok(Self {
                members,
                known: Vec::new(),
                problems: Vec::new(),
            }),
            _ => Err(Invalid::Type("an object")),
        }
    }

    /// The member `name`, required.
    pub fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&Value) -> Result<T, Invalid>,
    ) -> Option<T> {
        self.known.push(name);
        match self.members.get(name) {
            None => {
                self.problems.push((
                    name.to_owned(),
                    Invalid::Value(format!("{name} is required.")),
                ));
                None
            }
            Some(value) => self.parse(name, value, parse),
        }
    }

    /// The member `name`, optional; `null` counts as absent.
    pub fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&Value) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        self.known.push(name);
        match self.members.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(value) => self.parse(name, value, parse).map(Some),
        }
    }

    fn parse<T>(
        &mut self,
        name: &'static str,
        value: &Value,
        parse: impl Fn(&Value) -> Result<T, Invalid>,
    ) -> Option<T> {
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(invalid) => {
                self.problems.push((name.to_owned(), invalid));
                None
            }
        }
    }

    /// The value `build` makes of the members read, or every problem found
    /// (unknown members included).
    pub fn finish<T>(mut self, build: impl FnOnce() -> Option<T>) -> Result<T, Invalid> {
        for name in self.members.keys() {
            if !self.known.contains(&name.as_str()) {
                self.problems.push((
                    name.clone(),
                    Invalid::Value(format!("{name} is not a known member.")),
                ));
            }
        }
        if !self.problems.is_empty() {
            return Err(Invalid::Members(self.problems));
        }
        build().ok_or_else(|| Invalid::Value("the object is incomplete.".to_owned()))
    }
}

// ---- OpenAPI ----

/// The schema of `W`'s request document (`ProductCreateDocument`), from the
/// resource's attributes schema and `W`'s members.
pub struct RequestDocument<W>(PhantomData<W>);

impl<W: Write> SchemaDef for RequestDocument<W> {
    fn name() -> String {
        format!("{}{REQUEST_SUFFIX}", W::NAME)
    }

    fn schema(registry: &mut Registry) -> MetaSchema {
        type Attributes<W> = <<W as Write>::Resource as Resource>::Attributes;
        Attributes::<W>::register(registry);
        let served = match Attributes::<W>::schema_ref() {
            MetaSchemaRef::Reference(name) => registry.schemas.get(&name).cloned(),
            MetaSchemaRef::Inline(schema) => Some(*schema),
        }
        .unwrap_or_else(|| MetaSchema::new("object"));
        let attributes = members_schema(W::ATTRIBUTES, |member| match member.schema {
            Some(schema) => schema(),
            None => served
                .properties
                .iter()
                .find(|(name, _)| *name == member.name)
                .map(|(_, schema)| schema.clone())
                .unwrap_or_else(|| panic!("{} has no attribute {}", W::NAME, member.name)),
        });
        let relationships = members_schema(W::RELATIONSHIPS, |member| {
            let relationship = relationship_of::<W::Resource>(member.name);
            MetaSchemaRef::Inline(Box::new(object(
                vec![
                    (
                        "data",
                        identifier_schema(relationship.target, relationship.nullable),
                    ),
                    ("meta", free_object()),
                    ("links", free_object()),
                ],
                vec!["data"],
            )))
        });
        let mut data = vec![
            ("type", string_enum(&[<W::Resource as Resource>::TYPE])),
            ("meta", free_object()),
            ("links", free_object()),
        ];
        let mut data_required = vec!["type"];
        match W::ID {
            ClientId::Refused => {}
            ClientId::Allowed => data.push(("id", uuid_schema())),
            ClientId::MatchesUrl => {
                data.push(("id", uuid_schema()));
                data_required.push("id");
            }
        }
        if !W::ATTRIBUTES.is_empty() {
            if !attributes.required.is_empty() {
                data_required.push("attributes");
            }
            data.push(("attributes", MetaSchemaRef::Inline(Box::new(attributes))));
        }
        if !W::RELATIONSHIPS.is_empty() {
            if !relationships.required.is_empty() {
                data_required.push("relationships");
            }
            data.push((
                "relationships",
                MetaSchemaRef::Inline(Box::new(relationships)),
            ));
        }
        object(
            vec![
                (
                    "data",
                    MetaSchemaRef::Inline(Box::new(object(data, data_required))),
                ),
                ("meta", free_object()),
                ("jsonapi", free_object()),
            ],
            vec!["data"],
        )
    }
}

/// The suffix of every request document's schema name (`ProductCreateRequest`). The
/// served document closes these objects (`additionalProperties: false`): requests
/// with members the reader does not know are refused.
pub const REQUEST_SUFFIX: &str = "Request";

/// An object of any members (`meta`, `links` and `jsonapi`, which requests may carry
/// and the server ignores).
fn free_object() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema::new("object")))
}

/// An object of `members`, each schema from `schema`, nullable ones marked.
fn members_schema(members: &[Member], schema: impl Fn(&Member) -> MetaSchemaRef) -> MetaSchema {
    let properties = members
        .iter()
        .map(|member| {
            let mut property = schema(member);
            if member.rule == Rule::Nullable {
                property = property.merge(MetaSchema {
                    nullable: true,
                    ..MetaSchema::ANY
                });
            }
            (member.name, property)
        })
        .collect();
    let required = members
        .iter()
        .filter(|member| member.rule == Rule::Required)
        .map(|member| member.name)
        .collect();
    object(properties, required)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(error: &ApiError) -> (u16, &'static str, String) {
        error.summary().remove(0)
    }

    fn pointer(at: &str) -> String {
        at.to_owned()
    }

    #[test]
    fn reads_a_resource_object() {
        let doc = json!({"data": {"type": "products", "attributes": {"name": "Cup"},
                                   "relationships": {"category": {"data": null}}},
                         "meta": {"x": 1}});
        let resource = primary_resource(&doc, "products").unwrap();
        assert_eq!(resource.attributes.map(Map::len), Some(1));
        assert_eq!(resource.relationships.map(Map::len), Some(1));
        assert!(resource.id.is_none());
    }

    #[test]
    fn structural_problems() {
        let cases = [
            (json!([]), (400, "invalid_document", pointer(""))),
            (json!({}), (400, "missing_member", pointer("/data"))),
            (
                json!({"data": []}),
                (400, "invalid_document", pointer("/data")),
            ),
            (
                json!({"data": {"type": "categories"}}),
                (409, "type_mismatch", pointer("/data/type")),
            ),
            (
                json!({"data": {"attributes": {}}}),
                (400, "missing_member", pointer("/data/type")),
            ),
            (
                json!({"data": {"type": "products"}, "jsonapi": [null]}),
                (400, "invalid_type", pointer("/jsonapi")),
            ),
            (
                json!({"data": {"type": "products", "links": null}}),
                (400, "invalid_type", pointer("/data/links")),
            ),
            (
                json!({"data": {"type": "products", "attributes": []}}),
                (400, "invalid_type", pointer("/data/attributes")),
            ),
            (
                json!({"data": {"type": "products", "colour/x": 1}}),
                (400, "unknown_member", pointer("/data/colour~1x")),
            ),
            (
                json!({"data": {"type": "products"}, "included": []}),
                (400, "unknown_member", pointer("/included")),
            ),
        ];
        for (doc, expected) in cases {
            let error = primary_resource(&doc, "products").err().unwrap();
            assert_eq!(problem(&error), expected, "{doc}");
        }
    }

    #[test]
    fn ids() {
        let id = Uuid::from_u128(5);
        let given = json!(id.to_string());
        assert_eq!(
            read_id(Some(&given), ClientId::MatchesUrl, Some(id)).unwrap(),
            Some(id)
        );
        assert_eq!(
            problem(
                &read_id(Some(&given), ClientId::MatchesUrl, Some(Uuid::from_u128(6))).unwrap_err()
            ),
            (409, "id_mismatch", pointer("/data/id"))
        );
        assert_eq!(
            problem(&read_id(Some(&given), ClientId::Refused, None).unwrap_err()),
            (403, "client_id_unsupported", pointer("/data/id"))
        );
        assert_eq!(
            read_id(Some(&given), ClientId::Allowed, None).unwrap(),
            Some(id)
        );
        assert_eq!(
            problem(&read_id(Some(&json!("x")), ClientId::Allowed, None).unwrap_err()),
            (400, "invalid_id", pointer("/data/id"))
        );
        assert_eq!(
            problem(&read_id(None, ClientId::MatchesUrl, Some(id)).unwrap_err()).0,
            400
        );
    }

    #[test]
    fn relationships() {
        let id = Uuid::from_u128(9);
        let good = json!({"data": {"type": "categories", "id": id.to_string()}});
        assert_eq!(
            to_one_relationship("category", &good, "categories").unwrap(),
            Some(id)
        );
        assert_eq!(
            to_one_relationship("category", &json!({"data": null}), "categories").unwrap(),
            None
        );
        let bad_id = json!({"data": {"type": "categories", "id": "42"}});
        let error = to_one_relationship("category", &bad_id, "categories").unwrap_err();
        assert_eq!(
            (error.status.as_u16(), error.source),
            (
                400,
                Some(super::super::error::ErrorSource::Pointer(
                    "/data/relationships/category/data/id".into()
                ))
            )
        );
        let wrong_type = json!({"data": {"type": "products", "id": id.to_string()}});
        let error = to_one_relationship("category", &wrong_type, "categories").unwrap_err();
        assert_eq!((error.status.as_u16(), error.code), (409, "type_mismatch"));
        let bare = json!(id.to_string());
        let error = to_one_relationship("category", &bare, "categories").unwrap_err();
        assert_eq!(error.status.as_u16(), 400);
    }

    #[test]
    fn integers() {
        let parse = integer(|n: i64| Ok::<i64, String>(n));
        assert_eq!(parse(&json!(-5)).unwrap(), -5);
        assert_eq!(parse(&json!(1.5)).unwrap_err(), Invalid::Type("an integer"));
        assert_eq!(parse(&json!("5")).unwrap_err(), Invalid::Type("an integer"));
        assert!(matches!(
            parse(&json!(u64::MAX)).unwrap_err(),
            Invalid::Value(_)
        ));
    }
}
