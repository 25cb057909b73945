//! The admin API of webhooks: subscriptions (the secret shown only when created or
//! rotated), their delivery logs, and manual redelivery. Admins only.

use emporium_domain::webhooks::{
    DeliveryStatus, Webhook, WebhookChange, WebhookDelivery, WebhookDeliveryId, WebhookDescription,
    WebhookEvents, WebhookId, WebhookUrl,
};
use emporium_domain::{AccessDenied, Actor, Page, PageRequest};

use super::{DeliverWebhooks, WebhookPorts};
use crate::failure::{Failure, UseCaseError};

/// Failures of the webhook admin API.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Not signed in, or not an admin.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// No such subscription or delivery.
    #[error("There is no such webhook or delivery.")]
    NotFound,
    /// The URL's address may not be called (private, loopback, link-local, or
    /// unresolvable).
    #[error("The webhook URL cannot be used: {0}.")]
    TargetRefused(String),
    /// Storage failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for WebhookError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::NotFound => Failure::not_found(),
            Self::TargetRefused(_) => Failure::invalid("webhook_target_refused").on_value("url"),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

fn store(
    error: impl std::error::Error + Send + Sync + 'static,
    what: &'static str,
) -> WebhookError {
    WebhookError::Unexpected(anyhow::Error::new(error).context(what))
}

async fn check_target(ports: &WebhookPorts, url: &WebhookUrl) -> Result<(), WebhookError> {
    ports
        .sender
        .check_target(url)
        .await
        .map_err(|refused| WebhookError::TargetRefused(refused.0))
}

/// A subscription as an admin asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// Where.
    pub url: WebhookUrl,
    /// What.
    pub events: WebhookEvents,
    /// What for.
    pub description: WebhookDescription,
}

macro_rules! use_case {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name {
            ports: WebhookPorts,
        }

        impl $name {
            /// The use case over its ports.
            pub fn new(ports: WebhookPorts) -> Self {
                Self { ports }
            }
        }
    };
}

use_case!(
    /// Creates a subscription with a new secret (shown to the admin this once).
    CreateWebhook
);
use_case!(
    /// Lists subscriptions.
    ListWebhooks
);
use_case!(
    /// Reads a subscription.
    GetWebhook
);
use_case!(
    /// Changes a subscription's URL, events, description or enabled flag.
    UpdateWebhook
);
use_case!(
    /// Deletes a subscription and its deliveries.
    DeleteWebhook
);
use_case!(
    /// Gives a subscription a new secret; the old one keeps signing (beside the new)
    /// for the grace period, so receivers can switch without losing deliveries.
    RotateWebhookSecret
);
use_case!(
    /// A subscription's deliveries, newest first.
    ListDeliveries
);
use_case!(
    /// Reads a delivery with its attempt log.
    GetDelivery
);

impl CreateWebhook {
    /// Creates the subscription (enabled); its URL is checked first.
    pub async fn execute(&self, actor: &Actor, input: NewWebhook) -> Result<Webhook, WebhookError> {
        actor.ensure_admin()?;
        let ports = &self.ports;
        check_target(ports, &input.url).await?;
        let now = ports.clock.now();
        let webhook = Webhook {
            id: WebhookId(ports.ids.new_id()),
            url: input.url,
            events: input.events,
            description: input.description,
            secret: ports.secrets.webhook_secret(),
            previous_secret: None,
            enabled: true,
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
        };
        ports
            .webhooks
            .create(&webhook)
            .await
            .map_err(|error| store(error, "storing the webhook"))?;
        tracing::info!(webhook_id = %webhook.id, url = webhook.url.as_str(), "webhook created");
        Ok(webhook)
    }
}

