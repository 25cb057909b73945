//! Account changes on Redis: the users service appends each role or active-flag
//! change to the stream `<prefix>accounts:changes`; every other service follows the
//! stream from a task of its own and answers [`AccountChanges::standing`] from
//! memory, so checking a token costs no round trip.
//!
//! A change matters only while an access token issued before it may still be alive,
//! so the stream and the memory keep the changes of the last access-token lifetime
//! (the `window`): a service starting reads that much of the stream, and older
//! entries are trimmed. A follower that has not heard from Redis for
//! [`RedisAccountChanges::STALE_AFTER`] answers `Unavailable` rather than vouch for
//! a token against what may be old news (requests with a token then answer 503).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use emporium_domain::accounts::{AccountChanges, AccountChangesError, AccountStanding};
use emporium_domain::{Role, Unavailable, UserId};
use redis::aio::ConnectionManager;
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use crate::cache::redis_cache::{connect_redis, run_classified};

/// What the follower knows.
struct Known {
    /// The latest standing of each account changed within the window, and when.
    accounts: HashMap<UserId, (AccountStanding, DateTime<Utc>)>,
    /// The last stream entry applied.
    last_id: String,
    /// When Redis last answered the follower.
    heard_at: Instant,
}

struct Shared {
    url: String,
    address: String,
    stream: String,
    window: TimeDelta,
    connection: ConnectionManager,
    known: RwLock<Known>,
}

/// [`AccountChanges`] on a Redis stream (see the [module docs](self)).
pub struct RedisAccountChanges {
    shared: Arc<Shared>,
    follower: JoinHandle<()>,
}

/// How long one operation may take.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one follower read blocks.
const BLOCK: Duration = Duration::from_secs(1);

impl RedisAccountChanges {
    /// How long a follower may go without hearing from Redis before it stops
    /// vouching for tokens.
    pub const STALE_AFTER: Duration = Duration::from_secs(10);

    /// Connects to `url`, reads the changes of the last `window` (the access-token
    /// lifetime) under `prefix`, and starts following the stream.
    pub async fn connect(url: &str, prefix: &str, window: Duration) -> anyhow::Result<Self> {
        let (connection, address) =
            connect_redis(url, Duration::from_secs(2), OPERATION_TIMEOUT).await?;
        let shared = Arc::new(Shared {
            url: url.to_owned(),
            address,
            stream: format!("{prefix}accounts:changes"),
            window: TimeDelta::from_std(window).unwrap_or(TimeDelta::days(3650)),
            connection,
            known: RwLock::new(Known {
                accounts: HashMap::new(),
                last_id: "0-0".to_owned(),
                heard_at: Instant::now(),
            }),
        });
        shared
            .catch_up()
            .await
            .context("reading the recent account changes")?;
        let follower = tokio::spawn(follow(shared.clone()));
        Ok(Self { shared, follower })
    }

    /// Whether the follower heard from Redis recently (readiness).
    pub fn ping(&self) -> anyhow::Result<()> {
        self.shared.fresh().map_err(|error| anyhow!(error))
    }
}

