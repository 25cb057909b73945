//! JSON:API conformance: media types, negotiation, create/delete semantics,
//! pagination, sort, filters, sparse fieldsets, includes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{JSON_API, product_doc, spawn_app};

#[tokio::test]
async fn every_answer_is_json_api() {
    let app = spawn_app().await;
    for path in [
        "/health",
        "/ready",
        "/v1/products",
        "/v1/categories",
        "/v1/inventory",
        "/nowhere",
        "/v1/products/not-a-uuid",
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.content_type(), Some(JSON_API), "{path}");
    }
    let not_found = app.get("/nowhere").await;
    not_found.assert_error(404, "not_found", None);
    let wrong_method = app.request(Method::PUT, "/v1/products", None, None).await;
    wrong_method.assert_error(405, "method_not_allowed", None);
    app.shutdown().await;
}

#[tokio::test]
async fn request_bodies_must_be_json_api() {
    let app = spawn_app().await;
    let body = product_doc("CUP-1", "1.00", None).to_string().into_bytes();
    for content_type in [
        "application/json",
        "application/vnd.api+json; charset=utf-8",
        r#"application/vnd.api+json; ext="https://jsonapi.org/ext/atomic""#,
        "text/plain",
        "",
    ] {
        let answer = app
            .request(
                Method::POST,
                "/v1/products",
                Some((content_type, body.clone())),
                Some(&app.key),
            )
            .await;
        answer.assert_error(415, "unsupported_media_type", None);
        assert_eq!(answer.body["errors"][0]["source"]["header"], "Content-Type");
    }
    assert_eq!(app.all_products().await, json!([]));
    // A profile parameter is allowed.
    let answer = app
        .request(
            Method::POST,
            "/v1/products",
            Some((
                r#"application/vnd.api+json; profile="https://example.com/p""#,
                body,
            )),
            Some(&app.key),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    app.shutdown().await;
}

#[tokio::test]
async fn accept_header_negotiation() {
    let app = spawn_app().await;
    let get = |accept: &'static str| {
        let app = &app;
        async move {
            let response = app
                .client
                .get(app.url("/v1/products"))
                .header("Accept", accept)
                .send()
                .await
                .unwrap();
            crate::helpers::Answer::from(response).await
        }
    };
    for ok in [
        "application/vnd.api+json",
        "*/*",
        "application/*",
        "text/html, */*;q=0.8",
        "application/vnd.api+json; charset=utf-8, application/vnd.api+json",
    ] {
        assert_eq!(get(ok).await.status, StatusCode::OK, "{ok}");
    }
    for refused in [
        "application/json",
        "application/vnd.api+json; charset=utf-8",
        "text/html",
    ] {
        get(refused).await.assert_error(406, "not_acceptable", None);
    }
    // Probes answer whatever the Accept header says.
    let probe = app
        .client
        .get(app.url("/health"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), StatusCode::OK);
    app.shutdown().await;
}

