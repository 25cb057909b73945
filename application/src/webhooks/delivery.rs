//! Delivering webhooks: each due delivery is claimed (one worker per delivery),
//! signed with the subscription's current secrets and posted; the answer decides
//! what follows (see [`decide`]).

use chrono::{DateTime, TimeDelta, Utc};
use emporium_domain::accounts::Email;
use emporium_domain::notifications::{
    LiveEvent, MessageKey, Notification, NotificationId, OutgoingMail, RenderedMail,
};
use emporium_domain::orders::OrderId;
use emporium_domain::webhooks::{
    AttemptOutcome, AttemptRecord, DeliveryStatus, SendOutcome, Webhook, WebhookDelivery,
    WebhookDeliveryId, WebhookRequest,
};

use super::{WebhookPorts, WebhookSettings};

/// The address an admin notice names as its recipient (it is never mailed: admins
/// read it in the notifications list and their live streams).
fn admins_address() -> Email {
    Email::parse("admins@emporium.invalid").expect("a valid address")
}

/// The longest wait a `Retry-After` may impose.
const MAX_RETRY_AFTER: TimeDelta = TimeDelta::hours(24);

/// Delivers webhooks (see the [module docs](self)).
#[derive(Clone)]
pub struct DeliverWebhooks {
    ports: WebhookPorts,
}

/// `delay` spread by up to ±10 %, the same way for the same delivery and attempt
/// (so receivers that failed together do not all get the retry at once).
fn jittered(delay: TimeDelta, delivery: WebhookDeliveryId, attempt: u32) -> TimeDelta {
    let seed =
        (delivery.0.as_u128() as u64) ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let spread = i64::try_from(seed % 2_001).unwrap_or(1_000) - 1_000;
    delay + delay * i32::try_from(spread).unwrap_or(0) / 10_000
}

/// What attempt `delivery.attempts` decided, from the receiver's answer: 2xx
/// delivered; 410 Gone failed and the subscription disabled; anything else retried
/// after the schedule's delay (or the receiver's `Retry-After`, if longer) while
/// attempts remain, else failed.
pub(crate) fn decide(
    settings: &WebhookSettings,
    delivery: &WebhookDelivery,
    sent: &SendOutcome,
    at: DateTime<Utc>,
) -> AttemptOutcome {
    match sent.status_code {
        Some(200..=299) => return AttemptOutcome::Succeeded,
        Some(410) => {
            return AttemptOutcome::Failed {
                disable: Some("the receiver answered 410 Gone".to_owned()),
            };
        }
        _ => {}
    }
    let attempt = delivery.attempts;
    let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
    match settings.retry_delays.get(index) {
        Some(&delay) => {
            let scheduled = jittered(delay, delivery.id, attempt);
            let asked = sent
                .retry_after
                .map(|seconds| {
                    i64::try_from(seconds)
                        .ok()
                        .and_then(TimeDelta::try_seconds)
                        .map_or(MAX_RETRY_AFTER, |asked| asked.min(MAX_RETRY_AFTER))
                })
                .unwrap_or(TimeDelta::zero());
            AttemptOutcome::Retry {
                at: at + scheduled.max(asked),
            }
        }
        None => AttemptOutcome::Failed { disable: None },
    }
}

impl DeliverWebhooks {
    /// The use case over its ports.
    pub fn new(ports: WebhookPorts) -> Self {
        Self { ports }
    }

