//! One outbox relay at a time among the replicas of a service on PostgreSQL.
//!
//! Each replica keeps a session of its own (not from the pool: a session-level
//! advisory lock belongs to its connection) and tries `pg_try_advisory_lock` on a key
//! of the outbox's schema. The replica that holds it relays; the others try again
//! every second or so. The lock ends with its session: when the relaying process
//! dies (or its connection breaks), PostgreSQL releases it and another replica takes
//! over at its next try. The same session `LISTEN`s on `emporium_outbox`, which a
//! committed outbox insert notifies (migration `m20261201_000002_outbox_notify`), so
//! the relay publishes at once instead of at its next poll.

use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::postgres::PgListener;

/// The first half of the advisory lock key (the second is the schema's hash), so
/// Emporium's lock never collides with another application's single-key locks.
const LOCK_CLASS: i32 = 0x656d_706f; // "empo"
/// The channel outbox inserts notify.
const CHANNEL: &str = "emporium_outbox";

/// A replica's claim to the outbox relay (see the [module docs](self)).
pub struct OutboxRelayElection {
    url: String,
    session: Option<Session>,
}

/// The election's own PostgreSQL session.
struct Session {
    listener: PgListener,
    /// The backend process that took the lock, while this replica holds it.
    leader_pid: Option<i32>,
}

impl OutboxRelayElection {
    /// The election on the database at `url`, or `None` when it is not PostgreSQL
    /// (the embedded SQLite database has one process, which always relays). Opens
    /// its session at once, so a wrong URL fails here.
    pub async fn open(url: &str) -> anyhow::Result<Option<Self>> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Ok(None);
        }
        let mut election = Self {
            url: url.to_owned(),
            session: None,
        };
        election.session().await?;
        Ok(Some(election))
    }

    async fn session(&mut self) -> anyhow::Result<&mut Session> {
        if self.session.is_none() {
            let mut listener = PgListener::connect(&self.url)
                .await
                .context("opening the relay election's PostgreSQL session")?;
            listener
                .listen(CHANNEL)
                .await
                .context("listening for outbox inserts")?;
            self.session = Some(Session {
                listener,
                leader_pid: None,
            });
        }
        Ok(self.session.as_mut().expect("the session was just opened"))
    }

    /// Whether this replica relays now: it keeps the lock it holds, or tries to take
    /// it. A failing session counts as not leading (and is opened again next time).
    pub async fn lead(&mut self) -> bool {
        match self.try_lead().await {
            Ok(leading) => leading,
            Err(error) => {
                if self.is_leading() {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "the outbox relay lost its PostgreSQL session; another replica may relay now"
                    );
                } else {
                    tracing::debug!(error = format!("{error:#}"), "relay election failed");
                }
                self.session = None;
                false
            }
        }
    }

    async fn try_lead(&mut self) -> anyhow::Result<bool> {
        let session = self.session().await?;
        // The listener reconnects by itself after a broken connection, and the lock
        // went with the old session: compare the backend process.
        let pid: i32 = sea_orm::sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut session.listener)
            .await
            .context("checking the election session")?;
        if session.leader_pid == Some(pid) {
            return Ok(true);
        }
        let was_leading = session.leader_pid.take().is_some();
        let taken: bool = sea_orm::sqlx::query_scalar(
            "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))",
        )
        .bind(LOCK_CLASS)
        .fetch_one(&mut session.listener)
        .await
        .context("trying the relay lock")?;
        if taken {
            session.leader_pid = Some(pid);
            tracing::info!("this replica relays the outbox now");
        } else if was_leading {
            tracing::warn!("the outbox relay's session was replaced; another replica relays now");
        }
        Ok(taken)
    }

    /// Whether this replica held the lock at its last [`lead`](Self::lead).
    pub fn is_leading(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|session| session.leader_pid.is_some())
    }

    /// Waits until an outbox insert is notified or `timeout` passes (a poll stays the
    /// fallback for a notification lost with a broken connection).
    pub async fn wait_for_events(&mut self, timeout: Duration) {
        let Some(session) = self.session.as_mut() else {
            tokio::time::sleep(timeout).await;
            return;
        };
        match tokio::time::timeout(timeout, session.listener.try_recv()).await {
            Err(_) => {}
            Ok(Ok(_)) => {
                // Several commits may have notified: one look covers them all.
                while session.listener.next_buffered().is_some() {}
            }
            Ok(Err(error)) => {
                tracing::debug!(error = %error, "waiting for outbox notifications failed");
                self.session = None;
            }
        }
    }
}

impl std::fmt::Debug for OutboxRelayElection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelayElection")
            .field("leading", &self.is_leading())
            .finish_non_exhaustive()
    }
}
