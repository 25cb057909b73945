//! Live push within one process: [`LiveHub`] hands each [`LiveEvent`] to every
//! open stream (a broadcast channel: a stream that falls behind loses messages, and
//! is dropped by the edge, rather than slowing the others), and
//! [`InProcessStreamTickets`] keeps one-time tickets in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use emporium_domain::notifications::{LiveError, LiveEvent, LivePush, StreamTickets};
use tokio::sync::broadcast;
use uuid::Uuid;

/// The events each stream may fall behind by before it counts as slow.
pub const LIVE_BUFFER: usize = 256;

/// Every open stream of this process (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<LiveEvent>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    /// A hub with no streams.
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(LIVE_BUFFER).0,
        }
    }

    /// A new stream's receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    /// Hands `event` to every open stream (none: nothing happens).
    pub fn deliver(&self, event: LiveEvent) {
        let _ = self.sender.send(event);
    }
}

#[async_trait]
impl LivePush for LiveHub {
    async fn publish(&self, event: LiveEvent) -> Result<(), LiveError> {
        self.deliver(event);
        Ok(())
    }
}

/// A new random ticket: 244 random bits, URL-safe.
pub fn new_ticket() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// One-time tickets in memory (one process: the all-in-one server).
#[derive(Debug, Default)]
pub struct InProcessStreamTickets {
    tickets: Mutex<HashMap<String, (String, Instant)>>,
}

#[async_trait]
impl StreamTickets for InProcessStreamTickets {
    async fn issue(&self, access_token: &str, ttl_seconds: u64) -> Result<String, LiveError> {
        let ticket = new_ticket();
        let now = Instant::now();
        let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        tickets.retain(|_, (_, expires)| *expires > now);
        tickets.insert(
            ticket.clone(),
            (
                access_token.to_owned(),
                now + Duration::from_secs(ttl_seconds),
            ),
        );
        Ok(ticket)
    }

    async fn redeem(&self, ticket: &str) -> Result<Option<String>, LiveError> {
        let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        Ok(tickets
            .remove(ticket)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(token, _)| token))
    }
}