    /// One attempt at delivery `id` if it is due and no other worker holds it;
    /// returns its status afterwards, or `None` when no attempt was made.
    /// Errors: the store failed (a receiver that fails is recorded, not an error).
    pub async fn attempt(&self, id: WebhookDeliveryId) -> anyhow::Result<Option<DeliveryStatus>> {
        let ports = &self.ports;
        let now = ports.clock.now();
        let Some((delivery, webhook)) = ports
            .webhooks
            .claim_delivery(id, now, now + ports.settings.attempt_lease)
            .await
            .map_err(|error| anyhow::Error::new(error).context("claiming the delivery"))?
        else {
            return Ok(None);
        };
        let request = WebhookRequest {
            url: webhook.url.clone(),
            message_id: delivery.message_id.clone(),
            timestamp: now,
            body: delivery.payload.clone(),
            secrets: webhook.signing_secrets(now),
        };
        let sent = ports.sender.send(&request).await;
        let at = ports.clock.now();
        let outcome = decide(&ports.settings, &delivery, &sent, at);
        let record = AttemptRecord {
            attempt: delivery.attempts,
            at,
            status_code: sent.status_code,
            duration_ms: sent.duration_ms,
            error: sent.error.clone(),
        };
        let disabled = ports
            .webhooks
            .finish_delivery(
                id,
                delivery.attempts,
                &record,
                &outcome,
                ports.settings.max_consecutive_failures,
            )
            .await
            .map_err(|error| anyhow::Error::new(error).context("recording the attempt"))?;
        let status = match &outcome {
            AttemptOutcome::Succeeded => DeliveryStatus::Succeeded,
            AttemptOutcome::Retry { at } => {
                tracing::warn!(
                    delivery_id = %id,
                    webhook_id = %webhook.id,
                    attempt = delivery.attempts,
                    status_code = sent.status_code,
                    error = sent.error,
                    retry_at = %at,
                    "webhook delivery failed; it will be retried"
                );
                DeliveryStatus::Pending
            }
            AttemptOutcome::Failed { .. } => {
                tracing::warn!(
                    delivery_id = %id,
                    webhook_id = %webhook.id,
                    attempt = delivery.attempts,
                    status_code = sent.status_code,
                    error = sent.error,
                    "webhook delivery failed for good; an admin may redeliver it"
                );
                DeliveryStatus::Failed
            }
        };
        if let Some(reason) = disabled {
            tracing::error!(
                webhook_id = %webhook.id,
                url = webhook.url.as_str(),
                reason,
                "webhook subscription disabled; an admin may enable it again"
            );
            self.tell_admins(&webhook, &delivery, &reason).await;
        }
        Ok(Some(status))
    }

    /// Records (and pushes) the admin notice that `webhook` was disabled. Best
    /// effort: the subscription says why it is disabled either way.
    async fn tell_admins(&self, webhook: &Webhook, delivery: &WebhookDelivery, reason: &str) {
        let Some((notifications, live)) = &self.ports.notices else {
            return;
        };
        let ports = &self.ports;
        let order_id = serde_json::from_str::<serde_json::Value>(&delivery.payload)
            .ok()
            .and_then(|body| body["data"]["orderId"].as_str().map(str::to_owned))
            .and_then(|id| uuid::Uuid::parse_str(&id).ok())
            .map_or(OrderId(uuid::Uuid::nil()), OrderId);
        let subject = format!("Webhook {} was disabled", webhook.url.as_str());
        let text = format!(
            "The webhook subscription {} ({}) was disabled: {reason}. Its deliveries are \
             kept; enable it again with PATCH /v1/webhooks/{} once the receiver works.",
            webhook.id,
            webhook.url.as_str(),
            webhook.id
        );
        let notice = Notification::for_admins(
            NotificationId(ports.ids.new_id()),
            order_id,
            delivery.event_id,
            delivery.event_type,
            OutgoingMail {
                key: MessageKey::for_webhook_disabled(webhook.id.0, delivery.event_id),
                to: admins_address(),
                content: RenderedMail {
                    subject,
                    html: String::new(),
                    text,
                },
            },
            ports.clock.now(),
        );
        match notifications.record(&notice).await {
            Ok(stored) => {
                let event = LiveEvent {
                    notification_id: stored.id,
                    user_id: stored.user_id,
                };
                if let Err(error) = live.publish(event).await {
                    tracing::warn!(error = %error, "the admin notice was not pushed");
                }
            }
            Err(error) => tracing::warn!(
                webhook_id = %webhook.id,
                error = %error,
                "the admin notice of a disabled webhook was not recorded"
            ),
        }
    }

    /// Attempts up to `limit` due deliveries, side by side (a slow receiver does not
    /// hold up the others); returns how many were attempted. Errors: the store
    /// failed.
    pub async fn run_due(&self, limit: u32) -> anyhow::Result<usize> {
        let now = self.ports.clock.now();
        let due = self
            .ports
            .webhooks
            .due_deliveries(now, limit)
            .await
            .map_err(|error| anyhow::Error::new(error).context("listing due deliveries"))?;
        let attempts = futures::future::join_all(due.into_iter().map(|id| self.attempt(id))).await;
        let mut attempted = 0;
        for attempt in attempts {
            if attempt?.is_some() {
                attempted += 1;
            }
        }
        Ok(attempted)
    }
}

