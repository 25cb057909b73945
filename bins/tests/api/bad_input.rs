//! Bad input never gets a 500, always points at the culprit, and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{JSON_API, TestApp, product_doc, spawn_app};

async fn post_raw(app: &TestApp, path: &str, body: &str) -> crate::helpers::Answer {
    app.request(
        Method::POST,
        path,
        Some((JSON_API, body.as_bytes().to_vec())),
        Some(&app.key),
    )
    .await
}

#[tokio::test]
async fn malformed_documents() {
    let app = spawn_app().await;
    post_raw(&app, "/v1/products", "{\"data\": ")
        .await
        .assert_error(400, "malformed_json", Some(""));
    post_raw(&app, "/v1/products", "")
        .await
        .assert_error(400, "missing_body", Some(""));
    post_raw(&app, "/v1/products", "[1, 2]")
        .await
        .assert_error(400, "invalid_document", Some(""));
    post_raw(&app, "/v1/products", "{}")
        .await
        .assert_error(400, "missing_member", Some("/data"));
    post_raw(&app, "/v1/products", "{\"data\": [1]}")
        .await
        .assert_error(400, "invalid_document", Some("/data"));
    post_raw(
        &app,
        "/v1/products",
        "{\"data\": {\"type\": \"products\", \"attributes\": 3}}",
    )
    .await
    .assert_error(400, "invalid_type", Some("/data/attributes"));
    assert_eq!(app.all_products().await, json!([]));
    app.shutdown().await;
}

#[tokio::test]
async fn type_and_id_conflicts() {
    let app = spawn_app().await;
    let mut doc = product_doc("CUP-1", "1.00", None);
    doc["data"]["type"] = json!("categories");
    app.post("/v1/products", &doc)
        .await
        .assert_error(409, "type_mismatch", Some("/data/type"));

    let mut doc = product_doc("CUP-1", "1.00", None);
    doc["data"]["id"] = json!(uuid::Uuid::now_v7().to_string());
    app.post("/v1/products", &doc).await.assert_error(
        403,
        "client_id_unsupported",
        Some("/data/id"),
    );

    let id = app.create_product("CUP-1", "1.00", None).await;
    let other = uuid::Uuid::now_v7().to_string();
    app.patch(
        &format!("/v1/products/{id}"),
        &json!({"data": {"type": "products", "id": other, "attributes": {"name": "X"}}}),
    )
    .await
    .assert_error(409, "id_mismatch", Some("/data/id"));
    app.patch(
        &format!("/v1/products/{id}"),
        &json!({"data": {"type": "inventory", "id": id, "attributes": {"name": "X"}}}),
    )
    .await
    .assert_error(409, "type_mismatch", Some("/data/type"));
    let stored = app.get(&format!("/v1/products/{id}")).await;
    assert_eq!(stored.body["data"]["attributes"]["name"], "Product CUP-1");
    app.shutdown().await;
}

#[tokio::test]
async fn attribute_problems_have_pointers() {
    let app = spawn_app().await;
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"colour": "red"}),
            400,
            "unknown_attribute",
            "/data/attributes/colour",
        ),
        (
            json!({"createdAt": "2020-01-01T00:00:00Z"}),
            403,
            "read_only_attribute",
            "/data/attributes/createdAt",
        ),
        (
            json!({"id": "x"}),
            403,
            "read_only_attribute",
            "/data/attributes/id",
        ),
        (
            json!({"price": "-1.00"}),
            422,
            "invalid_value",
            "/data/attributes/price",
        ),
        (
            json!({"price": "12.505"}),
            422,
            "invalid_value",
            "/data/attributes/price",
        ),
        (
            json!({"price": true}),
            400,
            "invalid_type",
            "/data/attributes/price",
        ),
        (
            json!({"name": "   "}),
            422,
            "invalid_value",
            "/data/attributes/name",
        ),
        (
            json!({"images": ["javascript:alert(1)"]}),
            422,
            "invalid_value",
            "/data/attributes/images/0",
        ),
        (
            json!({"active": "yes"}),
            400,
            "invalid_type",
            "/data/attributes/active",
        ),
    ];
    for (attributes, status, code, pointer) in cases {
        let mut doc = product_doc("CUP-1", "1.00", None);
        let merged = doc["data"]["attributes"].as_object_mut().unwrap();
        for (key, value) in attributes.as_object().unwrap() {
            merged.insert(key.clone(), value.clone());
        }
        app.post("/v1/products", &doc)
            .await
            .assert_error(status, code, Some(pointer));
    }
    assert_eq!(app.all_products().await, json!([]));

    let id = app.create_product("CUP-2", "2.00", None).await;
    let before = app.get(&format!("/v1/products/{id}")).await.body;
    app.patch(
        &format!("/v1/products/{id}"),
        &json!({"data": {"type": "products", "id": id, "attributes": {"name": "", "price": "0"}}}),
    )
    .await
    .assert_error(422, "invalid_value", Some("/data/attributes/price"));
    assert_eq!(app.get(&format!("/v1/products/{id}")).await.body, before);
    app.shutdown().await;
}

