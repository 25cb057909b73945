//! Prometheus metrics at `GET /metrics` (text format), from an explicit
//! `prometheus-client` registry: every HTTP request by method, route template (never
//! the raw path: ids never become labels) and status class, with a latency
//! histogram; refusals of the auth rate limit; the counters the ports' decorators
//! keep ([`crate::metered`]: cache, bus, orders, payments, reservations); and, read
//! at each scrape, the health of every dependency `/ready` checks, the outbox backlog
//! and the age of its oldest event, each consumer group's lag, pending events and
//! dead letters (Redis Streams), and notifications and webhook deliveries by status.
//! Label values come from fixed sets (methods, the route table, five status classes,
//! the dependency names, the event types and consumer groups named in code), so the
//! number of series is bounded.

use std::sync::{Arc, OnceLock};
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
use crate::metered::{GroupLabels, Instruments};
use emporium_adapters::redis_streams::RedisStreamsEventBus;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `GET`, `POST`, … (others: `OTHER`).
    pub method: &'static str,
    /// The route template (`/v1/orders/:id`), or `unmatched`.
    pub route: Arc<str>,
    /// `2xx` … `5xx`.
    pub status_class: &'static str,
}

/// The labels of a latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// As in [`RequestLabels`].
    pub method: &'static str,
    /// As in [`RequestLabels`].
    pub route: Arc<str>,
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
    bus_lag: Family<GroupLabels, Gauge>,
    bus_pending: Family<GroupLabels, Gauge>,
    bus_dead_letters: Family<GroupLabels, Gauge>,
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
    /// The Redis Streams bus, where events go over Redis.
    pub event_bus: Option<Arc<RedisStreamsEventBus>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The methods as labels, in [`method_index`]'s order.
const METHODS: [&str; 8] = [
    "GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS", "OTHER",
];

/// The status classes as labels, in [`class_index`]'s order.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The position of `method`'s label in [`METHODS`].
fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::PATCH => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

/// The position of `status`'s class in [`STATUS_CLASSES`].
fn class_index(status: StatusCode) -> usize {
    (usize::from(status.as_u16() / 100)).clamp(1, 5) - 1
}

/// One route's request series, found once and kept by the edge (see
/// [`Metrics::route_series`]): counting a request of a known route then hashes
/// nothing and takes no lock but the histogram's.
pub struct RouteSeries {
    route: Arc<str>,
    requests: [[OnceLock<Counter>; STATUS_CLASSES.len()]; METHODS.len()],
    latency: [OnceLock<Histogram>; METHODS.len()],
}

impl Metrics {
    /// The registry of `instruments`, with the health of `dependencies` checked, and
    /// `sources` read, at each scrape.
    pub fn new(
        dependencies: Arc<[Dependency]>,
        instruments: &Instruments,
        sources: Sources,
    ) -> Self {
        let mut registry = Registry::with_prefix("emporium");
        instruments.register(&mut registry);
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
        let bus_lag = Family::<GroupLabels, Gauge>::default();
        registry.register(
            "bus_consumer_lag",
            "Events in the stream not yet delivered to each consumer group (Redis Streams)",
            bus_lag.clone(),
        );
        let bus_pending = Family::<GroupLabels, Gauge>::default();
        registry.register(
            "bus_pending_events",
            "Events delivered to a consumer group and not yet acknowledged (Redis Streams)",
            bus_pending.clone(),
        );
        let bus_dead_letters = Family::<GroupLabels, Gauge>::default();
        registry.register(
            "bus_dead_letters",
            "Events in the dead-letter stream, by the consumer group that failed on them",
            bus_dead_letters.clone(),
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
            bus_lag,
            bus_pending,
            bus_dead_letters,
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
        if let Some(bus) = &self.sources.event_bus {
            match bus.group_stats().await {
                Ok(groups) => {
                    for stats in groups {
                        let labels = GroupLabels { group: stats.group };
                        let gauge = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
                        if let Some(lag) = stats.lag {
                            self.bus_lag.get_or_create(&labels).set(gauge(lag));
                        }
                        self.bus_pending
                            .get_or_create(&labels)
                            .set(gauge(stats.pending));
                        self.bus_dead_letters
                            .get_or_create(&labels)
                            .set(gauge(stats.dead_letters));
                    }
                }
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "metrics: the consumer groups")
                }
            }
        }
    }

    /// Counts one answered request of a path no route has (`unmatched`) or outside
    /// the route table (`/metrics`, `/docs`, …).
    pub fn observe(&self, method: &Method, route: Arc<str>, status: StatusCode, took: Duration) {
        let method = METHODS[method_index(method)];
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.clone(),
                status_class: STATUS_CLASSES[class_index(status)],
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(took.as_secs_f64());
    }

    /// The series of the route `route` (its template), created as requests need them.
    pub fn route_series(&self, route: Arc<str>) -> RouteSeries {
        RouteSeries {
            route,
            requests: Default::default(),
            latency: Default::default(),
        }
    }

    /// Counts one answered request of the route of `series`.
    pub fn observe_route(
        &self,
        series: &RouteSeries,
        method: &Method,
        status: StatusCode,
        took: Duration,
    ) {
        let (method, class) = (method_index(method), class_index(status));
        series.requests[method][class]
            .get_or_init(|| {
                self.requests
                    .get_or_create(&RequestLabels {
                        method: METHODS[method],
                        route: series.route.clone(),
                        status_class: STATUS_CLASSES[class],
                    })
                    .clone()
            })
            .inc();
        series.latency[method]
            .get_or_init(|| {
                self.latency
                    .get_or_create(&RouteLabels {
                        method: METHODS[method],
                        route: series.route.clone(),
                    })
                    .clone()
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
