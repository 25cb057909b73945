//! No 5xx on bad input: a sweep of malformed, mistyped and out-of-range requests on
//! the embedded server. Each one gets its 4xx JSON:API error document with its code,
//! pointing at what was wrong (the pointer, parameter or header), and nothing stored
//! changes. Bodies over the 1 MiB limit get a 413, also when chunked, and also when
//! the client writes the whole body before reading.

use emporium::config::ServiceSet;
use emporium_adapters::testing::TempDir;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    JSON_API, TestApp, adjust_document, embedded_config, inventory_document, product_document, send,
};

/// Where an error must point.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `source.pointer`.
    Pointer(&'static str),
    /// `source.parameter`.
    Parameter(&'static str),
    /// `source.header`.
    Header(&'static str),
    /// Not checked.
    Any,
}

/// The request body of a case.
enum Body {
    None,
    /// Serialised and sent as JSON:API.
    Json(Value),
    /// Sent as is with this content type (`None`: no Content-Type header).
    Raw(Vec<u8>, Option<&'static str>),
}

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    body: Body,
    /// Extra headers (an `Accept` given here replaces the default one).
    headers: Vec<(&'static str, String)>,
    /// Send the API key.
    key: bool,
    status: u16,
    code: Option<&'static str>,
    source: Source,
    /// `code` and `source` may be those of any error object, not only the first
    /// (for documents with several problems).
    among: bool,
}

impl Case {
    fn new(
        name: &'static str,
        method: Method,
        path: impl Into<String>,
        body: Body,
        status: u16,
    ) -> Self {
        Case {
            name,
            method,
            path: path.into(),
            body,
            headers: Vec::new(),
            key: true,
            status,
            code: None,
            source: Source::Any,
            among: false,
        }
    }

    fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    fn at(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn without_key(mut self) -> Self {
        self.key = false;
        self
    }

    fn among_errors(mut self) -> Self {
        self.among = true;
        self
    }
}

fn doc(value: Value) -> Body {
    Body::Json(value)
}

/// A product document with one attribute replaced (or removed, with `Value::Null`
/// given as `None`).
fn product_with(attribute: &str, value: Option<Value>) -> Value {
    let mut document = product_document("Bad cup", "3.00", None);
    let attributes = document["data"]["attributes"]
        .as_object_mut()
        .expect("attributes");
    match value {
        Some(value) => {
            attributes.insert(attribute.to_owned(), value);
        }
        None => {
            attributes.remove(attribute);
        }
    }
    document
}

/// What the server holds, as seen through the public reads.
async fn snapshot(app: &TestApp, product: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for path in [
        format!("/v1/products/{product}"),
        "/v1/products?page[size]=100".to_owned(),
        "/v1/categories?page[size]=100".to_owned(),
        format!("/v1/inventory/{product}"),
        "/v1/inventory?page[size]=100".to_owned(),
    ] {
        let reply = app.get(&path).await;
        reply.expect_status(200);
        texts.push(reply.text);
    }
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_json_api_error_and_changes_nothing() {
    let dir = TempDir::new();
    let mut app = TestApp::spawn(embedded_config(&dir), ServiceSet::All).await;

    let category = app.create_category("Cups").await;
    let existing = product_document("Espresso cup", "12.50", Some(&category));
    let created = app.post("/v1/products", &existing).await;
    created.expect_status(201);
    let product = created.id();
    let sku = existing["data"]["attributes"]["sku"]
        .as_str()
        .expect("sku")
        .to_owned();
    app.create_inventory(&product, 10).await.expect_status(201);
    let before = snapshot(&app, &product).await;

    let products = "/v1/products";
    let one = format!("/v1/products/{product}");
    let stock = format!("/v1/inventory/{product}");
    let unknown = Uuid::new_v4().to_string();
    let adjust = |delta: Value| doc(adjust_document(&product, delta));
    let patch_product = |attributes: Value| {
        doc(
            serde_json::json!({"data": {"type": "products", "id": product, "attributes": attributes}}),
        )
    };
    let with_category = |data: Value| {
        let mut document = product_document("Bad cup", "3.00", None);
        document["data"]["relationships"] = serde_json::json!({"category": {"data": data}});
        doc(document)
    };
    let two_mib = {
        let mut document = product_document("Big cup", "3.00", None);
        document["data"]["attributes"]["description"] = Value::String("x".repeat(2 * 1024 * 1024));
        serde_json::to_vec(&document).expect("serialising")
    };
    let just_over_one_mib = {
        let mut document = product_document("Long cup", "3.00", None);
        document["data"]["attributes"]["description"] = Value::String("x".repeat(1024 * 1024));
        document
    };
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes();

    use Source::{Header, Parameter, Pointer};
    let cases = vec![
        // Documents that are not JSON:API documents.
        Case::new("malformed JSON", Method::POST, products, Body::Raw(b"{\"data\": {\"type\": \"products\",".to_vec(), Some(JSON_API)), 400)
            .code("malformed_json")
            .at(Pointer("")),
        Case::new("invalid UTF-8", Method::POST, products, Body::Raw(b"{\"data\": \"\xff\"}".to_vec(), Some(JSON_API)), 400).at(Pointer("")),
        Case::new("deeply nested JSON", Method::POST, products, Body::Raw(deep, Some(JSON_API)), 400).at(Pointer("")),
        Case::new("empty body", Method::POST, products, Body::Raw(Vec::new(), Some(JSON_API)), 400).code("missing_body").at(Pointer("")),
        // One program may check the first "price" and another store the last: refused.
        Case::new("a member twice in one object", Method::POST, products, Body::Raw(br#"{"data": {"type": "products", "attributes": {"name": "Twice", "price": "9.00", "price": "0.01", "sku": "TWICE-1"}}}"#.to_vec(), Some(JSON_API)), 400).code("duplicate_member").at(Pointer("")),
        Case::new("a JSON array", Method::POST, products, doc(serde_json::json!([])), 400).code("invalid_document").at(Pointer("")),
        Case::new("a JSON array of numbers", Method::POST, products, Body::Raw(b"[1, 2]".to_vec(), Some(JSON_API)), 400).code("invalid_document").at(Pointer("")),
        Case::new("data is null", Method::POST, products, doc(serde_json::json!({"data": null})), 400).at(Pointer("/data")),
        Case::new("no data", Method::POST, products, doc(serde_json::json!({"meta": {}})), 400).code("missing_member").at(Pointer("/data")),
        Case::new("an empty object", Method::POST, products, Body::Raw(b"{}".to_vec(), Some(JSON_API)), 400).code("missing_member").at(Pointer("/data")),
        Case::new("data is an array", Method::POST, products, doc(serde_json::json!({"data": [existing["data"].clone()]})), 400).code("invalid_document").at(Pointer("/data")),
        Case::new("attributes not an object", Method::POST, products, doc(serde_json::json!({"data": {"type": "products", "attributes": 3}})), 400).code("invalid_type").at(Pointer("/data/attributes")),
        // Media types.
        Case::new("Content-Type application/json", Method::POST, products, Body::Raw(serde_json::to_vec(&existing).unwrap(), Some("application/json")), 415)
            .code("unsupported_media_type")
            .at(Header("Content-Type")),
        Case::new("Content-Type with ext", Method::POST, products, Body::Raw(serde_json::to_vec(&existing).unwrap(), Some("application/vnd.api+json; ext=\"https://example.com/ext\"")), 415)
            .at(Header("Content-Type")),
        Case::new("no Content-Type", Method::POST, products, Body::Raw(serde_json::to_vec(&product_document("No type", "1.00", None)).unwrap(), None), 415),
        Case::new("Content-Type text/plain on PATCH", Method::PATCH, stock.clone(), Body::Raw(serde_json::to_vec(&adjust_document(&product, json!(-1))).unwrap(), Some("text/plain")), 415),
        Case::new("Accept text/html on a read", Method::GET, products, Body::None, 406)
            .code("not_acceptable")
            .header("Accept", "text/html")
            .at(Header("Accept")),
        Case::new("Accept text/html on a write", Method::POST, products, doc(product_document("Html cup", "1.00", None)), 406).header("Accept", "text/html"),
        Case::new("Accept JSON:API with ext only", Method::GET, products, Body::None, 406).header("Accept", "application/vnd.api+json; ext=\"https://example.com/ext\""),
        // Types and ids.
        Case::new("wrong type on create", Method::POST, products, doc(serde_json::json!({"data": {"type": "categories", "attributes": {"name": "X"}}})), 409)
            .code("type_mismatch")
            .at(Pointer("/data/type")),
        Case::new("wrong type on update", Method::PATCH, one.clone(), doc(serde_json::json!({"data": {"type": "inventory", "id": product, "attributes": {"price": "1.00"}}})), 409).code("type_mismatch").at(Pointer("/data/type")),
        Case::new("wrong type on adjust", Method::PATCH, stock.clone(), doc(serde_json::json!({"data": {"type": "products", "id": product, "attributes": {"quantityDelta": -1}}})), 409).at(Pointer("/data/type")),
        Case::new("id mismatch on update", Method::PATCH, one.clone(), doc(serde_json::json!({"data": {"type": "products", "id": unknown, "attributes": {"price": "1.00"}}})), 409)
            .code("id_mismatch")
            .at(Pointer("/data/id")),
        Case::new("id mismatch on adjust", Method::PATCH, stock.clone(), doc(adjust_document(&unknown, json!(-1))), 409).at(Pointer("/data/id")),
        Case::new("client-generated id", Method::POST, products, doc({
            let mut document = product_document("Id cup", "1.00", None);
            document["data"]["id"] = Value::String(Uuid::new_v4().to_string());
            document
        }), 403).code("client_id_unsupported").at(Pointer("/data/id")),
        // Attributes.
        Case::new("unknown attribute", Method::POST, products, doc(product_with("colour", Some(json!("red")))), 400)
            .code("unknown_attribute")
            .at(Pointer("/data/attributes/colour")),
        Case::new("read-only attribute", Method::PATCH, one.clone(), patch_product(serde_json::json!({"createdAt": "2020-01-01T00:00:00Z"})), 403).code("read_only_attribute").at(Pointer("/data/attributes/createdAt")),
        Case::new("read-only attribute on create", Method::POST, products, doc(product_with("createdAt", Some(json!("2020-01-01T00:00:00Z")))), 403).code("read_only_attribute").at(Pointer("/data/attributes/createdAt")),
        Case::new("id as an attribute", Method::POST, products, doc(product_with("id", Some(json!("x")))), 403).code("read_only_attribute").at(Pointer("/data/attributes/id")),
        Case::new("foreign key as attribute", Method::POST, products, doc(product_with("categoryId", Some(json!(category)))), 400).at(Pointer("/data/attributes/categoryId")),
        Case::new("negative price", Method::POST, products, doc(product_with("price", Some(json!("-1.00")))), 422)
            .code("invalid_value")
            .at(Pointer("/data/attributes/price")),
        Case::new("negative numeric price", Method::POST, products, doc(product_with("price", Some(json!(-3)))), 422).at(Pointer("/data/attributes/price")),
        Case::new("price with three decimals", Method::POST, products, doc(product_with("price", Some(json!("1.005")))), 422).code("invalid_value").at(Pointer("/data/attributes/price")),
        Case::new("price with three decimals, over 10", Method::POST, products, doc(product_with("price", Some(json!("12.505")))), 422).code("invalid_value").at(Pointer("/data/attributes/price")),
        Case::new("price not a number", Method::POST, products, doc(product_with("price", Some(json!("abc")))), 422).at(Pointer("/data/attributes/price")),
        Case::new("price is a boolean", Method::POST, products, doc(product_with("price", Some(json!(true)))), 400).code("invalid_type").at(Pointer("/data/attributes/price")),
        Case::new("huge price", Method::POST, products, doc(product_with("price", Some(json!("1e400")))), 422).at(Pointer("/data/attributes/price")),
        Case::new("negative price on update", Method::PATCH, one.clone(), patch_product(serde_json::json!({"price": "-0.01"})), 422).at(Pointer("/data/attributes/price")),
        Case::new("empty name and zero price on update", Method::PATCH, one.clone(), patch_product(serde_json::json!({"name": "", "price": "0"})), 422)
            .code("invalid_value")
            .at(Pointer("/data/attributes/price"))
            .among_errors(),
        Case::new("empty name", Method::POST, products, doc(product_with("name", Some(json!("")))), 422).at(Pointer("/data/attributes/name")),
        Case::new("blank name", Method::POST, products, doc(product_with("name", Some(json!("   ")))), 422).code("invalid_value").at(Pointer("/data/attributes/name")),
        Case::new("blank name on update", Method::PATCH, one.clone(), patch_product(serde_json::json!({"name": "   "})), 422).at(Pointer("/data/attributes/name")),
        Case::new("name is a number", Method::POST, products, doc(product_with("name", Some(json!(7)))), 400).at(Pointer("/data/attributes/name")),
        Case::new("missing sku", Method::POST, products, doc(product_with("sku", None)), 422).at(Pointer("/data/attributes/sku")),
        Case::new("image not a URL", Method::POST, products, doc(product_with("images", Some(json!(["javascript:alert(1)"])))), 422).code("invalid_value").at(Pointer("/data/attributes/images/0")),
        Case::new("active not a boolean", Method::POST, products, doc(product_with("active", Some(json!("yes")))), 400).code("invalid_type").at(Pointer("/data/attributes/active")),
        Case::new("duplicate SKU", Method::POST, products, doc(product_with("sku", Some(json!(sku)))), 409)
            .code("duplicate_sku")
            .at(Pointer("/data/attributes/sku")),
        Case::new("empty category name", Method::POST, "/v1/categories", doc(serde_json::json!({"data": {"type": "categories", "attributes": {"name": ""}}})), 422).at(Pointer("/data/attributes/name")),
        Case::new("duplicate category name", Method::POST, "/v1/categories", doc(serde_json::json!({"data": {"type": "categories", "attributes": {"name": "Cups", "slug": "cups-2"}}})), 409)
            .code("duplicate_name")
            .at(Pointer("/data/attributes/name")),
        Case::new("category name without a slug", Method::POST, "/v1/categories", doc(serde_json::json!({"data": {"type": "categories", "attributes": {"name": "!!!"}}})), 422)
            .code("slug_required")
            .at(Pointer("/data/attributes/slug")),
        // Relationships.
        Case::new("category id not a UUID", Method::POST, products, with_category(json!({"type": "categories", "id": "nope"})), 400)
            .code("invalid_id")
            .at(Pointer("/data/relationships/category/data/id")),
        Case::new("category of the wrong type", Method::POST, products, with_category(json!({"type": "products", "id": category})), 409).code("type_mismatch").at(Pointer("/data/relationships/category/data/type")),
        Case::new("category of an unknown type", Method::POST, products, with_category(json!({"type": "tags", "id": unknown})), 409).code("type_mismatch").at(Pointer("/data/relationships/category/data/type")),
        Case::new("unknown category", Method::POST, products, with_category(json!({"type": "categories", "id": unknown})), 404).code("unknown_category").at(Pointer("/data/relationships/category")),
        Case::new("unknown relationship", Method::POST, products, doc({
            let mut document = product_document("Owned cup", "3.00", None);
            document["data"]["relationships"] = json!({"owner": {"data": null}});
            document
        }), 400).code("unknown_relationship").at(Pointer("/data/relationships/owner")),
        Case::new("product id not a UUID", Method::POST, "/v1/inventory", doc(inventory_document("p-1", 5)), 400).at(Pointer("/data/relationships/product/data/id")),
        Case::new("unknown product", Method::POST, "/v1/inventory", doc(inventory_document(&unknown, 5)), 404).code("unknown_product").at(Pointer("/data/relationships/product")),
        Case::new("stock record exists", Method::POST, "/v1/inventory", doc(inventory_document(&product, 5)), 409)
            .code("already_exists")
            .at(Pointer("/data/relationships/product")),
        Case::new("negative onHand", Method::POST, "/v1/inventory", doc(serde_json::json!({"data": {"type": "inventory", "attributes": {"onHand": -1}, "relationships": {"product": {"data": {"type": "products", "id": unknown}}}}})), 422).code("invalid_value").at(Pointer("/data/attributes/onHand")),
        Case::new("negative onHand for a stocked product", Method::POST, "/v1/inventory", doc(inventory_document(&product, -1)), 422).code("invalid_value").at(Pointer("/data/attributes/onHand")),
        Case::new("onHand a string", Method::POST, "/v1/inventory", doc(serde_json::json!({"data": {"type": "inventory", "attributes": {"onHand": "5"}, "relationships": {"product": {"data": {"type": "products", "id": unknown}}}}})), 400).at(Pointer("/data/attributes/onHand")),
        // Ids in the path.
        Case::new("GET product id not a UUID", Method::GET, "/v1/products/not-a-uuid", Body::None, 404).code("not_found"),
        Case::new("GET unknown product", Method::GET, format!("/v1/products/{unknown}"), Body::None, 404).code("not_found"),
        Case::new("GET product id 42", Method::GET, "/v1/products/42", Body::None, 404).code("not_found"),
        Case::new("PATCH product id not a UUID", Method::PATCH, "/v1/products/42", patch_product(serde_json::json!({"price": "1.00"})), 404).code("not_found"),
        Case::new("PATCH product id not a UUID, data.id alike", Method::PATCH, "/v1/products/42", doc(serde_json::json!({"data": {"type": "products", "id": "42"}})), 404).code("not_found"),
        Case::new("DELETE product id not a UUID", Method::DELETE, "/v1/products/42", Body::None, 404),
        Case::new("GET category id not a UUID", Method::GET, "/v1/categories/xyz", Body::None, 404).code("not_found"),
        Case::new("GET category id 42", Method::GET, "/v1/categories/42", Body::None, 404).code("not_found"),
        Case::new("GET stock id not a UUID", Method::GET, "/v1/inventory/xyz", Body::None, 404).code("not_found"),
        Case::new("GET stock id 42", Method::GET, "/v1/inventory/42", Body::None, 404).code("not_found"),
        Case::new("PATCH stock id not a UUID", Method::PATCH, "/v1/inventory/xyz", adjust(json!(-1)), 404),
        // Query parameters.
        Case::new("page[size]=1000", Method::GET, "/v1/products?page[size]=1000", Body::None, 400).at(Parameter("page[size]")),
        Case::new("page[size]=101", Method::GET, "/v1/products?page[size]=101", Body::None, 400).at(Parameter("page[size]")),
        Case::new("page[size]=0", Method::GET, "/v1/products?page[size]=0", Body::None, 400).at(Parameter("page[size]")),
        Case::new("page[size]=abc on inventory", Method::GET, "/v1/inventory?page[size]=abc", Body::None, 400).at(Parameter("page[size]")),
        Case::new("page[number]=0", Method::GET, "/v1/products?page[number]=0", Body::None, 400).at(Parameter("page[number]")),
        Case::new("page[number]=-1", Method::GET, "/v1/products?page[number]=-1", Body::None, 400).at(Parameter("page[number]")),
        Case::new("page[number]=abc", Method::GET, "/v1/inventory?page[number]=abc", Body::None, 400).at(Parameter("page[number]")),
        Case::new("unknown sort field", Method::GET, "/v1/products?sort=colour", Body::None, 400).at(Parameter("sort")),
        Case::new("sort on inventory", Method::GET, "/v1/inventory?sort=onHand", Body::None, 400).at(Parameter("sort")),
        Case::new("unknown query parameter", Method::GET, "/v1/products?color=red", Body::None, 400)
            .code("unsupported_parameter")
            .at(Parameter("color")),
        // Not quietly read as U+FFFD.
        Case::new("a query value that is not UTF-8", Method::GET, "/v1/products?filter%5Bq%5D=%FF%FE", Body::None, 400).code("invalid_parameter").at(Parameter("filter[q]")),
        Case::new("unknown query parameter on a write", Method::POST, "/v1/products?dryRun=1", doc(product_document("Query cup", "1.00", None)), 400).at(Parameter("dryRun")),
        Case::new("unsupported include", Method::GET, "/v1/products?include=owner", Body::None, 400).at(Parameter("include")),
        Case::new("unsupported filter", Method::GET, "/v1/products?filter[colour]=red", Body::None, 400).at(Parameter("filter[colour]")),
        Case::new("category filter not a UUID", Method::GET, "/v1/products?filter[category]=nope", Body::None, 400).at(Parameter("filter[category]")),
        Case::new("unknown sparse field", Method::GET, "/v1/products?fields[products]=colour", Body::None, 400).at(Parameter("fields[products]")),
        Case::new("repeated parameter", Method::GET, "/v1/products?sort=name&sort=price", Body::None, 400).at(Parameter("sort")),
        // Size.
        Case::new("2 MiB body", Method::POST, products, Body::Raw(two_mib, Some(JSON_API)), 413).code("payload_too_large"),
        Case::new("a body just over 1 MiB", Method::POST, products, doc(just_over_one_mib), 413).code("payload_too_large"),
        // Stock adjustments.
        Case::new("quantityDelta \"abc\"", Method::PATCH, stock.clone(), adjust(json!("abc")), 400).at(Pointer("/data/attributes/quantityDelta")),
        Case::new("quantityDelta \"3\"", Method::PATCH, stock.clone(), adjust(json!("3")), 400).code("invalid_type").at(Pointer("/data/attributes/quantityDelta")),
        Case::new("quantityDelta 1.5", Method::PATCH, stock.clone(), adjust(json!(1.5)), 400).code("invalid_type").at(Pointer("/data/attributes/quantityDelta")),
        Case::new("quantityDelta 0", Method::PATCH, stock.clone(), adjust(json!(0)), 422).code("invalid_value").at(Pointer("/data/attributes/quantityDelta")),
        Case::new("quantityDelta null", Method::PATCH, stock.clone(), adjust(Value::Null), 400).at(Pointer("/data/attributes/quantityDelta")),
        Case::new("quantityDelta beyond i64", Method::PATCH, stock.clone(), adjust(json!(u64::MAX)), 422).at(Pointer("/data/attributes/quantityDelta")),
        Case::new("quantityDelta i64::MAX", Method::PATCH, stock.clone(), adjust(json!(i64::MAX)), 422).at(Pointer("/data/attributes/quantityDelta")),
        Case::new("quantityDelta i64::MIN", Method::PATCH, stock.clone(), adjust(json!(i64::MIN)), 422).at(Pointer("/data/attributes/quantityDelta")),
        Case::new("more than is in stock", Method::PATCH, stock.clone(), adjust(json!(-11)), 422).code("insufficient_stock").at(Pointer("/data/attributes/quantityDelta")),
        Case::new("more than a stock record holds", Method::PATCH, stock.clone(), adjust(json!(1_000_000_000)), 422).code("stock_overflow").at(Pointer("/data/attributes/quantityDelta")),
        Case::new("onHand set directly", Method::PATCH, stock.clone(), doc(serde_json::json!({"data": {"type": "inventory", "id": product, "attributes": {"quantityDelta": -1, "onHand": 100}}})), 403).code("read_only_attribute").at(Pointer("/data/attributes/onHand")),
        Case::new("missing quantityDelta", Method::PATCH, stock.clone(), doc(serde_json::json!({"data": {"type": "inventory", "id": product, "attributes": {}}})), 422).at(Pointer("/data/attributes/quantityDelta")),
        Case::new("unknown stock record", Method::PATCH, format!("/v1/inventory/{unknown}"), doc(adjust_document(&unknown, json!(-1))), 404).code("not_found"),
        // Authentication.
        Case::new("write without API key", Method::POST, products, doc(product_document("Free cup", "1.00", None)), 401)
            .code("unauthenticated")
            .without_key()
            .at(Header("X-API-Key")),
        Case::new("adjust without API key", Method::PATCH, stock.clone(), adjust(json!(-1)), 401).without_key(),
        Case::new("delete without API key", Method::DELETE, one.clone(), Body::None, 401).without_key(),
        Case::new("wrong API key", Method::POST, products, doc(product_document("Wrong cup", "1.00", None)), 401)
            .without_key()
            .header("X-API-Key", "emp_wrong_key_0123456789abcdef")
            .at(Header("X-API-Key")),
        Case::new("invalid body without API key is still 401", Method::POST, products, Body::Raw(b"{".to_vec(), Some(JSON_API)), 401).without_key(),
        // Routing.
        Case::new("unknown route", Method::GET, "/v1/nothing-here", Body::None, 404),
        Case::new("method not allowed", Method::PUT, products, doc(product_document("Put cup", "1.00", None)), 405),
    ];

    let mut failures = Vec::new();
    for case in &cases {
        if let Err(failure) = run(&app, case).await {
            failures.push(format!("{}: {failure}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad requests were answered wrongly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    assert_eq!(
        snapshot(&app, &product).await,
        before,
        "bad requests changed stored data"
    );

    // A body without Content-Length (chunked) is cut off at the limit too.
    let status = chunked_post(&app, "/v1/products", 2 * 1024 * 1024).await;
    assert_eq!(status, 413, "a 2 MiB chunked body");

    // A client that sends its whole 2 MiB body before reading reads the 413, not a
    // reset connection: the server drains what it refused.
    for _ in 0..3 {
        let status = post_whole_body_then_read(&app, "/v1/products", 2 * 1024 * 1024).await;
        assert_eq!(status, 413, "a 2 MiB body with Content-Length");
    }

    // The only media type parameter JSON:API allows (profile) is accepted.
    let profiled = send(
        app.write(Method::POST, products, None)
            .header(
                "Content-Type",
                "application/vnd.api+json; profile=\"https://example.com/p\"",
            )
            .body(
                serde_json::to_vec(&product_document("Profiled cup", "2.00", None)).expect("json"),
            ),
    )
    .await;
    profiled.expect_status(201);
    app.delete(&format!("/v1/products/{}", profiled.id()))
        .await
        .expect_status(204);

    assert_eq!(
        snapshot(&app, &product).await,
        before,
        "bad requests changed stored data"
    );

    // A request id that is not a sane token is replaced, not echoed.
    let odd_id = "x".repeat(300);
    let reply = send(
        app.request(Method::GET, "/v1/products")
            .header("X-Request-ID", &odd_id),
    )
    .await;
    reply.expect_status(200);
    let answered = reply.header("x-request-id").unwrap_or("");
    assert!(
        !answered.is_empty() && answered != odd_id,
        "request id: {answered:?}"
    );

    app.shutdown().await;
}

/// Sends `case` and checks the answer; `Err` says what was wrong.
async fn run(app: &TestApp, case: &Case) -> Result<(), String> {
    let mut request = app.bare_request(case.method.clone(), &case.path);
    if !case
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("accept"))
    {
        request = request.header("Accept", JSON_API);
    }
    if case.key {
        request = request.header("X-API-Key", &app.api_key);
    }
    match &case.body {
        Body::None => {}
        Body::Json(document) => {
            request = request
                .header("Content-Type", JSON_API)
                .body(serde_json::to_vec(document).expect("serialising"));
        }
        Body::Raw(bytes, content_type) => {
            if let Some(content_type) = content_type {
                request = request.header("Content-Type", *content_type);
            }
            request = request.body(bytes.clone());
        }
    }
    for (name, value) in &case.headers {
        request = request.header(*name, value);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let request_id = response.headers().get("x-request-id").is_some();
    let text = response
        .text()
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    let short: String = text.chars().take(400).collect();

    if status >= 500 {
        return Err(format!("server error {status}: {short}"));
    }
    if status != case.status {
        return Err(format!("expected {}, got {status}: {short}", case.status));
    }
    if content_type.as_deref() != Some(JSON_API) {
        return Err(format!("content type {content_type:?}: {short}"));
    }
    if !request_id {
        return Err("no X-Request-ID".to_owned());
    }
    let body: Value =
        serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {short}"))?;
    if body.get("data").is_some() {
        return Err(format!("an error document with data: {short}"));
    }
    let errors = body["errors"]
        .as_array()
        .filter(|errors| !errors.is_empty())
        .ok_or_else(|| format!("no errors[0]: {short}"))?;
    let first = &errors[0];
    if first["status"] != json!(case.status.to_string()) {
        return Err(format!("errors[0].status is {}: {short}", first["status"]));
    }
    if !first["title"].is_string() || !first["detail"].is_string() {
        return Err(format!("errors[0] lacks title or detail: {short}"));
    }
    if case.among {
        let status = json!(case.status.to_string());
        if errors
            .iter()
            .any(|error| error["status"] == status && error_matches(case, error).is_ok())
        {
            return Ok(());
        }
        return Err(format!(
            "no error with code {:?} at {:?}: {short}",
            case.code, case.source
        ));
    }
    error_matches(case, first).map_err(|failure| format!("errors[0]: {failure}: {short}"))
}

/// Whether `error` has the code (when given) and source `case` expects; `Err` says
/// what differs.
fn error_matches(case: &Case, error: &Value) -> Result<(), String> {
    if let Some(code) = case.code
        && error["code"] != json!(code)
    {
        return Err(format!("code is {}, expected {code:?}", error["code"]));
    }
    let (member, expected) = match case.source {
        Source::Pointer(pointer) => ("pointer", pointer),
        Source::Parameter(parameter) => ("parameter", parameter),
        Source::Header(header) => ("header", header),
        Source::Any => return Ok(()),
    };
    let found = &error["source"][member];
    let matches = match case.source {
        Source::Header(_) => found
            .as_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(expected)),
        _ => found == &json!(expected),
    };
    if !matches {
        return Err(format!("source.{member} is {found}, expected {expected:?}"));
    }
    Ok(())
}

/// POSTs `size` bytes of whitespace with a `Content-Length` over a raw connection,
/// writing the whole body before reading, as a simple client does; returns the
/// answer's status. Failing to write or to read the answer fails the test.
async fn post_whole_body_then_read(app: &TestApp, path: &str, size: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connecting");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {JSON_API}\r\nAccept: {JSON_API}\r\n\
         X-API-Key: {}\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n",
        app.api_key
    );
    let exchange = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&vec![b' '; size]).await?;
        stream.flush().await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        std::io::Result::Ok(answer)
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(30), exchange)
        .await
        .expect("no answer within 30 s")
        .unwrap_or_else(|error| panic!("the connection failed instead of answering: {error}"));
    let text = String::from_utf8_lossy(&answer);
    text.lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line in {text:?}"))
}

/// POSTs `size` bytes of a JSON string to `path` with `Transfer-Encoding: chunked`
/// (no `Content-Length`) over a raw connection; returns the answer's status.
async fn chunked_post(app: &TestApp, path: &str, size: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let address = app.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connecting");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {JSON_API}\r\nAccept: {JSON_API}\r\n\
         X-API-Key: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.api_key
    );
    // The server may answer (and close) before the whole body is sent: write in the
    // background and ignore write errors.
    let writing = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        writer.write_all(b"1\r\n\"\r\n").await?;
        while sent < size {
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(&chunk).await?;
            writer.write_all(b"\r\n").await?;
            sent += chunk.len();
        }
        writer.write_all(b"1\r\n\"\r\n0\r\n\r\n").await?;
        writer.flush().await
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut buffer = [0_u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    writing.abort();
    assert!(
        read.is_ok(),
        "no answer to a chunked 2 MiB body within 30 s"
    );
    let text = String::from_utf8_lossy(&answer);
    let status_line = text.lines().next().unwrap_or("");
    assert!(
        status_line.starts_with("HTTP/1.1 "),
        "an HTTP/1.1 status line: {text:?}"
    );
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line in {text:?}"))
}
