//! The doors from product request documents into the domain: every member is
//! validated by its value object and reported with its pointer; several problems are
//! reported together.

use std::borrow::Cow;

use emporium_domain::catalog::{
    CategoryId, Description, ImageUrl, NewProduct, Price, ProductChanges, ProductId, ProductName,
    Sku, ValueError,
};
use poem::http::StatusCode;
use serde_json::Value;

use super::resource::{ProductCreateDocument, ProductUpdateDocument, TYPE};
use crate::http::jsonapi::members::{
    Problems, ResourceObject, attribute_pointer, bool_attribute, invalid_type, invalid_value,
    missing_required, primary_resource, read_only_attribute, refuse_client_id, require_matching_id,
    string_attribute, to_one_relationship, unknown_relationship,
};
use crate::http::jsonapi::{ApiError, ErrorObject, JsonApiBody};

/// Attributes the server maintains.
const READ_ONLY: &[&str] = &["id", "type", "createdAt", "updatedAt"];

/// One attribute's outcome: absent, present but invalid (already reported), or valid.
type Member<T> = Option<Option<T>>;

impl JsonApiBody<ProductCreateDocument> {
    /// The product to create.
    pub fn try_into_domain(&self) -> Result<NewProduct, ApiError> {
        let resource = primary_resource(self.value(), TYPE)?;
        refuse_client_id(&resource)?;
        let mut problems = Problems::new();
        let fields = read_attributes(&resource, &mut problems);
        let category = read_category(&resource, &mut problems);

        let name = required(fields.name, "name", &mut problems);
        let price = required(fields.price, "price", &mut problems);
        let sku = required(fields.sku, "sku", &mut problems);
        match (name, price, sku) {
            (Some(name), Some(price), Some(sku)) if problems.is_empty() => Ok(NewProduct {
                name,
                description: fields.description.flatten().unwrap_or_default(),
                price,
                sku,
                images: fields.images.flatten().unwrap_or_default(),
                active: fields.active.flatten().unwrap_or(true),
                category_id: category.flatten().flatten(),
            }),
            _ => Err(problems.into_error()),
        }
    }
}

impl JsonApiBody<ProductUpdateDocument> {
    /// The changes to product `id` (the id of the URL).
    pub fn try_into_domain(&self, id: ProductId) -> Result<ProductChanges, ApiError> {
        let resource = primary_resource(self.value(), TYPE)?;
        require_matching_id(&resource, id.0)?;
        let mut problems = Problems::new();
        let fields = read_attributes(&resource, &mut problems);
        let category = read_category(&resource, &mut problems);
        problems.check()?;
        Ok(ProductChanges {
            name: fields.name.flatten(),
            description: fields.description.flatten(),
            price: fields.price.flatten(),
            sku: fields.sku.flatten(),
            images: fields.images.flatten(),
            active: fields.active.flatten(),
            category_id: category.flatten(),
        })
    }
}

#[derive(Default)]
struct Attributes {
    name: Member<ProductName>,
    description: Member<Description>,
    price: Member<Price>,
    sku: Member<Sku>,
    images: Member<Vec<ImageUrl>>,
    active: Member<bool>,
}

fn read_attributes(resource: &ResourceObject<'_>, problems: &mut Problems) -> Attributes {
    let mut fields = Attributes::default();
    for (key, value) in resource.attributes() {
        match key.as_str() {
            "name" => {
                fields.name = Some(
                    problems.take(
                        string_attribute(key, value)
                            .and_then(|text| valid(key, ProductName::new(text))),
                    ),
                );
            }
            "description" => {
                let text = match value {
                    Value::Null => Ok(""),
                    other => string_attribute(key, other),
                };
                fields.description =
                    Some(problems.take(text.and_then(|text| valid(key, Description::new(text)))));
            }
            "price" => fields.price = Some(problems.take(price(value))),
            "sku" => {
                fields.sku = Some(problems.take(
                    string_attribute(key, value).and_then(|text| valid(key, Sku::new(text))),
                ));
            }
            "images" => fields.images = Some(images(value, problems)),
            "active" => fields.active = Some(problems.take(bool_attribute(key, value))),
            "category" | "categoryId" | "category_id" => problems.push(
                ErrorObject::new(
                    StatusCode::BAD_REQUEST,
                    "unknown_attribute",
                    "Unknown attribute",
                    "The category is a relationship: set relationships.category.data to \
                     {\"type\": \"categories\", \"id\": …}.",
                )
                .at_pointer(attribute_pointer(key)),
            ),
            key if READ_ONLY.contains(&key) => problems.push(read_only_attribute(key)),
            key => problems.push(crate::http::jsonapi::members::unknown_attribute(key)),
        }
    }
    fields
}

