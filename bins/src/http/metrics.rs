//! Prometheus metrics at `GET /metrics` (text format), from an explicit
//! `prometheus-client` registry: every HTTP request by method, route template (never
//! the raw path: ids never become labels) and status class, with a latency
//! histogram; refusals of the auth rate limit; and, read at each scrape, the health
//! of every dependency `/ready` checks, the outbox backlog and the age of its oldest
//! event, and notifications and webhook deliveries by status. Label values come from fixed sets (methods,
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

/// The label of a status (`pending`, `sent`, …).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    /// The status.
    pub status: String,
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
    outbox_unsent: Gauge,
    outbox_oldest_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    notifications: Family<StatusLabels, Gauge>,
    webhook_deliveries: Family<StatusLabels, Gauge>,
    sources: Sources,
}

/// What the gauges read at a scrape.
#[derive(Default)]
pub struct Sources {
    /// The order use cases (the outbox), where they run.
    pub orders: Option<Arc<emporium_application::orders::Orders>>,
    /// The notification use cases, where they run.
    pub notifications: Option<Arc<emporium_application::notifications::Notifications>>,
    /// The webhook use cases, where they run.
    pub webhooks: Option<Arc<emporium_application::webhooks::Webhooks>>,
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
    /// The registry, with the health of `dependencies` checked, and `sources` read,
    /// at each scrape.
    pub fn new(dependencies: Arc<[Dependency]>, sources: Sources) -> Self {
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
        let outbox_unsent = Gauge::default();
        registry.register(
            "outbox_unsent_events",
            "Events committed and not yet published (the outbox backlog)",
            outbox_unsent.clone(),
        );
        let outbox_oldest_age = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "outbox_oldest_unsent_age_seconds",
            "Age of the oldest event not yet published (0 when none waits)",
            outbox_oldest_age.clone(),
        );
        let notifications = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "notifications",
            "Notification records by status (pending, sent, failed)",
            notifications.clone(),
        );
        let webhook_deliveries = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries by status (pending, succeeded, failed)",
            webhook_deliveries.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            rate_limit_refusals,
            dependency_up,
            dependencies,
            outbox_unsent,
            outbox_oldest_age,
            notifications,
            webhook_deliveries,
            sources,
        }
    }

    /// Reads the outbox, notification and delivery gauges; a source that fails
    /// keeps its last values (and is logged).
    async fn read_sources(&self) {
        if let Some(orders) = &self.sources.orders {
            match orders.outbox.backlog().await {
                Ok(backlog) => {
                    self.outbox_unsent
                        .set(i64::try_from(backlog.unsent).unwrap_or(i64::MAX));
                    let age = backlog.oldest.map_or(0.0, |oldest| {
                        (chrono::Utc::now() - oldest).num_milliseconds().max(0) as f64 / 1000.0
                    });
                    self.outbox_oldest_age.set(age);
                }
                Err(error) => tracing::warn!(error = %error, "metrics: the outbox backlog"),
            }
        }
        if let Some(notifications) = &self.sources.notifications {
            match notifications.counts.execute().await {
                Ok(counts) => {
                    for (status, count) in counts {
                        self.notifications
                            .get_or_create(&StatusLabels {
                                status: status.as_str().to_owned(),
                            })
                            .set(i64::try_from(count).unwrap_or(i64::MAX));
                    }
                }
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "metrics: notifications")
                }
            }
        }
        if let Some(webhooks) = &self.sources.webhooks {
            match webhooks.store.delivery_counts().await {
                Ok(counts) => {
                    for &status in emporium_domain::webhooks::DeliveryStatus::ALL {
                        let count = counts
                            .iter()
                            .find(|(counted, _)| *counted == status)
                            .map_or(0, |(_, count)| *count);
                        self.webhook_deliveries
                            .get_or_create(&StatusLabels {
                                status: status.as_str().to_owned(),
                            })
                            .set(i64::try_from(count).unwrap_or(i64::MAX));
                    }
                }
                Err(error) => tracing::warn!(error = %error, "metrics: webhook deliveries"),
            }
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
        self.read_sources().await;
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
