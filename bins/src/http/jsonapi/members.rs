//! Reading request documents member by member, each problem reported with the JSON
//! Pointer of the member at fault. The `try_into_domain()` door of every body type
//! is written with these helpers.
//!
//! Status codes, the same for every body:
//! - the document's structure (not an object, no `data`, unknown members, a member of
//!   the wrong JSON type, an id that is not a UUID): 400;
//! - `type` (of the resource or of a relationship's data) not the one expected, or
//!   `id` not the one in the URL: 409;
//! - a client-generated id on create, or a read-only attribute: 403;
//! - a value of the right JSON type that breaks a rule (empty name, negative or
//!   over-precise price, zero delta) or a required member left out: 422.

use poem::http::StatusCode;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::{ApiError, ErrorObject, escape_pointer_token};

/// Top-level members a request document may have besides `data`; they are ignored.
const IGNORED_TOP_LEVEL: &[&str] = &["meta", "jsonapi"];
/// Members of a resource object besides `type`, `id`, `attributes` and `relationships`
/// that are accepted and ignored.
const IGNORED_IN_RESOURCE: &[&str] = &["meta", "links"];

/// The primary resource object of a request document.
#[derive(Debug)]
pub struct ResourceObject<'v> {
    /// `data.id`, if present.
    pub id: Option<&'v Value>,
    /// `data.attributes` (empty when absent).
    pub attributes: Option<&'v Map<String, Value>>,
    /// `data.relationships` (empty when absent).
    pub relationships: Option<&'v Map<String, Value>>,
}

impl<'v> ResourceObject<'v> {
    /// The attributes as `(name, value)` pairs.
    pub fn attributes(&self) -> impl Iterator<Item = (&'v String, &'v Value)> {
        self.attributes.into_iter().flat_map(|map| map.iter())
    }

    /// The relationships as `(name, value)` pairs.
    pub fn relationships(&self) -> impl Iterator<Item = (&'v String, &'v Value)> {
        self.relationships.into_iter().flat_map(|map| map.iter())
    }
}

/// Reads the structure of a request document whose primary data must be one resource
/// object of `expected_type`.
pub fn primary_resource<'v>(
    document: &'v Value,
    expected_type: &str,
) -> Result<ResourceObject<'v>, ApiError> {
    let Some(top) = document.as_object() else {
        return Err(invalid_document(
            "",
            "The request document must be a JSON object.",
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
            type_error = Some(type_mismatch("/data/type", kind, expected_type))
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
    let attributes = match data.get("attributes") {
        None => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => {
            errors.push(invalid_type("/data/attributes", "attributes", "an object"));
            None
        }
    };
    let relationships = match data.get("relationships") {
        None => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => {
            errors.push(invalid_type(
                "/data/relationships",
                "relationships",
                "an object",
            ));
            None
        }
    };
    // A wrong type is a conflict about the whole document: answer it alone (409).
    if let Some(conflict) = type_error {
        return Err(ApiError::from(conflict));
    }
    if !errors.is_empty() {
        return Err(ApiError::from_objects(errors));
    }
    Ok(ResourceObject {
        id: data.get("id"),
        attributes,
        relationships,
    })
}

/// On create: this server makes the ids, so a client-generated `id` is refused (403).
pub fn refuse_client_id(resource: &ResourceObject<'_>) -> Result<(), ApiError> {
    match resource.id {
        None => Ok(()),
        Some(_) => Err(ApiError::from(
            ErrorObject::new(
                StatusCode::FORBIDDEN,
                "client_id_unsupported",
                "Client-generated ids are not supported",
                "Leave out data.id: the server assigns it.",
            )
            .at_pointer("/data/id"),
        )),
    }
}

/// On update: `data.id` must be present and name the resource of the URL (409 when
/// it names another).
pub fn require_matching_id(resource: &ResourceObject<'_>, url_id: Uuid) -> Result<(), ApiError> {
    match resource.id {
        None => Err(ApiError::from(missing_member("/data/id", "id"))),
        Some(Value::String(id)) => match Uuid::parse_str(id) {
            Ok(id) if id == url_id => Ok(()),
            _ => Err(ApiError::from(
                ErrorObject::new(
                    StatusCode::CONFLICT,
                    "id_mismatch",
                    "Id mismatch",
                    format!("data.id {id:?} does not match the id in the URL ({url_id})."),
                )
                .at_pointer("/data/id"),
            )),
        },
        Some(_) => Err(ApiError::from(invalid_type("/data/id", "id", "a string"))),
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

/// 400: `document` is not a JSON:API request document.
pub fn invalid_document(pointer: &str, detail: &str) -> ApiError {
    ApiError::from(ApiError::bad_request("invalid_document", detail).at_pointer(pointer))
}

/// 400: a member this resource does not have.
pub fn unknown_member(pointer: &str, name: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::BAD_REQUEST,
        "unknown_member",
        "Unknown member",
        format!("{name:?} is not a member this request accepts."),
    )
    .at_pointer(pointer)
}

/// 400: an attribute this resource does not have.
pub fn unknown_attribute(name: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::BAD_REQUEST,
        "unknown_attribute",
        "Unknown attribute",
        format!("{name:?} is not an attribute of this resource."),
    )
    .at_pointer(attribute_pointer(name))
}

/// 400: a relationship this resource does not have.
pub fn unknown_relationship(name: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::BAD_REQUEST,
        "unknown_relationship",
        "Unknown relationship",
        format!("{name:?} is not a relationship of this resource."),
    )
    .at_pointer(relationship_pointer(name))
}

/// 403: an attribute the server maintains.
pub fn read_only_attribute(name: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::FORBIDDEN,
        "read_only_attribute",
        "Read-only attribute",
        format!("{name} is maintained by the server and cannot be set."),
    )
    .at_pointer(attribute_pointer(name))
}

