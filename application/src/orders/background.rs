//! The background work of the purchase flow, one step per call: the process that
//! runs them decides how often (and stops calling them on shutdown).

use emporium_domain::inventory::{ReservationAction, ReservationError};
use emporium_domain::orders::{CancelReason, ChangedBy};

use super::OrderPorts;
use super::cancel_order::{CancelOrderError, cancel};

/// Publishes committed events from the outbox to the bus, in outbox order, and marks
/// them sent. A publish that fails stops the batch (the rest wait for the next
/// call); an event published but not yet marked (a crash between the two) is
/// published again: consumers are idempotent.
pub struct RelayOutbox {
    ports: OrderPorts,
}

impl RelayOutbox {
    /// The use case over its ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// Publishes up to `batch` events; how many went.
    pub async fn run_once(&self, batch: u32) -> anyhow::Result<usize> {
        let messages = self.ports.outbox.unsent(batch).await?;
        let mut sent = Vec::with_capacity(messages.len());
        let mut failure = None;
        for message in &messages {
            match self.ports.bus.publish(&message.event).await {
                Ok(()) => sent.push(message.position),
                Err(error) => {
                    failure = Some(anyhow::Error::new(error).context(format!(
                        "publishing event {} ({})",
                        message.event.id, message.event.event_type
                    )));
                    break;
                }
            }
        }
        self.ports
            .outbox
            .mark_sent(&sent, self.ports.clock.now())
            .await?;
        match failure {
            Some(error) => Err(error),
            None => Ok(sent.len()),
        }
    }
}

/// Cancels pending orders whose `payBy` passed, with reason `payment_timeout`; their
/// stock is released by the stock consumer. Safe on several replicas at once: each
/// cancellation is a conditional update with one winner.
pub struct ExpireOrders {
    ports: OrderPorts,
}

impl ExpireOrders {
    /// The use case over its ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// Expires up to `limit` overdue orders; how many this call cancelled.
    pub async fn run_once(&self, limit: u32) -> anyhow::Result<usize> {
        let now = self.ports.clock.now();
        let overdue = self.ports.orders.overdue(now, limit).await?;
        let mut expired = 0;
        for id in overdue {
            let Some(order) = self.ports.orders.get(id).await? else {
                continue;
            };
            match cancel(
                &self.ports,
                &order,
                CancelReason::payment_timeout(),
                ChangedBy::System,
            )
            .await
            {
                Ok(_) => expired += 1,
                // Paid or cancelled meanwhile: nothing to expire.
                Err(CancelOrderError::InvalidTransition { .. } | CancelOrderError::NotFound(_)) => {
                }
                Err(error) => return Err(anyhow::Error::new(error).context("expiring an order")),
            }
        }
        if expired > 0 {
            tracing::info!(expired, "unpaid orders expired");
        }
        Ok(expired)
    }
}

/// Finishes order attempts a crash (or an uncertain failure) left behind: an attempt
/// older than the attempt timeout never got its order (placing removes it in the
/// order's transaction), so its stock is released.
pub struct RecoverOrderAttempts {
    ports: OrderPorts,
}

impl RecoverOrderAttempts {
    /// The use case over its ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// Recovers up to `limit` attempts; how many were released.
    pub async fn run_once(&self, limit: u32) -> anyhow::Result<usize> {
        let now = self.ports.clock.now();
        let before = now - self.ports.settings.attempt_timeout;
        let attempts = self.ports.orders.stale_attempts(before, limit).await?;
        let mut released = 0;
        for attempt in attempts {
            // Whoever removes the attempt owns releasing it.
            if !self.ports.orders.abandon_attempt(attempt.order_id).await? {
                continue;
            }
            match self
                .ports
                .reservations
                .apply(attempt.order_id, ReservationAction::Release, None, now)
                .await
            {
                Ok(_) | Err(ReservationError::NotFound(_)) => released += 1,
                Err(error) => {
                    return Err(anyhow::Error::new(error).context(format!(
                        "releasing the stock of abandoned order attempt {}",
                        attempt.order_id
                    )));
                }
            }
            tracing::warn!(order_id = %attempt.order_id, "released the stock of an order attempt that never completed");
        }
        Ok(released)
    }
}

/// Forgets sent outbox rows and processed-event records older than the event
/// retention, and completed idempotency keys older than their retention.
pub struct PruneRecords {
    ports: OrderPorts,
}

impl PruneRecords {
    /// The use case over its ports.
    pub fn new(ports: OrderPorts) -> Self {
        Self { ports }
    }

    /// Prunes once; how many rows went.
    pub async fn run_once(&self) -> anyhow::Result<u64> {
        let now = self.ports.clock.now();
        let settings = self.ports.settings;
        let events = self
            .ports
            .outbox
            .prune(now - settings.event_retention)
            .await?;
        let keys = self
            .ports
            .idempotency
            .prune(now - settings.idempotency_retention)
            .await?;
        Ok(events + keys)
    }
}