/// Forgets finished deliveries older than the retention period.
pub struct PruneDeliveries {
    ports: WebhookPorts,
}

impl PruneDeliveries {
    /// The use case over its ports.
    pub fn new(ports: WebhookPorts) -> Self {
        Self { ports }
    }

    /// Prunes; returns how many deliveries went.
    pub async fn execute(&self) -> anyhow::Result<u64> {
        let before = self.ports.clock.now() - self.ports.settings.retention;
        self.ports
            .webhooks
            .prune_deliveries(before)
            .await
            .map_err(|error| anyhow::Error::new(error).context("pruning webhook deliveries"))
    }
}

#[cfg(test)]
mod tests {
    use emporium_domain::orders::{EventId, EventType};
    use emporium_domain::webhooks::WebhookId;
    use uuid::Uuid;

    use super::*;
    use crate::catalog::test_support::now;

    fn delivery(attempts: u32) -> WebhookDelivery {
        let mut delivery = WebhookDelivery::new(
            WebhookDeliveryId(Uuid::from_u128(9)),
            WebhookId(Uuid::from_u128(1)),
            EventId(Uuid::from_u128(42)),
            EventType::OrderCreated,
            "{}".to_owned(),
            now(),
        );
        delivery.attempts = attempts;
        delivery
    }

    fn answered(status: Option<u16>, retry_after: Option<u64>) -> SendOutcome {
        SendOutcome {
            status_code: status,
            duration_ms: 3,
            error: status.is_none().then(|| "connection refused".to_owned()),
            retry_after,
        }
    }

    #[test]
    fn a_2xx_delivers_and_a_410_gives_up_and_disables() {
        let settings = WebhookSettings::default();
        for status in [200, 202, 204, 299] {
            assert_eq!(
                decide(
                    &settings,
                    &delivery(1),
                    &answered(Some(status), None),
                    now()
                ),
                AttemptOutcome::Succeeded
            );
        }
        assert!(matches!(
            decide(&settings, &delivery(1), &answered(Some(410), None), now()),
            AttemptOutcome::Failed { disable: Some(_) }
        ));
    }

    #[test]
    fn failures_follow_the_schedule_with_jitter_then_give_up() {
        let settings = WebhookSettings::default();
        // Attempt 1 failed: the next comes 5 s later, ±10 %.
        let AttemptOutcome::Retry { at } =
            decide(&settings, &delivery(1), &answered(Some(500), None), now())
        else {
            panic!("a retry");
        };
        let wait = at - now();
        assert!(
            wait >= TimeDelta::milliseconds(4_500) && wait <= TimeDelta::milliseconds(5_500),
            "{wait}"
        );
        // Attempt 3 failed: 30 minutes.
        let AttemptOutcome::Retry { at } =
            decide(&settings, &delivery(3), &answered(None, None), now())
        else {
            panic!("a retry");
        };
        assert!(at - now() >= TimeDelta::minutes(27) && at - now() <= TimeDelta::minutes(33));
        // The eighth attempt was the last.
        assert_eq!(
            decide(&settings, &delivery(8), &answered(Some(503), None), now()),
            AttemptOutcome::Failed { disable: None }
        );
    }

    #[test]
    fn a_longer_retry_after_is_honoured_up_to_a_day() {
        let settings = WebhookSettings::default();
        let AttemptOutcome::Retry { at } = decide(
            &settings,
            &delivery(1),
            &answered(Some(429), Some(120)),
            now(),
        ) else {
            panic!("a retry");
        };
        assert_eq!(at - now(), TimeDelta::seconds(120));
        for huge in [10_000_000, u64::MAX] {
            let AttemptOutcome::Retry { at } = decide(
                &settings,
                &delivery(1),
                &answered(Some(503), Some(huge)),
                now(),
            ) else {
                panic!("a retry");
            };
            assert_eq!(at - now(), TimeDelta::hours(24), "{huge}");
        }
    }
}
