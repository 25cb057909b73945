//! Tickets for the live stream: a signed-in user trades the access token of their
//! request for a one-time ticket (a WebSocket from a browser cannot carry a bearer
//! token); the stream redeems it once, on any replica, within its time to live, and
//! authenticates the token behind it as of then.

use chrono::{DateTime, TimeDelta, Utc};
use emporium_domain::{AccessDenied, Actor};

use super::NotificationPorts;
use crate::failure::{Failure, UseCaseError};

/// How long a ticket is valid.
pub const TICKET_TTL_SECONDS: u64 = 30;

/// A ticket and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTicket {
    /// The ticket (for `?ticket=`).
    pub ticket: String,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
}

/// Failures of the ticket use cases.
#[derive(Debug, thiserror::Error)]
pub enum StreamTicketError {
    /// Not a signed-in user.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The ticket store failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl UseCaseError for StreamTicketError {
    fn failure(&self) -> Failure {
        match self {
            Self::Denied(denied) => (*denied).into(),
            Self::Unexpected(cause) => Failure::internal(cause),
        }
    }
}

/// Issues a ticket for the signed-in user's access token.
pub struct IssueStreamTicket {
    ports: NotificationPorts,
}

impl IssueStreamTicket {
    /// The use case over its ports.
    pub fn new(ports: NotificationPorts) -> Self {
        Self { ports }
    }

    /// A ticket standing for `access_token` (the token `actor` signed in with).
    pub async fn execute(
        &self,
        actor: &Actor,
        access_token: &str,
    ) -> Result<StreamTicket, StreamTicketError> {
        actor.ensure_user()?;
        let ticket = self
            .ports
            .tickets
            .issue(access_token, TICKET_TTL_SECONDS)
            .await
            .map_err(|error| anyhow::Error::new(error).context("issuing a stream ticket"))?;
        let ttl = TimeDelta::seconds(i64::try_from(TICKET_TTL_SECONDS).unwrap_or(30));
        Ok(StreamTicket {
            ticket,
            expires_at: self.ports.clock.now() + ttl,
        })
    }
}

/// Redeems a ticket.
pub struct RedeemStreamTicket {
    ports: NotificationPorts,
}

impl RedeemStreamTicket {
    /// The use case over its ports.
    pub fn new(ports: NotificationPorts) -> Self {
        Self { ports }
    }

    /// The access token `ticket` stands for; `None` when it is unknown, used or
    /// expired. Errors: the ticket store failed.
    pub async fn execute(&self, ticket: &str) -> anyhow::Result<Option<String>> {
        // Tickets are URL-safe base64 of 32 bytes: anything else is no ticket, and
        // never reaches the store.
        let plausible = (20..=128).contains(&ticket.len())
            && ticket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !plausible {
            return Ok(None);
        }
        self.ports
            .tickets
            .redeem(ticket)
            .await
            .map_err(|error| anyhow::Error::new(error).context("redeeming a stream ticket"))
    }
}