impl ListWebhooks {
    /// A page of subscriptions.
    pub async fn execute(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Webhook>, WebhookError> {
        actor.ensure_admin()?;
        self.ports
            .webhooks
            .list(page)
            .await
            .map_err(|error| store(error, "listing webhooks"))
    }
}

async fn load(ports: &WebhookPorts, id: WebhookId) -> Result<Webhook, WebhookError> {
    ports
        .webhooks
        .get(id)
        .await
        .map_err(|error| store(error, "loading the webhook"))?
        .ok_or(WebhookError::NotFound)
}

impl GetWebhook {
    /// Subscription `id`.
    pub async fn execute(&self, actor: &Actor, id: WebhookId) -> Result<Webhook, WebhookError> {
        actor.ensure_admin()?;
        load(&self.ports, id).await
    }
}

impl UpdateWebhook {
    /// Applies `change` (a new URL is checked first), timed by the clock.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: WebhookId,
        change: WebhookChange,
    ) -> Result<Webhook, WebhookError> {
        actor.ensure_admin()?;
        let change = WebhookChange {
            at: self.ports.clock.now(),
            ..change
        };
        if let Some(url) = &change.url {
            check_target(&self.ports, url).await?;
        }
        self.ports
            .webhooks
            .update(id, &change)
            .await
            .map_err(|error| store(error, "changing the webhook"))?
            .ok_or(WebhookError::NotFound)
    }
}

impl DeleteWebhook {
    /// Deletes subscription `id`.
    pub async fn execute(&self, actor: &Actor, id: WebhookId) -> Result<(), WebhookError> {
        actor.ensure_admin()?;
        let deleted = self
            .ports
            .webhooks
            .delete(id)
            .await
            .map_err(|error| store(error, "deleting the webhook"))?;
        if deleted {
            tracing::info!(webhook_id = %id, "webhook deleted");
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }
}

impl RotateWebhookSecret {
    /// Rotates the secret of subscription `id`; returns it with the new secret.
    pub async fn execute(&self, actor: &Actor, id: WebhookId) -> Result<Webhook, WebhookError> {
        actor.ensure_admin()?;
        let ports = &self.ports;
        let now = ports.clock.now();
        let rotated = ports
            .webhooks
            .rotate_secret(
                id,
                &ports.secrets.webhook_secret(),
                now + ports.settings.secret_grace,
                now,
            )
            .await
            .map_err(|error| store(error, "rotating the secret"))?
            .ok_or(WebhookError::NotFound)?;
        tracing::info!(webhook_id = %id, "webhook secret rotated");
        Ok(rotated)
    }
}

impl ListDeliveries {
    /// A page of subscription `id`'s deliveries.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: WebhookId,
        page: PageRequest,
    ) -> Result<Page<WebhookDelivery>, WebhookError> {
        actor.ensure_admin()?;
        load(&self.ports, id).await?;
        self.ports
            .webhooks
            .deliveries(id, page)
            .await
            .map_err(|error| store(error, "listing deliveries"))
    }
}

async fn load_delivery(
    ports: &WebhookPorts,
    id: WebhookDeliveryId,
) -> Result<WebhookDelivery, WebhookError> {
    ports
        .webhooks
        .delivery(id)
        .await
        .map_err(|error| store(error, "loading the delivery"))?
        .ok_or(WebhookError::NotFound)
}

impl GetDelivery {
    /// Delivery `id`.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: WebhookDeliveryId,
    ) -> Result<WebhookDelivery, WebhookError> {
        actor.ensure_admin()?;
        load_delivery(&self.ports, id).await
    }
}

/// Sends a delivery again now, with the same `webhook-id` (receivers that got it
/// drop the repeat): a succeeded or failed one becomes pending with its attempts
/// reset and one attempt is made at once; a pending one is answered as it is.
pub struct Redeliver {
    ports: WebhookPorts,
    deliver: DeliverWebhooks,
}

impl Redeliver {
    /// The use case over its ports.
    pub fn new(ports: WebhookPorts, deliver: DeliverWebhooks) -> Self {
        Self { ports, deliver }
    }

    /// Redelivers `id`; returns it after the attempt.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: WebhookDeliveryId,
    ) -> Result<WebhookDelivery, WebhookError> {
        actor.ensure_admin()?;
        let current = load_delivery(&self.ports, id).await?;
        if current.status == DeliveryStatus::Pending {
            return Ok(current);
        }
        let now = self.ports.clock.now();
        let reopened = self
            .ports
            .webhooks
            .redeliver(id, now)
            .await
            .map_err(|error| store(error, "reopening the delivery"))?;
        if reopened.is_some() {
            tracing::info!(delivery_id = %id, "webhook delivery redelivered by an admin");
            self.deliver.attempt(id).await?;
        }
        load_delivery(&self.ports, id).await
    }
}
