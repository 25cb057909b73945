//! `/health` (the process is alive) and `/ready` (every configured dependency
//! answers; 503 when one does not). Both answer with a JSON:API meta document.

use std::sync::Arc;
use std::time::Instant;

use poem_openapi::{Object, OpenApi};
use serde::Serialize;

use super::ApiTags;
use super::jsonapi::{ApiError, JsonApi};
use crate::composition::Dependency;

/// The probe routes.
#[derive(Clone)]
pub struct HealthApi {
    dependencies: Arc<[Dependency]>,
    services: &'static str,
}

impl HealthApi {
    /// Probes of `dependencies`; `services` names what this process runs.
    pub fn new(dependencies: Arc<[Dependency]>, services: &'static str) -> Self {
        Self {
            dependencies,
            services,
        }
    }
}

/// `{"meta": {"status": "ok"}}`.
#[derive(Object)]
#[oai(rename = "HealthDocument")]
pub struct HealthDocument {
    /// `status`: always `ok` when the process answers.
    pub meta: HealthMeta,
}

/// Liveness.
#[derive(Object, Serialize)]
#[oai(rename = "HealthMeta")]
pub struct HealthMeta {
    /// `ok`.
    pub status: String,
    /// Which services this process runs (`all`, `products`, `inventory`, `users`).
    pub services: String,
}

/// `{"meta": {"status": "ready" | "unavailable", "checks": [...]}}`.
#[derive(Object)]
#[oai(rename = "ReadinessDocument")]
pub struct ReadinessDocument {
    /// The overall state and each dependency's.
    pub meta: ReadinessMeta,
}

/// Readiness.
#[derive(Object, Serialize)]
#[oai(rename = "ReadinessMeta")]
pub struct ReadinessMeta {
    /// `ready` when every dependency is up, else `unavailable`.
    pub status: String,
    /// One entry per configured dependency.
    pub checks: Vec<DependencyCheck>,
}

/// One dependency's state.
#[derive(Object, Serialize)]
#[oai(rename = "DependencyCheck", rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct DependencyCheck {
    /// `database`, `mongodb`, `redis`, `products-service` or `inventory-service`.
    pub name: String,
    /// `up` or `down`.
    pub status: String,
    /// How long the check took.
    pub latency_ms: u64,
}

#[derive(Serialize)]
struct MetaDocument<T> {
    meta: T,
}

/// The readiness answer: 200 when ready, 503 with the same document when not.
pub enum Readiness {
    /// Every dependency is up.
    Ready(JsonApi<ReadinessDocument>),
    /// Some dependency is down.
    Unavailable(Vec<u8>),
}

impl poem::IntoResponse for Readiness {
    fn into_response(self) -> poem::Response {
        match self {
            Readiness::Ready(document) => document.into_response(),
            Readiness::Unavailable(body) => poem::Response::builder()
                .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
                .header(poem::http::header::CONTENT_TYPE, super::jsonapi::JSON_API)
                .body(body),
        }
    }
}

impl poem_openapi::ApiResponse for Readiness {
    fn meta() -> poem_openapi::registry::MetaResponses {
        use poem_openapi::registry::{MetaMediaType, MetaResponse};
        use poem_openapi::types::Type;
        let mut meta = <JsonApi<ReadinessDocument> as poem_openapi::ApiResponse>::meta();
        meta.responses.push(MetaResponse {
            description: "A dependency is down (same document, status `unavailable`).",
            status: Some(503),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: super::jsonapi::JSON_API,
                schema: ReadinessDocument::schema_ref(),
            }],
            headers: vec![],
        });
        meta
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        <JsonApi<ReadinessDocument> as poem_openapi::ApiResponse>::register(registry);
    }
}

#[OpenApi]
impl HealthApi {
    /// Liveness
    ///
    /// Answers while the process runs; checks nothing else.
    #[oai(
        path = "/health",
        method = "get",
        tag = "ApiTags::Operations",
        operation_id = "health"
    )]
    async fn health(&self) -> Result<JsonApi<HealthDocument>, ApiError> {
        JsonApi::new(&MetaDocument {
            meta: HealthMeta {
                status: "ok".to_owned(),
                services: self.services.to_owned(),
            },
        })
    }

    /// Readiness
    ///
    /// Checks every configured dependency (database, MongoDB, Redis, remote products
    /// or inventory service) concurrently, each within 2 s.
    #[oai(
        path = "/ready",
        method = "get",
        tag = "ApiTags::Operations",
        operation_id = "ready"
    )]
    async fn ready(&self) -> Result<Readiness, ApiError> {
        let checks =
            futures::future::join_all(self.dependencies.iter().map(|dependency| async move {
                let started = Instant::now();
                let up = dependency.is_up().await;
                DependencyCheck {
                    name: dependency.name.to_owned(),
                    status: if up { "up" } else { "down" }.to_owned(),
                    latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                }
            }))
            .await;
        let ready = checks.iter().all(|check| check.status == "up");
        let document = MetaDocument {
            meta: ReadinessMeta {
                status: if ready { "ready" } else { "unavailable" }.to_owned(),
                checks,
            },
        };
        if ready {
            Ok(Readiness::Ready(JsonApi::new(&document)?))
        } else {
            let body = serde_json::to_vec(&document)
                .map_err(|error| ApiError::internal("serialising readiness", &error.into()))?;
            Ok(Readiness::Unavailable(body))
        }
    }
}