/// `relationships.category`: absent, invalid, or `Some(None)` for `data: null`.
fn read_category(
    resource: &ResourceObject<'_>,
    problems: &mut Problems,
) -> Member<Option<CategoryId>> {
    let mut category = None;
    for (key, value) in resource.relationships() {
        match key.as_str() {
            "category" => {
                category = Some(
                    problems
                        .take(to_one_relationship(key, value, "categories"))
                        .map(|id| id.map(CategoryId)),
                );
            }
            key => problems.push(unknown_relationship(key)),
        }
    }
    category
}

/// A required attribute: reported missing when absent (invalid ones are reported
/// already).
fn required<T>(member: Member<T>, name: &str, problems: &mut Problems) -> Option<T> {
    match member {
        None => {
            problems.push(missing_required(&attribute_pointer(name), name));
            None
        }
        Some(value) => value,
    }
}

fn valid<T>(name: &str, result: Result<T, ValueError>) -> Result<T, ErrorObject> {
    result.map_err(|error| invalid_value(&attribute_pointer(name), error.0))
}

/// A price sent as a decimal string or a JSON number.
fn price(value: &Value) -> Result<Price, ErrorObject> {
    let text: Cow<'_, str> = match value {
        Value::String(text) => Cow::Borrowed(text),
        Value::Number(number) => Cow::Owned(number.to_string()),
        _ => {
            return Err(invalid_type(
                &attribute_pointer("price"),
                "price",
                "a decimal string such as \"12.50\" or a number",
            ));
        }
    };
    valid("price", Price::parse(&text))
}

