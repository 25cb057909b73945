//! Webhook use cases: the admin API of subscriptions and their delivery logs, the
//! bus consumer that records one delivery per event and subscription
//! ([`RecordWebhookDeliveries`]), and the delivery with retries
//! ([`DeliverWebhooks`]): Standard Webhooks signatures, a schedule with jitter,
//! `Retry-After` honoured, 410 Gone and too many failures in a row disabling the
//! subscription.

mod admin;
mod consumer;
mod delivery;

use std::sync::Arc;

use chrono::TimeDelta;
use emporium_domain::notifications::{LivePush, NotificationRepository};
use emporium_domain::orders::EventBus;
use emporium_domain::secrets::SecretGenerator;
use emporium_domain::webhooks::{WebhookRepository, WebhookSender};
use emporium_domain::{Clock, IdGenerator};

pub use admin::{
    CreateWebhook, DeleteWebhook, GetDelivery, GetWebhook, ListDeliveries, ListWebhooks,
    NewWebhook, Redeliver, RotateWebhookSecret, UpdateWebhook, WebhookError,
};
pub use consumer::RecordWebhookDeliveries;
pub use delivery::{DeliverWebhooks, PruneDeliveries};

/// How webhooks are delivered and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The wait before each retry; attempts in all are one more than its length.
    pub retry_delays: Vec<TimeDelta>,
    /// Failed deliveries in a row that disable a subscription.
    pub max_consecutive_failures: u32,
    /// How long a rotated-out secret keeps signing.
    pub secret_grace: TimeDelta,
    /// How long an attempt may run before another worker may start one (above the
    /// sender's timeout).
    pub attempt_lease: TimeDelta,
    /// How long finished deliveries are kept.
    pub retention: TimeDelta,
}

/// The Standard Webhooks reference schedule (as Svix delivers): at once, then after
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.
pub fn default_retry_delays() -> Vec<TimeDelta> {
    vec![
        TimeDelta::seconds(5),
        TimeDelta::minutes(5),
        TimeDelta::minutes(30),
        TimeDelta::hours(2),
        TimeDelta::hours(5),
        TimeDelta::hours(10),
        TimeDelta::hours(10),
    ]
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            retry_delays: default_retry_delays(),
            max_consecutive_failures: 20,
            secret_grace: TimeDelta::hours(24),
            // Above the sender's timeout (10 s).
            attempt_lease: TimeDelta::seconds(30),
            retention: TimeDelta::days(30),
        }
    }
}

/// The ports the webhook use cases drive.
#[derive(Clone)]
pub struct WebhookPorts {
    /// Subscriptions and deliveries.
    pub webhooks: Arc<dyn WebhookRepository>,
    /// Signs and posts.
    pub sender: Arc<dyn WebhookSender>,
    /// New secrets.
    pub secrets: Arc<dyn SecretGenerator>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Ids of subscriptions and deliveries.
    pub ids: Arc<dyn IdGenerator>,
    /// Where admins are told that a subscription was disabled (recorded, and pushed
    /// to their open streams).
    pub notices: Option<(Arc<dyn NotificationRepository>, Arc<dyn LivePush>)>,
    /// The rules.
    pub settings: WebhookSettings,
}

/// Every webhook use case, over one set of ports.
pub struct Webhooks {
    /// Creates a subscription (admins).
    pub create: CreateWebhook,
    /// Lists subscriptions (admins).
    pub list: ListWebhooks,
    /// Reads one (admins).
    pub get: GetWebhook,
    /// Changes one (admins).
    pub update: UpdateWebhook,
    /// Deletes one (admins).
    pub delete: DeleteWebhook,
    /// Rotates a secret (admins).
    pub rotate_secret: RotateWebhookSecret,
    /// A subscription's delivery log (admins).
    pub deliveries: ListDeliveries,
    /// One delivery (admins).
    pub delivery: GetDelivery,
    /// Sends a delivery again (admins).
    pub redeliver: Redeliver,
    /// Delivers what is due.
    pub deliver: DeliverWebhooks,
    /// Forgets old deliveries.
    pub prune: PruneDeliveries,
    /// The subscriptions and deliveries (read for metrics).
    pub store: Arc<dyn WebhookRepository>,
}

impl Webhooks {
    /// The use cases over `ports`; subscribes [`RecordWebhookDeliveries`] to `bus`.
    pub fn new(ports: WebhookPorts, bus: &dyn EventBus) -> Self {
        bus.subscribe(
            RecordWebhookDeliveries::GROUP,
            Arc::new(RecordWebhookDeliveries::new(ports.clone())),
        );
        let deliver = DeliverWebhooks::new(ports.clone());
        Self {
            create: CreateWebhook::new(ports.clone()),
            list: ListWebhooks::new(ports.clone()),
            get: GetWebhook::new(ports.clone()),
            update: UpdateWebhook::new(ports.clone()),
            delete: DeleteWebhook::new(ports.clone()),
            rotate_secret: RotateWebhookSecret::new(ports.clone()),
            deliveries: ListDeliveries::new(ports.clone()),
            delivery: GetDelivery::new(ports.clone()),
            redeliver: Redeliver::new(ports.clone(), deliver.clone()),
            store: ports.webhooks.clone(),
            deliver,
            prune: PruneDeliveries::new(ports),
        }
    }
}