impl Drop for RedisAccountChanges {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

impl std::fmt::Debug for RedisAccountChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAccountChanges")
            .field("address", &self.shared.address)
            .field("stream", &self.shared.stream)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Known> {
        self.known
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Known> {
        self.known
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The oldest entry id still inside the window.
    fn window_start(&self) -> String {
        let start = Utc::now() - self.window;
        format!("{}-0", start.timestamp_millis().max(0))
    }

    /// Reads every entry of the window after the last one applied.
    async fn catch_up(&self) -> Result<(), AccountChangesError> {
        let start = {
            let known = self.read();
            if known.last_id == "0-0" {
                self.window_start()
            } else {
                format!("({}", known.last_id)
            }
        };
        let mut connection = self.connection.clone();
        let reply: StreamRangeReply = run_classified(
            &self.address,
            OPERATION_TIMEOUT,
            "reading account changes".to_owned(),
            redis::cmd("XRANGE")
                .arg(&self.stream)
                .arg(start)
                .arg("+")
                .query_async(&mut connection),
        )
        .await?;
        self.apply(&reply.ids);
        Ok(())
    }

    /// Takes in `entries` (in stream order) and forgets what left the window.
    fn apply(&self, entries: &[StreamId]) {
        let now = Utc::now();
        let mut known = self.write();
        for entry in entries {
            match decode(entry) {
                Some((user, standing, at)) => {
                    known.accounts.insert(user, (standing, at));
                }
                None => tracing::warn!(entry = %entry.id, "an account change could not be read"),
            }
            known.last_id.clone_from(&entry.id);
        }
        let window = self.window;
        known.accounts.retain(|_, (_, at)| now - *at < window);
        known.heard_at = Instant::now();
    }

    fn fresh(&self) -> Result<(), AccountChangesError> {
        let silent = self.read().heard_at.elapsed();
        if silent > RedisAccountChanges::STALE_AFTER {
            return Err(AccountChangesError::Unavailable(Unavailable::new(
                "Redis (account changes)",
                anyhow!(
                    "no word from Redis at {} for {silent:?}: account changes may be missed",
                    self.address
                ),
            )));
        }
        Ok(())
    }
}

/// An entry's account, standing and time.
fn decode(entry: &StreamId) -> Option<(UserId, AccountStanding, DateTime<Utc>)> {
    let user: String = entry.get("user")?;
    let role: String = entry.get("role")?;
    let active: String = entry.get("active")?;
    let at: i64 = entry.id.split('-').next()?.parse().ok()?;
    Some((
        UserId(Uuid::parse_str(&user).ok()?),
        AccountStanding {
            role: Role::parse(&role)?,
            active: active == "1",
        },
        DateTime::from_timestamp_millis(at)?,
    ))
}

/// Follows the stream: blocking reads on a connection of its own, reconnecting
/// after failures.
async fn follow(shared: Arc<Shared>) {
    let mut reader: Option<ConnectionManager> = None;
    let mut pause = Duration::from_millis(100);
    loop {
        let read = async {
            let connection = match &mut reader {
                Some(connection) => connection,
                None => {
                    let (connection, _) = connect_redis(
                        &shared.url,
                        Duration::from_secs(2),
                        BLOCK + OPERATION_TIMEOUT,
                    )
                    .await?;
                    // Whatever was missed while disconnected.
                    shared.catch_up().await.map_err(|error| anyhow!(error))?;
                    reader.insert(connection)
                }
            };
            let last_id = shared.read().last_id.clone();
            let reply: Option<StreamReadReply> = redis::cmd("XREAD")
                .arg("BLOCK")
                .arg(BLOCK.as_millis() as u64)
                .arg("STREAMS")
                .arg(&shared.stream)
                .arg(&last_id)
                .query_async(connection)
                .await
                .context("following account changes (XREAD)")?;
            let entries: Vec<StreamId> = reply
                .map(|reply| reply.keys.into_iter().flat_map(|key| key.ids).collect())
                .unwrap_or_default();
            anyhow::Ok(entries)
        };
        match read.await {
            Ok(entries) => {
                shared.apply(&entries);
                pause = Duration::from_millis(100);
            }
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "following account changes failed; retrying"
                );
                reader = None;
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
}

#[async_trait]
impl AccountChanges for RedisAccountChanges {
    async fn publish(
        &self,
        user: UserId,
        standing: AccountStanding,
    ) -> Result<(), AccountChangesError> {
        let shared = &self.shared;
        let mut connection = shared.connection.clone();
        let id: String = run_classified(
            &shared.address,
            OPERATION_TIMEOUT,
            format!("publishing the change of account {user}"),
            redis::cmd("XADD")
                .arg(&shared.stream)
                .arg("MINID")
                .arg("~")
                .arg(shared.window_start())
                .arg("*")
                .arg("user")
                .arg(user.0.to_string())
                .arg("role")
                .arg(standing.role.as_str())
                .arg("active")
                .arg(if standing.active { "1" } else { "0" })
                .query_async(&mut connection),
        )
        .await?;
        // Known here at once; the follower applies the same entry again later.
        let mut known = shared.write();
        let at = id
            .split('-')
            .next()
            .and_then(|ms| ms.parse().ok())
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_else(Utc::now);
        known.accounts.insert(user, (standing, at));
        Ok(())
    }

    async fn standing(&self, user: UserId) -> Result<Option<AccountStanding>, AccountChangesError> {
        self.shared.fresh()?;
        let known = self.shared.read();
        Ok(known
            .accounts
            .get(&user)
            .filter(|(_, at)| Utc::now() - *at < self.shared.window)
            .map(|(standing, _)| *standing))
    }
}
