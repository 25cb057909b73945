//! `/health` (the process is alive) and `/ready` (every dependency it needs answers).
//! Both answer with a JSON:API meta document.
//!
//! A dependency is either *required* (storage: the service cannot work without it;
//! down → `/ready` answers 503 `unavailable`) or *optional* (the Redis cache: requests
//! still succeed without it; down → 200 `degraded`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use poem_openapi::{Object, OpenApi};
use serde::Serialize;

use super::ApiTags;
use super::jsonapi::{ApiError, JsonApi, QuerySpec};
use super::openapi::Queries;

/// How long one readiness check may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Checks that a dependency answers.
type Check = dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync;

/// A named dependency `/ready` checks.
#[derive(Clone)]
pub struct Dependency {
    /// Its name in `/ready` (`database`, `mongodb`, `redis`, `products-service`, …).
    pub name: &'static str,
    /// Whether the service fails without it (see the module documentation).
    pub required: bool,
    check: Arc<Check>,
}

impl Dependency {
    /// A dependency checked by `check`.
    pub fn new(
        name: &'static str,
        required: bool,
        check: impl Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            required,
            check: Arc::new(check),
        }
    }

    /// Runs the check within 2 s; the error is logged, never returned to clients.
    pub async fn is_up(&self) -> bool {
        match tokio::time::timeout(PROBE_TIMEOUT, (self.check)()).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::warn!(
                    dependency = self.name,
                    error = format!("{error:#}"),
                    "readiness check failed"
                );
                false
            }
            Err(_) => {
                tracing::warn!(dependency = self.name, "readiness check timed out");
                false
            }
        }
    }
}

/// The probe routes.
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

impl Queries for HealthApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] =
        &[("health", &QuerySpec::NONE), ("ready", &QuerySpec::NONE)];
}

/// `{"meta": {"status": "ok", "services": …}}`.
#[derive(Object, Serialize)]
#[oai(rename = "HealthDocument")]
pub struct HealthDocument {
    /// Liveness.
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

/// `{"meta": {"status": …, "checks": [...]}}`.
#[derive(Object, Serialize)]
#[oai(rename = "ReadinessDocument")]
pub struct ReadinessDocument {
    /// The overall state and each dependency's.
    pub meta: ReadinessMeta,
}

/// Readiness.
#[derive(Object, Serialize)]
#[oai(rename = "ReadinessMeta")]
pub struct ReadinessMeta {
    /// `ready` when every dependency is up, `degraded` when only optional ones are
    /// down (200 either way), `unavailable` when a required one is down (503).
    pub status: String,
    /// One entry per dependency.
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
    /// Whether the service fails without it.
    pub required: bool,
    /// How long the check took.
    pub latency_ms: u64,
}

/// The readiness answer: 200 when ready or degraded, 503 with the same document when
/// a required dependency is down.
pub enum Readiness {
    /// No required dependency is down.
    Ready(JsonApi<ReadinessDocument>),
    /// A required dependency is down.
    Unavailable(JsonApi<ReadinessDocument>),
}

impl poem::IntoResponse for Readiness {
    fn into_response(self) -> poem::Response {
        match self {
            Readiness::Ready(document) => document.into_response(),
            Readiness::Unavailable(document) => {
                let mut response = document.into_response();
                response.set_status(poem::http::StatusCode::SERVICE_UNAVAILABLE);
                response
            }
        }
    }
}

impl poem_openapi::ApiResponse for Readiness {
    fn meta() -> poem_openapi::registry::MetaResponses {
        use poem_openapi::registry::{MetaMediaType, MetaResponse};
        use poem_openapi::types::Type;
        let mut meta = <JsonApi<ReadinessDocument> as poem_openapi::ApiResponse>::meta();
        meta.responses.push(MetaResponse {
            description: "A required dependency is down (same document, status `unavailable`).",
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

#[OpenApi(tag = "ApiTags::Operations")]
impl HealthApi {
    /// Liveness
    ///
    /// Answers while the process runs; checks nothing else.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> Result<JsonApi<HealthDocument>, ApiError> {
        JsonApi::new(&HealthDocument {
            meta: HealthMeta {
                status: "ok".to_owned(),
                services: self.services.to_owned(),
            },
        })
    }

    /// Readiness
    ///
    /// Checks every dependency (database, MongoDB, Redis, remote products or
    /// inventory service) concurrently, each within 2 s.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self) -> Result<Readiness, ApiError> {
        let checks =
            futures::future::join_all(self.dependencies.iter().map(|dependency| async move {
                let started = Instant::now();
                let up = dependency.is_up().await;
                DependencyCheck {
                    name: dependency.name.to_owned(),
                    status: if up { "up" } else { "down" }.to_owned(),
                    required: dependency.required,
                    latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                }
            }))
            .await;
        let down = |required: bool| {
            checks
                .iter()
                .any(|check| check.required == required && check.status == "down")
        };
        let status = if down(true) {
            "unavailable"
        } else if down(false) {
            "degraded"
        } else {
            "ready"
        };
        let document = JsonApi::new(&ReadinessDocument {
            meta: ReadinessMeta {
                status: status.to_owned(),
                checks,
            },
        })?;
        Ok(if status == "unavailable" {
            Readiness::Unavailable(document)
        } else {
            Readiness::Ready(document)
        })
    }
}
