//! The door from a category create document into the domain.

use emporium_application::catalog::NewCategory;
use emporium_domain::catalog::{CategoryName, Slug};

use super::resource::{CategoryCreateDocument, TYPE};
use crate::http::jsonapi::members::{
    Problems, attribute_pointer, invalid_value, missing_required, primary_resource,
    read_only_attribute, refuse_client_id, string_attribute, unknown_attribute,
    unknown_relationship,
};
use crate::http::jsonapi::{ApiError, JsonApiBody};

impl JsonApiBody<CategoryCreateDocument> {
    /// The category to create.
    pub fn try_into_domain(&self) -> Result<NewCategory, ApiError> {
        let resource = primary_resource(self.value(), TYPE)?;
        refuse_client_id(&resource)?;
        let mut problems = Problems::new();
        let mut name: Option<Option<CategoryName>> = None;
        let mut slug: Option<Slug> = None;
        for (key, value) in resource.attributes() {
            match key.as_str() {
                "name" => {
                    name = Some(problems.take(string_attribute(key, value).and_then(|text| {
                        CategoryName::new(text)
                            .map_err(|e| invalid_value(&attribute_pointer(key), e.0))
                    })));
                }
                "slug" => {
                    if !value.is_null() {
                        slug = problems.take(string_attribute(key, value).and_then(|text| {
                            Slug::new(text).map_err(|e| invalid_value(&attribute_pointer(key), e.0))
                        }));
                    }
                }
                "id" | "type" | "createdAt" => problems.push(read_only_attribute(key)),
                key => problems.push(unknown_attribute(key)),
            }
        }
        for (key, _) in resource.relationships() {
            problems.push(unknown_relationship(key));
        }
        let name = match name {
            None => {
                problems.push(missing_required(&attribute_pointer("name"), "name"));
                None
            }
            Some(name) => name,
        };
        match name {
            Some(name) if problems.is_empty() => Ok(NewCategory { name, slug }),
            _ => Err(problems.into_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn body(value: Value) -> JsonApiBody<CategoryCreateDocument> {
        JsonApiBody::from_value(value)
    }

    #[test]
    fn name_and_optional_slug() {
        let category = body(
            json!({"data": {"type": "categories", "attributes": {"name": "Cups", "slug": "cups"}}}),
        )
        .try_into_domain()
        .unwrap();
        assert_eq!(category.name.as_str(), "Cups");
        assert_eq!(category.slug.unwrap().as_str(), "cups");
        let no_slug = body(json!({"data": {"type": "categories", "attributes": {"name": "Cups"}}}))
            .try_into_domain()
            .unwrap();
        assert!(no_slug.slug.is_none());
    }

    #[test]
    fn problems_have_pointers() {
        let error = body(
            json!({"data": {"type": "categories", "attributes": {"name": "", "slug": "Bad Slug"}}}),
        )
        .try_into_domain()
        .unwrap_err();
        assert_eq!(error.status().as_u16(), 422);
        assert_eq!(error.errors().len(), 2);
        let error = body(json!({"data": {"type": "categories", "attributes": {}}}))
            .try_into_domain()
            .unwrap_err();
        assert_eq!(error.errors()[0].code, "required");
        let error = body(json!({"data": {"type": "products", "attributes": {"name": "x"}}}))
            .try_into_domain()
            .unwrap_err();
        assert_eq!(error.status().as_u16(), 409);
    }
}