#[tokio::test]
async fn create_read_update_delete() {
    let app = spawn_app().await;
    let category = app.create_category("Cups").await;
    let created = app
        .post(
            "/v1/products",
            &product_doc("CUP-090", "12.5", Some(&category)),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let data = &created.body["data"];
    assert_eq!(created.header("location"), data["links"]["self"].as_str());
    assert_eq!(data["type"], "products");
    assert_eq!(data["attributes"]["price"], "12.50");
    assert_eq!(
        data["relationships"]["category"]["data"]["id"],
        category.as_str()
    );
    assert!(data["attributes"].get("categoryId").is_none());
    let id = data["id"].as_str().unwrap().to_owned();

    let read = app.get(&format!("/v1/products/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["data"]["attributes"]["sku"], "CUP-090");

    let updated = app
        .patch(
            &format!("/v1/products/{id}"),
            &json!({"data": {"type": "products", "id": id, "attributes": {"price": 9.99},
                    "relationships": {"category": {"data": null}}}}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["data"]["attributes"]["price"], "9.99");
    assert_eq!(
        updated.body["data"]["relationships"]["category"]["data"],
        serde_json::Value::Null
    );
    // The cache was refreshed.
    let read = app.get(&format!("/v1/products/{id}")).await;
    assert_eq!(read.body["data"]["attributes"]["price"], "9.99");

    let deleted = app.delete(&format!("/v1/products/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/v1/products/{id}"))
        .await
        .assert_error(404, "not_found", None);
    app.delete(&format!("/v1/products/{id}"))
        .await
        .assert_error(404, "not_found", None);

    let category_answer = app.get(&format!("/v1/categories/{category}")).await;
    assert_eq!(category_answer.body["data"]["attributes"]["slug"], "cups");
    app.shutdown().await;
}

#[tokio::test]
async fn pagination_links_and_total() {
    let app = spawn_app().await;
    for n in 0..5 {
        app.create_product(&format!("P-{n}"), &format!("{}.00", n + 1), None)
            .await;
    }
    let first = app.get("/v1/products?page[size]=2&sort=sku").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["meta"]["total"], 5);
    assert_eq!(first.body["data"].as_array().unwrap().len(), 2);
    let links = &first.body["links"];
    assert_eq!(
        links["first"],
        "/v1/products?sort=sku&page[number]=1&page[size]=2"
    );
    assert_eq!(links["prev"], serde_json::Value::Null);
    assert_eq!(
        links["next"],
        "/v1/products?sort=sku&page[number]=2&page[size]=2"
    );
    assert_eq!(
        links["last"],
        "/v1/products?sort=sku&page[number]=3&page[size]=2"
    );

    let last = app.get(links["last"].as_str().unwrap()).await;
    assert_eq!(last.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(last.body["data"][0]["attributes"]["sku"], "P-4");
    assert_eq!(last.body["links"]["next"], serde_json::Value::Null);
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

#[tokio::test]
async fn sort_filter_fields_include() {
    let app = spawn_app().await;
    let cups = app.create_category("Cups").await;
    let plates = app.create_category("Plates").await;
    app.create_product("CUP-A", "3.00", Some(&cups)).await;
    app.create_product("CUP-B", "1.00", Some(&cups)).await;
    app.create_product("PLATE-A", "2.00", Some(&plates)).await;

    let by_price = app.get("/v1/products?sort=-price").await;
    let skus: Vec<_> = by_price.body["data"]
        .as_array()
        .unwrap()
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
        .unwrap()
        .keys()
        .cloned()
        .collect();
    names.sort();
    assert_eq!(names, vec!["name", "price"]);
    assert!(first.get("relationships").is_none());

    let included = app
        .get("/v1/products?include=category&fields[categories]=name")
        .await;
    let included = included.body["included"].as_array().unwrap();
    assert_eq!(included.len(), 2);
    assert!(
        included
            .iter()
            .all(|c| c["type"] == "categories" && c["attributes"].get("slug").is_none())
    );

    let one = app
        .get("/v1/products?filter[q]=CUP-A&include=category")
        .await;
    let id = one.body["data"][0]["id"].as_str().unwrap().to_owned();
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

#[tokio::test]
async fn inventory_with_included_product() {
    let app = spawn_app().await;
    let product = app.create_product("CUP-1", "5.00", None).await;
    let created = app.create_inventory(&product, 20).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/inventory/{product}").as_str())
    );
    assert_eq!(created.body["data"]["id"], product.as_str());
    assert_eq!(
        created.body["data"]["relationships"]["product"]["data"]["id"],
        product.as_str()
    );

    let adjusted = app
        .patch(
            &format!("/v1/inventory/{product}"),
            &json!({"data": {"type": "inventory", "id": product, "attributes": {"quantityDelta": -5}}}),
        )
        .await;
    assert_eq!(adjusted.status, StatusCode::OK, "{}", adjusted.body);
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
