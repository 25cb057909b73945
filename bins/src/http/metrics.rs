//! Prometheus metrics at `GET /metrics` (text format), from an explicit
//! `prometheus-client` registry: every HTTP request by method, route template (never
//! the raw path: ids never become labels) and status class, with a latency
//! histogram; refusals of the auth rate limit; and, at each scrape, the health of
//! every dependency `/ready` checks. Label values come from fixed sets (methods,
//! the route table, five status classes, the dependency names), so the number of
//! series is bounded.

use std::sync::Arc;
use std::time::Duration;

use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, Request, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::health::Dependency;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `GET`, `POST`, … (others: `OTHER`).
    pub method: String,
    /// The route template (`/v1/orders/:id`), or `unmatched`.
    pub route: String,
    /// `2xx` … `5xx`.
    pub status_class: String,
}

/// The labels of a latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// As in [`RequestLabels`].
    pub method: String,
    /// As in [`RequestLabels`].
    pub route: String,
}

/// The labels of a dependency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DependencyLabels {
    /// Its name in `/ready`.
    pub name: String,
    /// `true` when the service fails without it.
    pub required: String,
}

type Histograms = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

/// The server's metrics (see the [module docs](self)).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms,
    rate_limit_refusals: Counter,
    dependency_up: Family<DependencyLabels, Gauge>,
    dependencies: Arc<[Dependency]>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The name of `method` as a label (a fixed set).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    /// The registry, with the health of `dependencies` checked at each scrape.
    pub fn new(dependencies: Arc<[Dependency]>) -> Self {
        let mut registry = Registry::with_prefix("emporium");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status class",
            requests.clone(),
        );
        let latency: Histograms = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "How long HTTP requests took to answer, by method and route template",
            latency.clone(),
        );
        let rate_limit_refusals = Counter::default();
        registry.register(
            "rate_limit_refusals",
            "Requests the auth rate limit refused (429)",
            rate_limit_refusals.clone(),
        );
        let dependency_up = Family::<DependencyLabels, Gauge>::default();
        registry.register(
            "dependency_up",
            "Whether each dependency /ready checks answers (1) or not (0), as of the scrape",
            dependency_up.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            rate_limit_refusals,
            dependency_up,
            dependencies,
        }
    }

    /// Counts one answered request.
    pub fn observe(&self, method: &Method, route: &str, status: StatusCode, took: Duration) {
        let method = method_label(method);
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status_class: class.to_owned(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts a refusal of the auth rate limit.
    pub fn rate_limited(&self) {
        self.rate_limit_refusals.inc();
    }

    /// The text format, after checking every dependency.
    pub async fn render(&self) -> Result<String, std::fmt::Error> {
        let checks = futures::future::join_all(self.dependencies.iter().map(|dependency| async {
            (
                dependency.name,
                dependency.required,
                dependency.is_up().await,
            )
        }))
        .await;
        for (name, required, up) in checks {
            self.dependency_up
                .get_or_create(&DependencyLabels {
                    name: name.to_owned(),
                    required: required.to_string(),
                })
                .set(i64::from(up));
        }
        let mut text = String::with_capacity(4096);
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// `GET /metrics`.
pub struct MetricsEndpoint(pub Arc<Metrics>);

impl Endpoint for MetricsEndpoint {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return Ok(Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .header(header::ALLOW, "GET, HEAD")
                .finish());
        }
        match self.0.render().await {
            Ok(text) => Ok(Response::builder().content_type(CONTENT_TYPE).body(text)),
            Err(_) => Ok(Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .finish()),
        }
    }
}
