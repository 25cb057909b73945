//! The doors from inventory request documents into the domain.

use emporium_domain::catalog::ProductId;
use emporium_domain::inventory::{Quantity, QuantityDelta, StockError};
use poem::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use super::resource::{InventoryAdjustDocument, InventoryCreateDocument, TYPE};
use crate::http::jsonapi::members::{
    Problems, attribute_pointer, integer_attribute, invalid_type, invalid_value, missing_required,
    primary_resource, read_only_attribute, relationship_pointer, require_matching_id,
    to_one_relationship, unknown_attribute, unknown_relationship,
};
use crate::http::jsonapi::{ApiError, ErrorObject, JsonApiBody};

/// Attributes the server maintains.
const READ_ONLY: &[&str] = &["id", "type", "reserved", "available", "updatedAt"];

impl JsonApiBody<InventoryCreateDocument> {
    /// The product to count and its initial on-hand quantity.
    pub fn try_into_domain(&self) -> Result<(ProductId, Quantity), ApiError> {
        let resource = primary_resource(self.value(), TYPE)?;
        let mut problems = Problems::new();
        let mut on_hand: Option<Option<Quantity>> = None;
        for (key, value) in resource.attributes() {
            match key.as_str() {
                "onHand" => {
                    on_hand = Some(problems.take(integer_attribute(key, value).and_then(|n| {
                        Quantity::new(n).map_err(|e| invalid_value(&attribute_pointer(key), e.to_string()))
                    })));
                }
                "quantityDelta" => problems.push(
                    ErrorObject::new(
                        StatusCode::BAD_REQUEST,
                        "unknown_attribute",
                        "Unknown attribute",
                        "quantityDelta adjusts an existing record (PATCH); a new record takes onHand.",
                    )
                    .at_pointer(attribute_pointer(key)),
                ),
                key if READ_ONLY.contains(&key) => problems.push(read_only_attribute(key)),
                key => problems.push(unknown_attribute(key)),
            }
        }
        let mut product: Option<Option<Uuid>> = None;
        for (key, value) in resource.relationships() {
            match key.as_str() {
                "product" => {
                    product = Some(match to_one_relationship(key, value, "products") {
                        Ok(Some(id)) => Some(id),
                        Ok(None) => {
                            problems.push(invalid_value(
                                &format!("{}/data", relationship_pointer(key)),
                                "product must name a product.",
                            ));
                            None
                        }
                        Err(error) => {
                            problems.push(error);
                            None
                        }
                    });
                }
                key => problems.push(unknown_relationship(key)),
            }
        }
        // The resource id is the product id: a client may send it, and then it must
        // agree with the relationship.
        let id = match resource.id {
            None => None,
            Some(Value::String(text)) => match Uuid::parse_str(text) {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push(
                        ErrorObject::new(
                            StatusCode::BAD_REQUEST,
                            "invalid_id",
                            "Invalid id",
                            "data.id of a stock record is its product id (a UUID).",
                        )
                        .at_pointer("/data/id"),
                    );
                    None
                }
            },
            Some(_) => {
                problems.push(invalid_type("/data/id", "id", "a string"));
                None
            }
        };
        let product = match (product, id) {
            (Some(Some(product)), Some(id)) if product != id => {
                return Err(ApiError::from(
                    ErrorObject::new(
                        StatusCode::CONFLICT,
                        "id_mismatch",
                        "Id mismatch",
                        "data.id must equal the product of relationships.product.",
                    )
                    .at_pointer("/data/id"),
                ));
            }
            (Some(product), _) => product,
            (None, Some(id)) => Some(id),
            (None, None) => {
                problems.push(missing_required(
                    &relationship_pointer("product"),
                    "relationships.product",
                ));
                None
            }
        };
        let on_hand = match on_hand {
            None => {
                problems.push(missing_required(&attribute_pointer("onHand"), "onHand"));
                None
            }
            Some(value) => value,
        };
        match (product, on_hand) {
            (Some(product), Some(on_hand)) if problems.is_empty() => {
                Ok((ProductId(product), on_hand))
            }
            _ => Err(problems.into_error()),
        }
    }
}

