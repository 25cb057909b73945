//! The whole catalog and inventory flow over HTTP, on the embedded server, on
//! PostgreSQL + Redis and on PostgreSQL + MongoDB + Redis (the production adapters),
//! with the operational routes (`/health`, `/ready` and its checks, request ids,
//! `/openapi.json`, `/docs`) and a shutdown that closes the listener.

use emporium::config::ServiceSet;
use emporium_adapters::testing::TempDir;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    JSON_API, TestApp, adjust_document, client, embedded_config, external_config,
    postgres_redis_config, product_document, send,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_server_runs_the_whole_flow() {
    let dir = TempDir::new();
    let app = TestApp::spawn(embedded_config(&dir), ServiceSet::All).await;
    catalog_and_inventory_flow(&app).await;
    operations(&app, &["database"]).await;
    shutdown_closes_the_listener(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_redis_server_runs_the_whole_flow() {
    let dir = TempDir::new();
    let Some(config) = postgres_redis_config(&dir).await else {
        return;
    };
    let app = TestApp::spawn(config, ServiceSet::All).await;
    catalog_and_inventory_flow(&app).await;
    operations(
        &app,
        &[
            "database",
            "redis-cache",
            "redis-carts",
            "redis-bus",
            "redis-rate-limits",
            "redis-live",
        ],
    )
    .await;
    shutdown_closes_the_listener(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_mongodb_redis_server_runs_the_whole_flow() {
    let dir = TempDir::new();
    let Some(config) = external_config(&dir).await else {
        return;
    };
    let app = TestApp::spawn(config, ServiceSet::All).await;
    catalog_and_inventory_flow(&app).await;
    operations(
        &app,
        &[
            "database",
            "mongodb",
            "redis-cache",
            "redis-carts",
            "redis-bus",
            "redis-rate-limits",
            "redis-live",
        ],
    )
    .await;
    shutdown_closes_the_listener(app).await;
}

/// `/health`; `/ready` checking exactly `expected_checks` (the database first), all
/// up; request ids echoed or replaced; `/openapi.json` and `/docs`.
async fn operations(app: &TestApp, expected_checks: &[&str]) {
    let health = app.get("/health").await;
    health.expect_status(200);
    assert_eq!(health.body["meta"]["status"], "ok", "{}", health.text);

    // Probes answer whatever the client accepts.
    let ready = send(
        app.request(Method::GET, "/ready")
            .header("Accept", "text/plain"),
    )
    .await;
    ready.expect_status(200);
    assert_eq!(ready.body["meta"]["status"], "ready", "{}", ready.text);
    let checks = ready.body["meta"]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {}", ready.text));
    for name in expected_checks {
        let check = checks
            .iter()
            .find(|check| check["name"] == json!(name))
            .unwrap_or_else(|| panic!("/ready does not check {name}: {}", ready.text));
        assert_eq!(check["status"], "up", "{name}: {}", ready.text);
    }
    assert!(
        checks.iter().all(|check| check["status"] == "up"),
        "{}",
        ready.text
    );
    let mut names: Vec<&str> = checks
        .iter()
        .filter_map(|check| check["name"].as_str())
        .collect();
    assert_eq!(checks[0]["name"], "database", "{}", ready.text);
    names.sort_unstable();
    let mut expected = expected_checks.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "/ready checks: {}", ready.text);

    // A request id is echoed when it is a sane token, replaced by a fresh UUID when
    // not (spaces, more than 128 characters).
    let echoed = send(
        app.request(Method::GET, "/v1/products")
            .header("X-Request-ID", "trace-abc_123"),
    )
    .await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-abc_123"));
    let replaced = send(
        app.request(Method::GET, "/nowhere")
            .header("X-Request-ID", "bad id with spaces"),
    )
    .await;
    let generated = replaced.header("x-request-id").unwrap_or("");
    assert_ne!(generated, "bad id with spaces");
    assert!(Uuid::parse_str(generated).is_ok(), "{generated:?}");
    let long = "a".repeat(129);
    let replaced = send(
        app.request(Method::GET, "/health")
            .header("X-Request-ID", &long),
    )
    .await;
    assert_ne!(replaced.header("x-request-id"), Some(long.as_str()));

    let spec = send(
        app.request(Method::GET, "/openapi.json")
            .header("Accept", "application/json"),
    )
    .await;
    assert_eq!(spec.status.as_u16(), 200, "{}", spec.text);
    for path in [
        "/v1/products",
        "/v1/products/{id}",
        "/v1/categories",
        "/v1/categories/{id}",
        "/v1/inventory",
        "/v1/inventory/{product_id}",
        "/health",
        "/ready",
    ] {
        assert!(
            spec.body["paths"].get(path).is_some(),
            "/openapi.json lacks {path}"
        );
    }
    let create = &spec.body["paths"]["/v1/products"]["post"];
    assert!(create["requestBody"]["content"][JSON_API].is_object());
    assert!(create["responses"]["201"]["content"][JSON_API].is_object());
    // Either credential will do: an admin bearer token or the API key.
    let security = create["security"]
        .as_array()
        .unwrap_or_else(|| panic!("no security on POST /v1/products: {create}"));
    for scheme in ["Bearer", "ApiKey"] {
        assert!(
            security.iter().any(|s| s[scheme] == json!([])),
            "{security:?}"
        );
    }
    let docs = app
        .bare_request(Method::GET, "/docs")
        .send()
        .await
        .expect("GET /docs");
    assert_eq!(docs.status().as_u16(), 200);
    assert!(
        docs.text()
            .await
            .expect("the /docs page")
            .contains("swagger")
    );
}

/// Stops `app`: `/health` answered before, nothing listens after.
async fn shutdown_closes_the_listener(mut app: TestApp) {
    let url = app.url("/health");
    let before = client().get(&url).send().await.expect("GET /health");
    assert_eq!(before.status().as_u16(), 200);
    app.shutdown().await;
    assert!(
        client().get(&url).send().await.is_err(),
        "{url} still answers after shutdown"
    );
}

/// `resource` without `createdAt` and `updatedAt` (compared on their own by
/// [`writes_answer_with_what_reads_return`]).
fn without_timestamps(resource: &Value) -> Value {
    let mut resource = resource.clone();
    if let Some(attributes) = resource["attributes"].as_object_mut() {
        attributes.remove("createdAt");
        attributes.remove("updatedAt");
    }
    resource
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_writes_answer_with_what_reads_return() {
    let dir = TempDir::new();
    let mut app = TestApp::spawn(embedded_config(&dir), ServiceSet::All).await;
    writes_answer_with_what_reads_return(&app).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_mongodb_redis_writes_answer_with_what_reads_return() {
    let dir = TempDir::new();
    let Some(config) = external_config(&dir).await else {
        return;
    };
    let mut app = TestApp::spawn(config, ServiceSet::All).await;
    writes_answer_with_what_reads_return(&app).await;
    app.shutdown().await;
}

/// The resource a write answers with is the one later reads return, timestamps
/// included (a client comparing `updatedAt` must not see a change that did not
/// happen).
async fn writes_answer_with_what_reads_return(app: &TestApp) {
    let mut mismatches = Vec::new();
    let mut compare = |what: &str, written: &Value, read: &Value| {
        if written != read {
            mismatches.push(format!("{what}:\n  written {written}\n  read    {read}"));
        }
    };
    let category = app
        .post(
            "/v1/categories",
            &json!({"data": {"type": "categories", "attributes": {"name": "Cups"}}}),
        )
        .await;
    category.expect_status(201);
    let read = app.get(&format!("/v1/categories/{}", category.id())).await;
    read.expect_status(200);
    compare(
        "category (POST)",
        &category.body["data"],
        &read.body["data"],
    );

    let product = app
        .post("/v1/products", &product_document("Cup", "2.50", None))
        .await;
    product.expect_status(201);
    let id = product.id();
    // Through the list first (the database), then by id (cache fill), then again.
    let listed = app.get("/v1/products").await;
    listed.expect_status(200);
    compare(
        "product (POST) vs list",
        &product.body["data"],
        &listed.body["data"][0],
    );
    let read = app.get(&format!("/v1/products/{id}")).await;
    read.expect_status(200);
    compare(
        "product (POST) vs GET",
        &product.body["data"],
        &read.body["data"],
    );

    let patched = app
        .patch(
            &format!("/v1/products/{id}"),
            &json!({"data": {"type": "products", "id": id, "attributes": {"name": "Big cup"}}}),
        )
        .await;
    patched.expect_status(200);
    let read = app.get(&format!("/v1/products/{id}")).await;
    read.expect_status(200);
    compare(
        "product (PATCH) vs GET",
        &patched.body["data"],
        &read.body["data"],
    );

    let stock = app.create_inventory(&id, 4).await;
    stock.expect_status(201);
    let read = app.get(&format!("/v1/inventory/{id}")).await;
    read.expect_status(200);
    compare(
        "stock (POST) vs GET",
        &stock.body["data"],
        &read.body["data"],
    );
    let adjusted = app.adjust(&id, json!(3)).await;
    adjusted.expect_status(200);
    let read = app.get(&format!("/v1/inventory/{id}")).await;
    read.expect_status(200);
    compare(
        "stock (PATCH) vs GET",
        &adjusted.body["data"],
        &read.body["data"],
    );

    assert!(
        mismatches.is_empty(),
        "writes and reads disagree:\n{}",
        mismatches.join("\n")
    );
}

/// The flow every all-in-one server must pass.
pub async fn catalog_and_inventory_flow(app: &TestApp) {
    // Category.
    let request_id = format!("e2e-{}", Uuid::new_v4().simple());
    let reply = send(
        app.write(
            Method::POST,
            "/v1/categories",
            Some(&json!({"data": {"type": "categories", "attributes": {"name": "Cups"}}})),
        )
        .header("X-Request-ID", &request_id),
    )
    .await;
    reply.expect_status(201);
    assert_eq!(
        reply.header("x-request-id"),
        Some(request_id.as_str()),
        "the request id is echoed"
    );
    assert_eq!(reply.body["data"]["type"], "categories");
    let cups = reply.id();
    assert_eq!(
        reply.header("location"),
        reply.body["data"]["links"]["self"].as_str()
    );
    let category = app.get(&format!("/v1/categories/{cups}")).await;
    category.expect_status(200);
    assert_eq!(category.attributes()["name"], "Cups");
    let categories = app.get("/v1/categories").await;
    categories.expect_status(200);
    assert_eq!(categories.body["meta"]["total"], 1, "{}", categories.text);
    let plates = app.create_category("Plates").await;

    // Product: 201, Location == links.self, price as a decimal string.
    let request_id = format!("e2e-{}", Uuid::new_v4().simple());
    let document = product_document("Espresso cup", "12.50", Some(&cups));
    let created = send(
        app.write(Method::POST, "/v1/products", Some(&document))
            .header("X-Request-ID", &request_id),
    )
    .await;
    created.expect_status(201);
    assert_eq!(created.header("x-request-id"), Some(request_id.as_str()));
    let product = created.id();
    let self_link = created.body["data"]["links"]["self"]
        .as_str()
        .unwrap_or_else(|| panic!("no links.self: {}", created.text))
        .to_owned();
    assert_eq!(self_link, format!("/v1/products/{product}"));
    assert_eq!(created.header("location"), Some(self_link.as_str()));
    assert_eq!(created.body["data"]["type"], "products");
    let attributes = created.attributes();
    assert_eq!(
        attributes["price"],
        json!("12.50"),
        "price is a decimal string"
    );
    assert_eq!(attributes["name"], "Espresso cup");
    assert_eq!(attributes["sku"], document["data"]["attributes"]["sku"]);
    assert_eq!(attributes["active"], true);
    assert!(attributes["createdAt"].is_string() && attributes["updatedAt"].is_string());
    assert!(
        attributes.get("categoryId").is_none(),
        "foreign keys are relationships"
    );
    assert_eq!(
        created.body["data"]["relationships"]["category"]["data"],
        json!({"type": "categories", "id": cups})
    );

    // Read twice: the second read comes from the cache. Proof: change the row behind
    // the server's back in between; the cached answer does not see it.
    let first = app.get(&self_link).await;
    first.expect_status(200);
    assert_eq!(
        without_timestamps(&first.body["data"]),
        without_timestamps(&created.body["data"]),
        "a read shows what was created"
    );
    app.execute_sql("UPDATE products SET description = 'edited behind the cache'")
        .await;
    let second = app.get(&self_link).await;
    second.expect_status(200);
    assert_eq!(
        second.text, first.text,
        "the second read is served from the cache"
    );

    // More products to list.
    let mug = app.create_product("Mug", "30.00", Some(&cups)).await;
    let thimble = app.create_product("Thimble cup", "5.00", Some(&cups)).await;
    let _plate = app.create_product("Plate", "99.00", Some(&plates)).await;
    let _loose = app.create_product("Saucer", "1.00", None).await;

    let list = app
        .get(&format!(
            "/v1/products?filter[category]={cups}&sort=-price&page[size]=2&fields[products]=name,price&include=category"
        ))
        .await;
    list.expect_status(200);
    let data = list.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", list.text));
    let ids: Vec<&str> = data.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(
        ids,
        [mug.as_str(), product.as_str()],
        "filtered, most expensive first: {}",
        list.text
    );
    let prices: Vec<&Value> = data.iter().map(|r| &r["attributes"]["price"]).collect();
    assert_eq!(prices, [&json!("30.00"), &json!("12.50")]);
    for resource in data {
        let keys: Vec<&String> = resource["attributes"]
            .as_object()
            .expect("attributes")
            .keys()
            .collect();
        assert_eq!(keys.len(), 2, "only the requested fields: {resource}");
        assert!(
            resource["attributes"]["name"].is_string()
                && resource["attributes"]["price"].is_string()
        );
        assert!(resource["links"]["self"].is_string());
    }
    assert_eq!(list.body["meta"]["total"], 3, "{}", list.text);
    let included = list.body["included"]
        .as_array()
        .unwrap_or_else(|| panic!("no included: {}", list.text));
    assert_eq!(included.len(), 1, "{}", list.text);
    assert_eq!(included[0]["type"], "categories");
    assert_eq!(included[0]["id"], json!(cups));
    let links = &list.body["links"];
    for member in ["self", "first", "last"] {
        assert!(links[member].is_string(), "links.{member}: {}", list.text);
    }
    let next = links["next"]
        .as_str()
        .unwrap_or_else(|| panic!("links.next: {}", list.text));
    let page_two = app.get(next).await;
    page_two.expect_status(200);
    let ids: Vec<&str> = page_two.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [thimble.as_str()],
        "links.next keeps filter and sort: {}",
        page_two.text
    );
    assert!(
        page_two.body["links"]["next"].is_null(),
        "{}",
        page_two.text
    );

    // Stock.
    let stock = app.create_inventory(&product, 20).await;
    stock.expect_status(201);
    assert_eq!(stock.body["data"]["type"], "inventory");
    assert_eq!(stock.id(), product, "a stock record's id is its product's");
    assert_eq!(
        stock.header("location"),
        stock.body["data"]["links"]["self"].as_str()
    );
    assert_eq!(
        stock.header("location"),
        Some(format!("/v1/inventory/{product}").as_str())
    );
    assert_eq!(stock.attributes()["onHand"], 20);
    assert_eq!(stock.attributes()["reserved"], 0);
    assert_eq!(stock.attributes()["available"], 20);
    let again = app.create_inventory(&product, 1).await;
    again.expect_error(409, None);
    again.assert_error(409, "already_exists", Some("/data/relationships/product"));

    let adjusted = app.adjust(&product, json!(-5)).await;
    adjusted.expect_status(200);
    assert_eq!(adjusted.attributes()["onHand"], 15);
    assert_eq!(adjusted.attributes()["available"], 15);

    let compound = app
        .get(&format!("/v1/inventory/{product}?include=product"))
        .await;
    compound.expect_status(200);
    assert_eq!(compound.attributes()["onHand"], 15);
    assert_eq!(
        compound.body["data"]["relationships"]["product"]["data"],
        json!({"type": "products", "id": product}),
        "{}",
        compound.text
    );
    let included = compound.body["included"]
        .as_array()
        .unwrap_or_else(|| panic!("no included: {}", compound.text));
    assert_eq!(included.len(), 1);
    assert_eq!(included[0]["type"], "products");
    assert_eq!(included[0]["id"], json!(product));
    assert_eq!(included[0]["attributes"]["name"], "Espresso cup");
    assert_eq!(included[0]["attributes"]["price"], "12.50");
    let listed = app.get("/v1/inventory").await;
    listed.expect_status(200);
    assert_eq!(listed.body["meta"]["total"], 1, "{}", listed.text);

    // Beyond what is available: 422, nothing changes.
    let refused = app.adjust(&product, json!(-16)).await;
    let error = refused.expect_error(422, Some("insufficient_stock"));
    assert_eq!(
        error["source"]["pointer"], "/data/attributes/quantityDelta",
        "{}",
        refused.text
    );
    assert_eq!(
        app.on_hand(&product).await,
        15,
        "a refused adjustment changes nothing"
    );
    let refill = app.adjust(&product, json!(5)).await;
    refill.expect_status(200);
    assert_eq!(refill.attributes()["onHand"], 20);

    // A price change is visible at once (the cached entry is invalidated); the row
    // edited behind the server's back shows that the read went to the database.
    let patched = app
        .patch(
            &self_link,
            &json!({"data": {"type": "products", "id": product, "attributes": {"price": "14.00"}}}),
        )
        .await;
    patched.expect_status(200);
    assert_eq!(patched.attributes()["price"], "14.00");
    let after = app.get(&self_link).await;
    after.expect_status(200);
    assert_eq!(
        after.attributes()["price"],
        "14.00",
        "the cache was invalidated: {}",
        after.text
    );
    assert_eq!(after.attributes()["description"], "edited behind the cache");
    assert_eq!(after.attributes()["name"], "Espresso cup");

    // Delete: 204, then 404 (also through the cache).
    let deleted = app.delete(&self_link).await;
    deleted.expect_status(204);
    let gone = app.get(&self_link).await;
    gone.expect_error(404, Some("not_found"));
    app.delete(&self_link).await.expect_error(404, None);
    let remaining = app.get("/v1/products").await;
    remaining.expect_status(200);
    assert_eq!(remaining.body["meta"]["total"], 4, "{}", remaining.text);

    // An adjustment of an unknown record is a 404.
    let unknown = Uuid::new_v4().to_string();
    let missing = send(app.write(
        Method::PATCH,
        &format!("/v1/inventory/{unknown}"),
        Some(&adjust_document(&unknown, json!(1))),
    ))
    .await;
    missing.expect_error(404, None);
}