/// 400: a member of the wrong JSON type.
pub fn invalid_type(pointer: &str, name: &str, expected: &str) -> ErrorObject {
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
pub fn missing_required(pointer: &str, name: &str) -> ErrorObject {
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
pub fn type_mismatch(pointer: &str, found: &str, expected: &str) -> ErrorObject {
    ErrorObject::new(
        StatusCode::CONFLICT,
        "type_mismatch",
        "Type mismatch",
        format!("type must be {expected:?} here, not {found:?}."),
    )
    .at_pointer(pointer)
}

/// A string attribute.
pub fn string_attribute<'v>(name: &str, value: &'v Value) -> Result<&'v str, ErrorObject> {
    value
        .as_str()
        .ok_or_else(|| invalid_type(&attribute_pointer(name), name, "a string"))
}

/// A boolean attribute.
pub fn bool_attribute(name: &str, value: &Value) -> Result<bool, ErrorObject> {
    value
        .as_bool()
        .ok_or_else(|| invalid_type(&attribute_pointer(name), name, "true or false"))
}

/// An integer attribute (a JSON number without fraction or exponent).
pub fn integer_attribute(name: &str, value: &Value) -> Result<i64, ErrorObject> {
    let pointer = attribute_pointer(name);
    match value {
        Value::Number(number) => match number.as_i64() {
            Some(n) => Ok(n),
            None if number.is_u64() => {
                Err(invalid_value(&pointer, format!("{name} is out of range.")))
            }
            None => Err(invalid_type(&pointer, name, "an integer")),
        },
        _ => Err(invalid_type(&pointer, name, "an integer")),
    }
}