impl JsonApiBody<InventoryAdjustDocument> {
    /// The change to the stock of `product_id` (the id of the URL).
    pub fn try_into_domain(&self, product_id: ProductId) -> Result<QuantityDelta, ApiError> {
        let resource = primary_resource(self.value(), TYPE)?;
        require_matching_id(&resource, product_id.0)?;
        let mut problems = Problems::new();
        let mut delta: Option<Option<QuantityDelta>> = None;
        for (key, value) in resource.attributes() {
            match key.as_str() {
                "quantityDelta" => {
                    delta = Some(problems.take(integer_attribute(key, value).and_then(|n| {
                        QuantityDelta::new(n).map_err(|error| {
                            let detail = match error {
                                StockError::ZeroDelta => {
                                    "quantityDelta must not be zero.".to_owned()
                                }
                                other => other.to_string(),
                            };
                            invalid_value(&attribute_pointer(key), detail)
                        })
                    })));
                }
                "onHand" => problems.push(
                    ErrorObject::new(
                        StatusCode::FORBIDDEN,
                        "read_only_attribute",
                        "Read-only attribute",
                        "onHand changes only through quantityDelta, so concurrent changes add up.",
                    )
                    .at_pointer(attribute_pointer(key)),
                ),
                key if READ_ONLY.contains(&key) => problems.push(read_only_attribute(key)),
                key => problems.push(unknown_attribute(key)),
            }
        }
        for (key, _) in resource.relationships() {
            if key == "product" {
                problems.push(
                    ErrorObject::new(
                        StatusCode::FORBIDDEN,
                        "read_only_relationship",
                        "Read-only relationship",
                        "A stock record always counts the same product.",
                    )
                    .at_pointer(relationship_pointer(key)),
                );
            } else {
                problems.push(unknown_relationship(key));
            }
        }
        let delta = match delta {
            None => {
                problems.push(missing_required(
                    &attribute_pointer("quantityDelta"),
                    "quantityDelta",
                ));
                None
            }
            Some(delta) => delta,
        };
        match delta {
            Some(delta) if problems.is_empty() => Ok(delta),
            _ => Err(problems.into_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::jsonapi::error::ErrorSource;
    use serde_json::json;

    fn create(doc: Value) -> Result<(ProductId, Quantity), ApiError> {
        JsonApiBody::<InventoryCreateDocument>::from_value(doc).try_into_domain()
    }

    fn adjust(doc: Value, id: Uuid) -> Result<QuantityDelta, ApiError> {
        JsonApiBody::<InventoryAdjustDocument>::from_value(doc).try_into_domain(ProductId(id))
    }

    fn first(error: &ApiError) -> (u16, &'static str, Option<ErrorSource>) {
        let e = &error.errors()[0];
        (error.status().as_u16(), e.code, e.source.clone())
    }

    fn pointer(p: &str) -> Option<ErrorSource> {
        Some(ErrorSource::Pointer(p.to_owned()))
    }

    #[test]
    fn create_reads_product_and_quantity() {
        let id = Uuid::from_u128(4);
        let (product, on_hand) = create(
            json!({"data": {"type": "inventory", "attributes": {"onHand": 20},
            "relationships": {"product": {"data": {"type": "products", "id": id.to_string()}}}}}),
        )
        .unwrap();
        assert_eq!((product.0, on_hand.value()), (id, 20));
        let (product, _) = create(json!({"data": {"type": "inventory", "id": id.to_string(), "attributes": {"onHand": 0}}})).unwrap();
        assert_eq!(product.0, id);
    }

    #[test]
    fn create_problems() {
        assert_eq!(
            first(&create(json!({"data": {"type": "inventory", "attributes": {"onHand": -1},
                "relationships": {"product": {"data": {"type": "products", "id": Uuid::nil().to_string()}}}}})).unwrap_err()),
            (422, "invalid_value", pointer("/data/attributes/onHand"))
        );
        assert_eq!(
            first(
                &create(json!({"data": {"type": "inventory", "attributes": {"onHand": 1}}}))
                    .unwrap_err()
            ),
            (422, "required", pointer("/data/relationships/product"))
        );
        assert_eq!(
            first(&create(json!({"data": {"type": "inventory", "attributes": {"onHand": 1, "reserved": 1},
                "relationships": {"product": {"data": {"type": "products", "id": Uuid::nil().to_string()}}}}})).unwrap_err()),
            (403, "read_only_attribute", pointer("/data/attributes/reserved"))
        );
        assert_eq!(
            first(
                &create(
                    json!({"data": {"type": "inventory", "attributes": {"onHand": 1},
                "relationships": {"product": {"data": {"type": "products", "id": "p-1"}}}}})
                )
                .unwrap_err()
            ),
            (
                400,
                "invalid_id",
                pointer("/data/relationships/product/data/id")
            )
        );
    }

    #[test]
    fn adjust_reads_the_delta() {
        let id = Uuid::from_u128(8);
        let delta = adjust(json!({"data": {"type": "inventory", "id": id.to_string(), "attributes": {"quantityDelta": -5}}}), id).unwrap();
        assert_eq!(delta.value(), -5);
    }

    #[test]
    fn adjust_problems() {
        let id = Uuid::from_u128(8);
        let doc = |attributes: Value| json!({"data": {"type": "inventory", "id": id.to_string(), "attributes": attributes}});
        assert_eq!(
            first(&adjust(doc(json!({"quantityDelta": 1.5})), id).unwrap_err()),
            (
                400,
                "invalid_type",
                pointer("/data/attributes/quantityDelta")
            )
        );
        assert_eq!(
            first(&adjust(doc(json!({"quantityDelta": "5"})), id).unwrap_err()),
            (
                400,
                "invalid_type",
                pointer("/data/attributes/quantityDelta")
            )
        );
        assert_eq!(
            first(&adjust(doc(json!({"quantityDelta": 0})), id).unwrap_err()),
            (
                422,
                "invalid_value",
                pointer("/data/attributes/quantityDelta")
            )
        );
        assert_eq!(
            first(&adjust(doc(json!({})), id).unwrap_err()),
            (422, "required", pointer("/data/attributes/quantityDelta"))
        );
        assert_eq!(
            first(&adjust(doc(json!({"quantityDelta": 1, "onHand": 3})), id).unwrap_err()),
            (
                403,
                "read_only_attribute",
                pointer("/data/attributes/onHand")
            )
        );
        assert_eq!(
            first(&adjust(doc(json!({"quantityDelta": 1})), Uuid::from_u128(9)).unwrap_err()).0,
            409
        );
    }
}