fn images(value: &Value, problems: &mut Problems) -> Option<Vec<ImageUrl>> {
    let Some(items) = value.as_array() else {
        problems.push(invalid_type(
            &attribute_pointer("images"),
            "images",
            "an array of URLs",
        ));
        return None;
    };
    let mut urls = Vec::with_capacity(items.len());
    let mut ok = true;
    for (index, item) in items.iter().enumerate() {
        let pointer = format!("/data/attributes/images/{index}");
        match item.as_str() {
            Some(text) => match ImageUrl::new(text) {
                Ok(url) => urls.push(url),
                Err(error) => {
                    problems.push(invalid_value(&pointer, error.0));
                    ok = false;
                }
            },
            None => {
                problems.push(invalid_type(&pointer, "each image", "a string"));
                ok = false;
            }
        }
    }
    ok.then_some(urls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::jsonapi::error::ErrorSource;
    use serde_json::json;
    use uuid::Uuid;

    fn create(doc: Value) -> Result<NewProduct, ApiError> {
        JsonApiBody::<ProductCreateDocument>::from_value(doc).try_into_domain()
    }

    fn update(doc: Value, id: Uuid) -> Result<ProductChanges, ApiError> {
        JsonApiBody::<ProductUpdateDocument>::from_value(doc).try_into_domain(ProductId(id))
    }

    fn problems(error: &ApiError) -> Vec<(u16, &'static str, String)> {
        error
            .errors()
            .iter()
            .map(|e| {
                let pointer = match &e.source {
                    Some(ErrorSource::Pointer(p)) => p.clone(),
                    other => format!("{other:?}"),
                };
                (e.status.as_u16(), e.code, pointer)
            })
            .collect()
    }

    fn valid_doc() -> Value {
        json!({"data": {"type": "products", "attributes": {
            "name": "Espresso cup", "description": "90 ml", "price": "12.50", "sku": "CUP-090",
            "images": ["https://img.example/cup.jpg"], "active": true}}})
    }

    #[test]
    fn accepts_a_valid_product() {
        let category = Uuid::from_u128(3);
        let mut doc = valid_doc();
        doc["data"]["relationships"] =
            json!({"category": {"data": {"type": "categories", "id": category.to_string()}}});
        let product = create(doc).unwrap();
        assert_eq!(product.name.as_str(), "Espresso cup");
        assert_eq!(product.price.to_string(), "12.50");
        assert_eq!(product.category_id, Some(CategoryId(category)));
        assert_eq!(product.images.len(), 1);
    }

    #[test]
    fn price_may_be_a_number_and_defaults_apply() {
        let product = create(json!({"data": {"type": "products", "attributes": {
            "name": "Cup", "price": 7.5, "sku": "C1"}}}))
        .unwrap();
        assert_eq!(product.price.to_string(), "7.50");
        assert!(product.active);
        assert!(product.description.as_str().is_empty());
    }

    #[test]
    fn reports_every_bad_member_with_its_pointer() {
        let error = create(json!({"data": {"type": "products", "attributes": {
            "name": "  ", "price": "-1", "sku": "C 1", "colour": "red", "createdAt": "x",
            "images": ["ftp://x", 3]}}}))
        .unwrap_err();
        let found = problems(&error);
        assert!(found.contains(&(422, "invalid_value", "/data/attributes/name".into())));
        assert!(found.contains(&(422, "invalid_value", "/data/attributes/price".into())));
        assert!(found.contains(&(422, "invalid_value", "/data/attributes/sku".into())));
        assert!(found.contains(&(400, "unknown_attribute", "/data/attributes/colour".into())));
        assert!(found.contains(&(
            403,
            "read_only_attribute",
            "/data/attributes/createdAt".into()
        )));
        assert!(found.contains(&(422, "invalid_value", "/data/attributes/images/0".into())));
        assert!(found.contains(&(400, "invalid_type", "/data/attributes/images/1".into())));
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn over_precise_price_is_422() {
        let mut doc = valid_doc();
        doc["data"]["attributes"]["price"] = json!("12.505");
        let error = create(doc).unwrap_err();
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            problems(&error),
            vec![(422, "invalid_value", "/data/attributes/price".into())]
        );
    }

    #[test]
    fn missing_required_attributes_are_422() {
        let error = create(json!({"data": {"type": "products", "attributes": {"name": "Cup"}}}))
            .unwrap_err();
        assert_eq!(
            problems(&error),
            vec![
                (422, "required", "/data/attributes/price".into()),
                (422, "required", "/data/attributes/sku".into())
            ]
        );
    }

    #[test]
    fn foreign_keys_are_relationships() {
        let mut doc = valid_doc();
        doc["data"]["attributes"]["categoryId"] = json!(Uuid::nil().to_string());
        let error = create(doc).unwrap_err();
        assert_eq!(
            problems(&error),
            vec![(
                400,
                "unknown_attribute",
                "/data/attributes/categoryId".into()
            )]
        );
        let mut doc = valid_doc();
        doc["data"]["relationships"] =
            json!({"category": {"data": {"type": "categories", "id": "nope"}}});
        let error = create(doc).unwrap_err();
        assert_eq!(
            problems(&error),
            vec![(
                400,
                "invalid_id",
                "/data/relationships/category/data/id".into()
            )]
        );
    }

    #[test]
    fn client_ids_are_refused_on_create() {
        let mut doc = valid_doc();
        doc["data"]["id"] = json!(Uuid::nil().to_string());
        assert_eq!(create(doc).unwrap_err().status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn updates_take_only_given_fields() {
        let id = Uuid::from_u128(1);
        let changes = update(
            json!({"data": {"type": "products", "id": id.to_string(),
                   "attributes": {"price": "9.99"},
                   "relationships": {"category": {"data": null}}}}),
            id,
        )
        .unwrap();
        assert_eq!(changes.price.unwrap().to_string(), "9.99");
        assert_eq!(changes.category_id, Some(None));
        assert!(changes.name.is_none());
    }

    #[test]
    fn update_id_must_match() {
        let error = update(
            json!({"data": {"type": "products", "id": Uuid::from_u128(2).to_string(), "attributes": {}}}),
            Uuid::from_u128(1),
        )
        .unwrap_err();
        assert_eq!(
            problems(&error),
            vec![(409, "id_mismatch", "/data/id".into())]
        );
        let error = update(
            json!({"data": {"type": "products", "id": Uuid::from_u128(1).to_string(), "attributes": {"updatedAt": "x"}}}),
            Uuid::from_u128(1),
        )
        .unwrap_err();
        assert_eq!(
            problems(&error),
            vec![(
                403,
                "read_only_attribute",
                "/data/attributes/updatedAt".into()
            )]
        );
    }
}