#[tokio::test]
async fn uniqueness_and_relationships() {
    let app = spawn_app().await;
    app.create_product("CUP-1", "1.00", None).await;
    app.post("/v1/products", &product_doc("CUP-1", "2.00", None))
        .await
        .assert_error(409, "duplicate_sku", Some("/data/attributes/sku"));
    assert_eq!(app.all_products().await.as_array().unwrap().len(), 1);

    let missing = uuid::Uuid::now_v7().to_string();
    app.post(
        "/v1/products",
        &product_doc("CUP-2", "2.00", Some(&missing)),
    )
    .await
    .assert_error(
        404,
        "unknown_category",
        Some("/data/relationships/category"),
    );
    let mut doc = product_doc("CUP-2", "2.00", None);
    doc["data"]["relationships"] =
        json!({"category": {"data": {"type": "categories", "id": "12"}}});
    app.post("/v1/products", &doc).await.assert_error(
        400,
        "invalid_id",
        Some("/data/relationships/category/data/id"),
    );
    doc["data"]["relationships"] = json!({"category": {"data": {"type": "tags", "id": missing}}});
    app.post("/v1/products", &doc).await.assert_error(
        409,
        "type_mismatch",
        Some("/data/relationships/category/data/type"),
    );
    doc["data"]["relationships"] = json!({"owner": {"data": null}});
    app.post("/v1/products", &doc).await.assert_error(
        400,
        "unknown_relationship",
        Some("/data/relationships/owner"),
    );
    assert_eq!(app.all_products().await.as_array().unwrap().len(), 1);

    app.create_category("Cups").await;
    app.post(
        "/v1/categories",
        &json!({"data": {"type": "categories", "attributes": {"name": "Cups", "slug": "cups-2"}}}),
    )
    .await
    .assert_error(409, "duplicate_name", Some("/data/attributes/name"));
    app.post(
        "/v1/categories",
        &json!({"data": {"type": "categories", "attributes": {"name": "!!!"}}}),
    )
    .await
    .assert_error(422, "slug_required", Some("/data/attributes/slug"));
    assert_eq!(app.get("/v1/categories").await.body["meta"]["total"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn path_ids_and_pages() {
    let app = spawn_app().await;
    app.get("/v1/products/42")
        .await
        .assert_error(404, "not_found", None);
    app.get("/v1/categories/42")
        .await
        .assert_error(404, "not_found", None);
    app.get("/v1/inventory/42")
        .await
        .assert_error(404, "not_found", None);
    app.patch(
        "/v1/products/42",
        &json!({"data": {"type": "products", "id": "42"}}),
    )
    .await
    .assert_error(404, "not_found", None);
    app.get("/v1/products?page[size]=101")
        .await
        .assert_parameter_error(400, "page[size]");
    app.get("/v1/products?page[number]=0")
        .await
        .assert_parameter_error(400, "page[number]");
    app.get("/v1/inventory?page[size]=abc")
        .await
        .assert_parameter_error(400, "page[size]");
    app.shutdown().await;
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused() {
    let app = spawn_app().await;
    let mut doc = product_doc("CUP-1", "1.00", None);
    doc["data"]["attributes"]["description"] = json!("x".repeat(1024 * 1024));
    app.post("/v1/products", &doc)
        .await
        .assert_error(413, "payload_too_large", None);
    // Also when sent in chunks, without a Content-Length.
    let status = chunked_post(&app, &doc.to_string()).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert_eq!(app.all_products().await, json!([]));
    app.shutdown().await;
}

#[tokio::test]
async fn stock_problems() {
    let app = spawn_app().await;
    let product = app.create_product("CUP-1", "1.00", None).await;
    assert_eq!(
        app.create_inventory(&product, 10).await.status,
        StatusCode::CREATED
    );
    let path = format!("/v1/inventory/{product}");
    let adjust = |delta: Value| json!({"data": {"type": "inventory", "id": product, "attributes": {"quantityDelta": delta}}});

    app.patch(&path, &adjust(json!(1.5))).await.assert_error(
        400,
        "invalid_type",
        Some("/data/attributes/quantityDelta"),
    );
    app.patch(&path, &adjust(json!("3"))).await.assert_error(
        400,
        "invalid_type",
        Some("/data/attributes/quantityDelta"),
    );
    app.patch(&path, &adjust(json!(0))).await.assert_error(
        422,
        "invalid_value",
        Some("/data/attributes/quantityDelta"),
    );
    app.patch(&path, &adjust(json!(-11))).await.assert_error(
        422,
        "insufficient_stock",
        Some("/data/attributes/quantityDelta"),
    );
    app.patch(&path, &adjust(json!(1_000_000_000)))
        .await
        .assert_error(
            422,
            "stock_overflow",
            Some("/data/attributes/quantityDelta"),
        );
    app.patch(
        &path,
        &json!({"data": {"type": "inventory", "id": product, "attributes": {"quantityDelta": 1, "onHand": 3}}}),
    )
    .await
    .assert_error(403, "read_only_attribute", Some("/data/attributes/onHand"));
    let stored = app.get(&path).await;
    assert_eq!(stored.body["data"]["attributes"]["onHand"], 10);

    let missing = uuid::Uuid::now_v7().to_string();
    app.create_inventory(&missing, 5).await.assert_error(
        404,
        "unknown_product",
        Some("/data/relationships/product"),
    );
    app.create_inventory(&product, -1).await.assert_error(
        422,
        "invalid_value",
        Some("/data/attributes/onHand"),
    );
    app.patch(
        &format!("/v1/inventory/{missing}"),
        &json!({"data": {"type": "inventory", "id": missing, "attributes": {"quantityDelta": 1}}}),
    )
    .await
    .assert_error(404, "not_found", None);
    assert_eq!(app.get("/v1/inventory").await.body["meta"]["total"], 1);
    app.shutdown().await;
}

/// Posts `body` with `Transfer-Encoding: chunked`; returns the status line.
async fn chunked_post(app: &TestApp, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/products HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {JSON_API}\r\nX-API-Key: {}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.as_bytes().chunks(64 * 1024) {
        let written = async {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            stream.write_all(chunk).await?;
            stream.write_all(b"\r\n").await
        };
        if written.await.is_err() {
            break; // the server answered and closed early
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}
