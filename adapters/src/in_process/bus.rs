//! The event bus of the all-in-one server: publishing hands the event to every
//! consumer group's handler in this process and succeeds once all of them applied it.
//!
//! Fed by the outbox relay, that makes delivery at least once across crashes: an
//! outbox row is marked sent only after every group handled its event, so a crash
//! before that publishes it again after the restart (handlers are idempotent by
//! event id). A group whose handler fails fails the publish; the relay retries the
//! event later, and groups that had already applied it recognise it.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use emporium_domain::orders::{DomainEvent, EventBus, EventDeliveryError, EventHandler};

/// Delivers events to handlers in this process (see the [module docs](self)).
#[derive(Default)]
pub struct InProcessEventBus {
    groups: RwLock<Vec<(String, Arc<dyn EventHandler>)>>,
}

impl InProcessEventBus {
    /// A bus with no consumer groups yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn handlers(&self) -> Vec<(String, Arc<dyn EventHandler>)> {
        match self.groups.read() {
            Ok(groups) => groups.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl std::fmt::Debug for InProcessEventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.handlers().into_iter().map(|(name, _)| name).collect();
        f.debug_struct("InProcessEventBus")
            .field("groups", &names)
            .finish()
    }
}

#[async_trait]
impl EventBus for InProcessEventBus {
    async fn publish(&self, event: &DomainEvent) -> Result<(), EventDeliveryError> {
        for (group, handler) in self.handlers() {
            handler.handle(event).await.map_err(|error| {
                EventDeliveryError::Unexpected(error.context(format!(
                    "consumer group {group} could not apply event {} ({})",
                    event.id, event.event_type
                )))
            })?;
        }
        Ok(())
    }

    fn subscribe(&self, group: &str, handler: Arc<dyn EventHandler>) {
        let mut groups = match self.groups.write() {
            Ok(groups) => groups,
            Err(poisoned) => poisoned.into_inner(),
        };
        groups.retain(|(name, _)| name != group);
        groups.push((group.to_owned(), handler));
    }
}
