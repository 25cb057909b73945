//! The benchmark baseline: a bare poem handler that answers
//! `GET /v1/products/{id}` with a fixed JSON:API product document (about the size of
//! Emporium's own) and `content-type: application/vnd.api+json`. No database, no
//! cache, no middleware: what `scripts/bench` compares `emporium serve` with.
//!
//! ```text
//! cargo run --release -p emporium --example bare_handler -- 127.0.0.1:8090
//! ```
//!
//! The address comes from the first argument, else `BARE_HANDLER_ADDR`, else
//! `127.0.0.1:8090`.

use poem::http::{StatusCode, header};
use poem::listener::TcpListener;
use poem::web::Path;
use poem::{Body, Response, Route, Server, get, handler};
use serde_json::json;
use std::sync::LazyLock;

const DEFAULT_ADDR: &str = "127.0.0.1:8090";
const ID: &str = "0193a0c4-5e8f-7d21-9b3a-6c4d2e1f0a57";

/// The fixed document, built once.
fn document() -> Vec<u8> {
    let doc = json!({
        "jsonapi": { "version": "1.1" },
        "data": {
            "type": "products",
            "id": ID,
            "attributes": {
                "name": "Espresso cup",
                "description": "90 ml, porcelain",
                "price": "12.50",
                "sku": "CUP-090",
                "images": ["https://img.example/cup.jpg"],
                "active": true,
                "categoryId": null,
                "createdAt": "2026-11-22T10:00:00.000000Z",
                "updatedAt": "2026-11-22T10:00:00.000000Z"
            },
            "relationships": {
                "category": { "data": null }
            },
            "links": { "self": format!("/v1/products/{ID}") }
        },
        "links": { "self": format!("/v1/products/{ID}") }
    });
    serde_json::to_vec(&doc).expect("a literal JSON value serializes")
}

/// The fixed document, serialized on first use.
static BODY: LazyLock<Vec<u8>> = LazyLock::new(document);

#[handler]
fn product(Path(_id): Path<String>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/vnd.api+json")
        .body(Body::from(BODY.as_slice()))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("BARE_HANDLER_ADDR").ok())
        .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    eprintln!(
        "bare_handler: listening on {addr} ({} byte body)",
        BODY.len()
    );
    let app = Route::new().at("/v1/products/:id", get(product));
    Server::new(TcpListener::bind(addr))
        .run_with_graceful_shutdown(
            app,
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            None,
        )
        .await
}
