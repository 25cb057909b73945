//! JSON:API conformance on the embedded server: every answer's media type, request
//! media types and `Accept` negotiation, create/read/update/delete semantics,
//! pagination links and totals, sort, filters, sparse fieldsets and includes.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{JSON_API, send, sku_product_document, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_is_json_api() {
    let mut app = spawn_app().await;
    for path in [
        "/health",
        "/ready",
        "/v1/products",
        "/v1/categories",
        "/v1/inventory",
        "/nowhere",
        "/v1/products/not-a-uuid",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.content_type(), Some(JSON_API), "{path}");
    }
    let not_found = app.get("/nowhere").await;
    not_found.assert_error(404, "not_found", None);
    let wrong_method = app.raw(Method::PUT, "/v1/products", None, None).await;
    wrong_method.assert_error(405, "method_not_allowed", None);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_must_be_json_api() {
    let mut app = spawn_app().await;
    let body = sku_product_document("CUP-1", "1.00", None)
        .to_string()
        .into_bytes();
    for content_type in [
        "application/json",
        "application/vnd.api+json; charset=utf-8",
        r#"application/vnd.api+json; ext="https://jsonapi.org/ext/atomic""#,
        "text/plain",
        "",
    ] {
        let reply = app
            .raw(
                Method::POST,
                "/v1/products",
                Some((content_type, body.clone())),
                Some(&app.api_key),
            )
            .await;
        reply.assert_error(415, "unsupported_media_type", None);
        assert_eq!(
            reply.body["errors"][0]["source"]["header"], "Content-Type",
            "{content_type:?}: {}",
            reply.text
        );
    }
    assert_eq!(app.all_products().await, json!([]));
    // A profile parameter is allowed.
    let reply = app
        .raw(
            Method::POST,
            "/v1/products",
            Some((
                r#"application/vnd.api+json; profile="https://example.com/p""#,
                body,
            )),
            Some(&app.api_key),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_header_negotiation() {
    let mut app = spawn_app().await;
    for ok in [
        "application/vnd.api+json",
        "*/*",
        "application/*",
        "text/html, */*;q=0.8",
        "application/vnd.api+json; charset=utf-8, application/vnd.api+json",
    ] {
        let reply = send(
            app.bare_request(Method::GET, "/v1/products")
                .header("Accept", ok),
        )
        .await;
        assert_eq!(reply.status.as_u16(), 200, "{ok}: {}", reply.text);
    }
    for refused in [
        "application/json",
        "application/vnd.api+json; charset=utf-8",
        "text/html",
    ] {
        send(
            app.bare_request(Method::GET, "/v1/products")
                .header("Accept", refused),
        )
        .await
        .assert_error(406, "not_acceptable", None);
    }
    // Probes answer whatever the Accept header says.
    let probe = send(
        app.bare_request(Method::GET, "/health")
            .header("Accept", "application/json"),
    )
    .await;
    assert_eq!(probe.status.as_u16(), 200, "{}", probe.text);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_read_update_delete() {
    let mut app = spawn_app().await;
    let category = app.create_category("Cups").await;
    let created = app
        .post(
            "/v1/products",
            &sku_product_document("CUP-090", "12.5", Some(&category)),
        )
        .await;
    created.expect_status(201);
    let data = &created.body["data"];
    assert_eq!(created.header("location"), data["links"]["self"].as_str());
    assert_eq!(data["type"], "products");
    assert_eq!(data["attributes"]["price"], "12.50");
    assert_eq!(
        data["relationships"]["category"]["data"]["id"],
        category.as_str()
    );
    assert!(data["attributes"].get("categoryId").is_none());
    let id = created.id();

    let read = app.get(&format!("/v1/products/{id}")).await;
    read.expect_status(200);
    assert_eq!(read.body["data"]["attributes"]["sku"], "CUP-090");

    let updated = app
        .patch(
            &format!("/v1/products/{id}"),
            &json!({"data": {"type": "products", "id": id, "attributes": {"price": 9.99},
                    "relationships": {"category": {"data": null}}}}),
        )
        .await;
    updated.expect_status(200);
    assert_eq!(updated.body["data"]["attributes"]["price"], "9.99");
    assert_eq!(
        updated.body["data"]["relationships"]["category"]["data"],
        Value::Null
    );
    // The cache was refreshed.
    let read = app.get(&format!("/v1/products/{id}")).await;
    assert_eq!(read.body["data"]["attributes"]["price"], "9.99");

    let deleted = app.delete(&format!("/v1/products/{id}")).await;
    deleted.expect_status(204);
    app.get(&format!("/v1/products/{id}"))
        .await
        .assert_error(404, "not_found", None);
    app.delete(&format!("/v1/products/{id}"))
        .await
        .assert_error(404, "not_found", None);

    let category_reply = app.get(&format!("/v1/categories/{category}")).await;
    assert_eq!(category_reply.body["data"]["attributes"]["slug"], "cups");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_links_and_total() {
    let mut app = spawn_app().await;
    for n in 0..5 {
        app.create_product_with_sku(&format!("P-{n}"), &format!("{}.00", n + 1), None)
            .await;
    }
    let first = app.get("/v1/products?page[size]=2&sort=sku").await;
    first.expect_status(200);
    assert_eq!(first.body["meta"]["total"], 5);
    assert_eq!(first.body["data"].as_array().expect("data").len(), 2);
    let links = &first.body["links"];
    assert_eq!(
        links["first"],
        "/v1/products?sort=sku&page[number]=1&page[size]=2"
    );
    assert_eq!(links["prev"], Value::Null);
    assert_eq!(
        links["next"],
        "/v1/products?sort=sku&page[number]=2&page[size]=2"
    );
    assert_eq!(
        links["last"],
        "/v1/products?sort=sku&page[number]=3&page[size]=2"
    );

    let last = app.get(links["last"].as_str().expect("links.last")).await;
    assert_eq!(last.body["data"].as_array().expect("data").len(), 1);
    assert_eq!(last.body["data"][0]["attributes"]["sku"], "P-4");
    assert_eq!(last.body["links"]["next"], Value::Null);
    assert_eq!(
        last.body["links"]["prev"],
        "/v1/products?sort=sku&page[number]=2&page[size]=2"
    );

    let default = app.get("/v1/products").await;
    assert_eq!(
        default.body["links"]["first"],
        "/v1/products?page[number]=1&page[size]=20"
    );
    let categories = app.get("/v1/categories").await;
    assert_eq!(categories.body["meta"]["total"], 0);
    assert_eq!(categories.body["data"], json!([]));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_filter_fields_include() {
    let mut app = spawn_app().await;
    let cups = app.create_category("Cups").await;
    let plates = app.create_category("Plates").await;
    app.create_product_with_sku("CUP-A", "3.00", Some(&cups))
        .await;
    app.create_product_with_sku("CUP-B", "1.00", Some(&cups))
        .await;
    app.create_product_with_sku("PLATE-A", "2.00", Some(&plates))
        .await;

    let by_price = app.get("/v1/products?sort=-price").await;
    let skus: Vec<_> = by_price.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["attributes"]["sku"].clone())
        .collect();
    assert_eq!(skus, vec![json!("CUP-A"), json!("PLATE-A"), json!("CUP-B")]);

    let in_cups = app
        .get(&format!("/v1/products?filter[category]={cups}&sort=price"))
        .await;
    assert_eq!(in_cups.body["meta"]["total"], 2);
    assert_eq!(in_cups.body["data"][0]["attributes"]["sku"], "CUP-B");

    let search = app.get("/v1/products?filter[q]=plate").await;
    assert_eq!(search.body["meta"]["total"], 1);

    let sparse = app.get("/v1/products?fields[products]=name,price").await;
    let first = &sparse.body["data"][0];
    let mut names: Vec<_> = first["attributes"]
        .as_object()
        .expect("attributes")
        .keys()
        .cloned()
        .collect();
    names.sort();
    assert_eq!(names, vec!["name", "price"]);
    assert!(first.get("relationships").is_none());

    let included = app
        .get("/v1/products?include=category&fields[categories]=name")
        .await;
    let included = included.body["included"].as_array().expect("included");
    assert_eq!(included.len(), 2);
    assert!(
        included
            .iter()
            .all(|c| c["type"] == "categories" && c["attributes"].get("slug").is_none())
    );

    let one = app
        .get("/v1/products?filter[q]=CUP-A&include=category")
        .await;
    let id = one.body["data"][0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let single = app
        .get(&format!("/v1/products/{id}?include=category"))
        .await;
    assert_eq!(single.body["included"][0]["id"], cups.as_str());

    let bad_sort = app.get("/v1/products?sort=colour").await;
    bad_sort.assert_parameter_error(400, "sort");
    app.get("/v1/products?include=owner")
        .await
        .assert_parameter_error(400, "include");
    app.get("/v1/products?filter[colour]=red")
        .await
        .assert_parameter_error(400, "filter[colour]");
    app.get("/v1/products?colour=red")
        .await
        .assert_parameter_error(400, "colour");
    app.get("/v1/products?filter[category]=abc")
        .await
        .assert_parameter_error(400, "filter[category]");
    app.get(&format!("/v1/products/{id}?sort=name"))
        .await
        .assert_parameter_error(400, "sort");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_with_included_product() {
    let mut app = spawn_app().await;
    let product = app.create_product_with_sku("CUP-1", "5.00", None).await;
    let created = app.create_inventory(&product, 20).await;
    created.expect_status(201);
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/inventory/{product}").as_str())
    );
    assert_eq!(created.body["data"]["id"], product.as_str());
    assert_eq!(
        created.body["data"]["relationships"]["product"]["data"]["id"],
        product.as_str()
    );

    let adjusted = app.adjust(&product, json!(-5)).await;
    adjusted.expect_status(200);
    assert_eq!(
        adjusted.body["data"]["attributes"],
        json!({"onHand": 15, "reserved": 0, "available": 15,
        "updatedAt": adjusted.body["data"]["attributes"]["updatedAt"]})
    );

    let with_product = app
        .get(&format!("/v1/inventory/{product}?include=product"))
        .await;
    assert_eq!(with_product.body["included"][0]["type"], "products");
    assert_eq!(with_product.body["included"][0]["id"], product.as_str());
    let without = app.get(&format!("/v1/inventory/{product}")).await;
    assert!(without.body.get("included").is_none());

    let list = app.get("/v1/inventory").await;
    assert_eq!(list.body["meta"]["total"], 1);
    app.create_inventory(&product, 1).await.assert_error(
        409,
        "already_exists",
        Some("/data/relationships/product"),
    );
    app.shutdown().await;
}

/// The OpenAPI document says what the server does where it used to disagree: `null`
/// paging links and relationship data, attributes that sparse fieldsets may leave
/// out, request `type`s that must be the resource's, parameters the parser refuses.
/// (schemathesis, run by scripts/test, checks every answer against it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_what_the_server_sends_and_takes() {
    let mut app = spawn_app().await;
    let reply = send(app.bare_request(Method::GET, "/openapi.json")).await;
    assert_eq!(reply.status.as_u16(), 200);
    let document = &reply.body;
    let schemas = &document["components"]["schemas"];

    // The first page has no `prev`, the last no `next`.
    let links = &schemas["ListLinks"];
    for name in ["prev", "next"] {
        assert_eq!(links["properties"][name]["nullable"], true, "{name}");
        assert!(
            !links["required"].as_array().unwrap().contains(&json!(name)),
            "{name}"
        );
    }
    // A product without a category shows `"data": null`.
    let category = &schemas["ProductResource"]["properties"]["relationships"]["properties"]["category"]
        ["properties"]["data"];
    assert_eq!(category["nullable"], true, "{category}");
    // `fields[products]=name` leaves the other attributes out: none is required.
    for attributes in [
        "ProductAttributes",
        "CategoryAttributes",
        "InventoryAttributes",
    ] {
        assert!(
            schemas[attributes].get("required").is_none(),
            "{attributes}: {}",
            schemas[attributes]
        );
    }
    // A request's `type` is the resource's, and its members are closed.
    let data = &schemas["ProductCreateRequest"]["properties"]["data"];
    assert_eq!(data["properties"]["type"]["enum"], json!(["products"]));
    assert_eq!(data["additionalProperties"], false);
    assert_eq!(
        data["properties"]["attributes"]["additionalProperties"],
        false
    );

    // Parameters admit only what the parser accepts.
    let parameters = document["paths"]["/v1/products"]["get"]["parameters"]
        .as_array()
        .expect("the list's parameters");
    let parameter = |name: &str| {
        &parameters
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))["schema"]
    };
    assert_eq!(parameter("page[size]")["type"], "integer");
    assert_eq!(parameter("page[size]")["minimum"], 1.0);
    assert_eq!(parameter("page[size]")["maximum"], 100.0);
    assert_eq!(parameter("page[number]")["minimum"], 1.0);
    assert_eq!(parameter("sort")["minLength"], 1);
    let include = parameter("include")["pattern"].as_str().unwrap().to_owned();
    assert!(
        include.contains("category") && !include.contains("owner"),
        "{include}"
    );
    // What the parser refuses, the document refuses: try one of each against the
    // server too.
    for (query, name) in [
        ("page[size]=", "page[size]"),
        ("sort=colour", "sort"),
        ("include=owner", "include"),
        ("fields[products]=colour", "fields[products]"),
    ] {
        app.get(&format!("/v1/products?{query}"))
            .await
            .assert_parameter_error(400, name);
    }
    app.shutdown().await;
}
