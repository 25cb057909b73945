//! The consumer group `webhooks`: one delivery per event and enabled subscription
//! to its type, recorded before anything is sent (idempotent by event id: a
//! redelivered event finds its deliveries). The delivery task sends them.

use async_trait::async_trait;
use emporium_domain::orders::{DomainEvent, EventHandler};
use emporium_domain::webhooks::{WebhookDelivery, WebhookDeliveryId};

use super::WebhookPorts;

/// The consumer (see the [module docs](self)).
pub struct RecordWebhookDeliveries {
    ports: WebhookPorts,
}

impl RecordWebhookDeliveries {
    /// The consumer group's name.
    pub const GROUP: &'static str = "webhooks";

    /// The consumer over its ports.
    pub fn new(ports: WebhookPorts) -> Self {
        Self { ports }
    }
}

/// The body of every delivery of `event`: `{"type","timestamp","data"}` (Standard
/// Webhooks' recommended shape).
pub(crate) fn payload(event: &DomainEvent) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&serde_json::json!({
        "type": event.event_type,
        "timestamp": event.timestamp,
        "data": event.data,
    }))?)
}

#[async_trait]
impl EventHandler for RecordWebhookDeliveries {
    async fn handle(&self, event: &DomainEvent) -> Result<(), anyhow::Error> {
        let ports = &self.ports;
        let subscribed = ports
            .webhooks
            .subscribed(event.event_type)
            .await
            .map_err(|error| anyhow::Error::new(error).context("listing the subscriptions"))?;
        if subscribed.is_empty() {
            return Ok(());
        }
        let body = payload(event)?;
        let now = ports.clock.now();
        for webhook in subscribed {
            let delivery = WebhookDelivery::new(
                WebhookDeliveryId(ports.ids.new_id()),
                webhook.id,
                event.id,
                event.event_type,
                body.clone(),
                now,
            );
            ports
                .webhooks
                .record_delivery(&delivery)
                .await
                .map_err(|error| anyhow::Error::new(error).context("recording a delivery"))?;
        }
        Ok(())
    }
}
