//! The subscription and its values.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::ValueError;
use crate::orders::EventType;

/// Identifies a webhook subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookId(pub Uuid);

impl std::fmt::Display for WebhookId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where deliveries go: an absolute `http` or `https` URL with a host, no user
/// info, at most 2,048 characters. (Whether its address is public is checked by the
/// sender, after DNS resolution.)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// The longest URL accepted.
    pub const MAX_LENGTH: usize = 2_048;

    /// Checks `text`.
    pub fn new(text: &str) -> Result<Self, ValueError> {
        let text = text.trim();
        let invalid = |why: &str| Err(ValueError(format!("url {why}")));
        if text.is_empty() || text.len() > Self::MAX_LENGTH {
            return invalid("must be 1 to 2048 characters");
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("must not contain spaces or control characters");
        }
        let lower = text.to_ascii_lowercase();
        let rest = if let Some(rest) = lower.strip_prefix("https://") {
            rest
        } else if let Some(rest) = lower.strip_prefix("http://") {
            rest
        } else {
            return invalid("must start with https:// or http://");
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return invalid("must not carry credentials");
        }
        let host = match authority.strip_prefix('[') {
            Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
            None => authority
                .rsplit_once(':')
                .map_or(authority, |(host, _)| host),
        };
        if host.is_empty() {
            return invalid("must name a host");
        }
        Ok(Self(text.to_owned()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The event types a subscription receives: at least one, no repeats, in the order
/// given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvents(Vec<EventType>);

impl WebhookEvents {
    /// Checks `events`.
    pub fn new(events: Vec<EventType>) -> Result<Self, ValueError> {
        if events.is_empty() {
            return Err(ValueError(
                "events must name at least one event type".into(),
            ));
        }
        let mut unique = Vec::with_capacity(events.len());
        for event in events {
            if !unique.contains(&event) {
                unique.push(event);
            }
        }
        Ok(Self(unique))
    }

    /// The types.
    pub fn types(&self) -> &[EventType] {
        &self.0
    }

    /// Whether `event` is among them.
    pub fn includes(&self, event: EventType) -> bool {
        self.0.contains(&event)
    }
}

/// What the subscription is for, for people: at most 500 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookDescription(String);

impl WebhookDescription {
    /// Checks `text` (trimmed).
    pub fn new(text: &str) -> Result<Self, ValueError> {
        let text = text.trim();
        if text.chars().count() > 500 {
            return Err(ValueError(
                "description must be at most 500 characters".into(),
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ValueError(
                "description must not contain control characters".into(),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A signing secret: `whsec_` and the base64 of 24 to 64 random bytes (the Standard
/// Webhooks form).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Checks `text`.
    pub fn new(text: &str) -> Result<Self, ValueError> {
        let Some(key) = text.strip_prefix("whsec_") else {
            return Err(ValueError("a webhook secret starts with whsec_".into()));
        };
        let valid = (32..=88).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
        if !valid {
            return Err(ValueError(
                "a webhook secret is whsec_ and the base64 of 24 to 64 bytes".into(),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The secret, to sign with or to show its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// A subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Identity.
    pub id: WebhookId,
    /// Where deliveries go.
    pub url: WebhookUrl,
    /// What it receives.
    pub events: WebhookEvents,
    /// What it is for.
    pub description: WebhookDescription,
    /// The current signing secret.
    pub secret: WebhookSecret,
    /// The secret before the last rotation, and until when it still signs.
    pub previous_secret: Option<(WebhookSecret, DateTime<Utc>)>,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// Why it was disabled, when the system disabled it.
    pub disabled_reason: Option<String>,
    /// Deliveries that failed in a row (reset by a success).
    pub consecutive_failures: u32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// The secrets that sign a delivery at `now`: the current one, and the previous
    /// one during its grace period.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<WebhookSecret> {
        let mut secrets = vec![self.secret.clone()];
        if let Some((previous, until)) = &self.previous_secret
            && *until > now
        {
            secrets.push(previous.clone());
        }
        secrets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_absolute_http_with_a_host_and_no_credentials() {
        for good in [
            "https://hooks.example.com/emporium",
            "http://127.0.0.1:8080/x?y=1",
            "https://[::1]:8443/",
        ] {
            assert!(WebhookUrl::new(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ftp://example.com",
            "https://",
            "https://user:pw@example.com/",
            "https://exa mple.com",
            "javascript:alert(1)",
            "https://[]/",
            &format!("https://example.com/{}", "a".repeat(2_048)),
        ] {
            assert!(WebhookUrl::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_are_at_least_one_and_never_repeated() {
        assert!(WebhookEvents::new(vec![]).is_err());
        let events = WebhookEvents::new(vec![
            EventType::OrderCreated,
            EventType::OrderCreated,
            EventType::ShipmentReady,
        ])
        .unwrap();
        assert_eq!(
            events.types(),
            [EventType::OrderCreated, EventType::ShipmentReady]
        );
    }

    #[test]
    fn secrets_have_the_standard_form_and_never_print() {
        let secret = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(format!("{secret:?}"), "WebhookSecret(<redacted>)");
        assert!(WebhookSecret::new("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::new("whsec_short").is_err());
    }
}