/// Reads a to-one relationship `{"data": null | {"type": …, "id": …}}` whose target
/// must be of `expected_type`; `None` for `data: null`.
pub fn to_one_relationship(
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

/// Collects problems while a door reads a document.
#[derive(Debug, Default)]
pub struct Problems(Vec<ErrorObject>);

impl Problems {
    /// A new, empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `error`.
    pub fn push(&mut self, error: ErrorObject) {
        self.0.push(error);
    }

    /// The value of `result`, recording its error.
    pub fn take<T>(&mut self, result: Result<T, ErrorObject>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// `Ok` when nothing went wrong, else every problem as one answer.
    pub fn check(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    /// Every problem as one answer.
    pub fn into_error(self) -> ApiError {
        ApiError::from_objects(self.0)
    }

    /// Whether a problem was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::jsonapi::error::ErrorSource;
    use serde_json::json;

    fn first(error: &ApiError) -> (u16, &'static str, Option<ErrorSource>) {
        let e = &error.errors()[0];
        (error.status().as_u16(), e.code, e.source.clone())
    }

    fn pointer(p: &str) -> Option<ErrorSource> {
        Some(ErrorSource::Pointer(p.to_owned()))
    }

    #[test]
    fn reads_a_resource_object() {
        let doc = json!({"data": {"type": "products", "attributes": {"name": "Cup"},
                                   "relationships": {"category": {"data": null}}},
                         "meta": {"x": 1}});
        let resource = primary_resource(&doc, "products").unwrap();
        assert_eq!(resource.attributes().count(), 1);
        assert_eq!(resource.relationships().count(), 1);
        assert!(resource.id.is_none());
    }

    #[test]
    fn structural_problems() {
        assert_eq!(
            first(&primary_resource(&json!([]), "products").unwrap_err()),
            (400, "invalid_document", pointer(""))
        );
        assert_eq!(
            first(&primary_resource(&json!({}), "products").unwrap_err()),
            (400, "missing_member", pointer("/data"))
        );
        assert_eq!(
            first(&primary_resource(&json!({"data": []}), "products").unwrap_err()),
            (400, "invalid_document", pointer("/data"))
        );
        assert_eq!(
            first(
                &primary_resource(&json!({"data": {"type": "categories"}}), "products")
                    .unwrap_err()
            ),
            (409, "type_mismatch", pointer("/data/type"))
        );
        assert_eq!(
            first(&primary_resource(&json!({"data": {"attributes": {}}}), "products").unwrap_err()),
            (400, "missing_member", pointer("/data/type"))
        );
        assert_eq!(
            first(
                &primary_resource(
                    &json!({"data": {"type": "products", "attributes": []}}),
                    "products"
                )
                .unwrap_err()
            ),
            (400, "invalid_type", pointer("/data/attributes"))
        );
        assert_eq!(
            first(
                &primary_resource(
                    &json!({"data": {"type": "products", "colour/x": 1}}),
                    "products"
                )
                .unwrap_err()
            ),
            (400, "unknown_member", pointer("/data/colour~1x"))
        );
        assert_eq!(
            first(
                &primary_resource(
                    &json!({"data": {"type": "products"}, "included": []}),
                    "products"
                )
                .unwrap_err()
            ),
            (400, "unknown_member", pointer("/included"))
        );
    }

    #[test]
    fn ids() {
        let id = Uuid::from_u128(5);
        let doc = json!({"data": {"type": "products", "id": id.to_string()}});
        let resource = primary_resource(&doc, "products").unwrap();
        assert!(require_matching_id(&resource, id).is_ok());
        assert_eq!(
            first(&require_matching_id(&resource, Uuid::from_u128(6)).unwrap_err()),
            (409, "id_mismatch", pointer("/data/id"))
        );
        assert_eq!(
            first(&refuse_client_id(&resource).unwrap_err()),
            (403, "client_id_unsupported", pointer("/data/id"))
        );
        let no_id = json!({"data": {"type": "products"}});
        let resource = primary_resource(&no_id, "products").unwrap();
        assert_eq!(
            first(&require_matching_id(&resource, id).unwrap_err()).0,
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
            (400, pointer("/data/relationships/category/data/id"))
        );
        let wrong_type = json!({"data": {"type": "products", "id": id.to_string()}});
        let error = to_one_relationship("category", &wrong_type, "categories").unwrap_err();
        assert_eq!((error.status.as_u16(), error.code), (409, "type_mismatch"));
        let bare = json!(id.to_string());
        assert_eq!(
            to_one_relationship("category", &bare, "categories")
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
    }

    #[test]
    fn integers() {
        assert_eq!(integer_attribute("quantityDelta", &json!(-5)).unwrap(), -5);
        let error = integer_attribute("quantityDelta", &json!(1.5)).unwrap_err();
        assert_eq!((error.status.as_u16(), error.code), (400, "invalid_type"));
        assert_eq!(error.source, pointer("/data/attributes/quantityDelta"));
        assert_eq!(
            integer_attribute("quantityDelta", &json!("5"))
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
        assert_eq!(
            integer_attribute("q", &json!(u64::MAX))
                .unwrap_err()
                .status
                .as_u16(),
            422
        );
    }
}
