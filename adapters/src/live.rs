//! Live push across replicas on Redis: [`RedisLivePush`] publishes each
//! [`LiveEvent`] on a pub/sub channel that every replica's listener
//! ([`RedisLivePush::listen`]) hands to its own [`LiveHub`] — the consumer group
//! gives an event to one replica, but the user's socket may be on another.
//! [`RedisStreamTickets`] keeps one-time tickets (`SET … EX`, redeemed with
//! `GETDEL`), so a ticket issued by one replica opens a stream on any.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use emporium_domain::UserId;
use emporium_domain::notifications::{
    LiveError, LiveEvent, LivePush, NotificationId, StreamTickets,
};
use futures::StreamExt;
use redis::aio::ConnectionManager;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::cache::redis_cache::{connect_redis, run_classified};
use crate::in_process::{LiveHub, new_ticket};
use crate::store_error::StoreError;

/// The most one operation may take before Redis counts as unavailable.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a listener waits before subscribing again after losing Redis.
const RESUBSCRIBE_DELAY: Duration = Duration::from_secs(1);

fn live_error(error: StoreError) -> LiveError {
    match error {
        StoreError::Unavailable(unavailable) => LiveError::Unavailable(unavailable),
        StoreError::Unexpected(error) => LiveError::Unexpected(error),
    }
}

/// Live push over Redis pub/sub (see the [module docs](self)).
#[derive(Clone)]
pub struct RedisLivePush {
    connection: ConnectionManager,
    url: String,
    address: String,
    channel: String,
}

impl RedisLivePush {
    /// Connects to `url`; events travel on the channel `<prefix>live`.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let (connection, address) =
            connect_redis(url, Duration::from_secs(1), OPERATION_TIMEOUT).await?;
        Ok(Self {
            connection,
            url: url.to_owned(),
            address,
            channel: format!("{prefix}live"),
        })
    }

    /// Hands every event published by any replica to `hub` until the task is
    /// aborted; resubscribes after losing Redis (events published meanwhile are
    /// missed by this replica's streams: live push is best effort).
    pub fn listen(&self, hub: LiveHub) -> JoinHandle<()> {
        let (url, channel) = (self.url.clone(), self.channel.clone());
        tokio::spawn(async move {
            loop {
                if let Err(error) = forward(&url, &channel, &hub).await {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "live push lost its Redis subscription; subscribing again"
                    );
                }
                tokio::time::sleep(RESUBSCRIBE_DELAY).await;
            }
        })
    }
}

/// Forwards the messages of `channel` to `hub` until the subscription ends.
async fn forward(url: &str, channel: &str, hub: &LiveHub) -> anyhow::Result<()> {
    let client = redis::Client::open(url).context("the Redis URL")?;
    let mut pubsub = client
        .get_async_pubsub()
        .await
        .context("connecting for pub/sub")?;
    pubsub.subscribe(channel).await.context("subscribing")?;
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let payload: String = match message.get_payload() {
            Ok(payload) => payload,
            Err(_) => continue,
        };
        match parse(&payload) {
            Some(event) => hub.deliver(event),
            None => tracing::warn!(payload, "an unreadable live push message was ignored"),
        }
    }
    anyhow::bail!("the subscription ended")
}

fn parse(payload: &str) -> Option<LiveEvent> {
    let (user, notification) = payload.split_once(':')?;
    Some(LiveEvent {
        user_id: UserId(Uuid::parse_str(user).ok()?),
        notification_id: NotificationId(Uuid::parse_str(notification).ok()?),
    })
}

#[async_trait]
impl LivePush for RedisLivePush {
    async fn publish(&self, event: LiveEvent) -> Result<(), LiveError> {
        let mut connection = self.connection.clone();
        let payload = format!("{}:{}", event.user_id.0, event.notification_id.0);
        let channel = self.channel.clone();
        run_classified(
            &self.address,
            OPERATION_TIMEOUT,
            "publishing a live event".to_owned(),
            async move {
                redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(payload)
                    .query_async::<i64>(&mut connection)
                    .await
            },
        )
        .await
        .map(drop)
        .map_err(live_error)
    }
}

/// One-time stream tickets in Redis (see the [module docs](self)).
#[derive(Clone)]
pub struct RedisStreamTickets {
    connection: ConnectionManager,
    address: String,
    prefix: String,
}

impl RedisStreamTickets {
    /// Connects to `url`; tickets are kept under `<prefix>stream-ticket:`.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let (connection, address) =
            connect_redis(url, Duration::from_secs(1), OPERATION_TIMEOUT).await?;
        Ok(Self {
            connection,
            address,
            prefix: format!("{prefix}stream-ticket:"),
        })
    }
}

#[async_trait]
impl StreamTickets for RedisStreamTickets {
    async fn issue(&self, access_token: &str, ttl_seconds: u64) -> Result<String, LiveError> {
        let ticket = new_ticket();
        let mut connection = self.connection.clone();
        let key = format!("{}{ticket}", self.prefix);
        let token = access_token.to_owned();
        run_classified(
            &self.address,
            OPERATION_TIMEOUT,
            "storing a stream ticket".to_owned(),
            async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(token)
                    .arg("EX")
                    .arg(ttl_seconds.max(1))
                    .query_async::<()>(&mut connection)
                    .await
            },
        )
        .await
        .map_err(live_error)?;
        Ok(ticket)
    }

    async fn redeem(&self, ticket: &str) -> Result<Option<String>, LiveError> {
        let mut connection = self.connection.clone();
        let key = format!("{}{ticket}", self.prefix);
        run_classified(
            &self.address,
            OPERATION_TIMEOUT,
            "redeeming a stream ticket".to_owned(),
            async move {
                redis::cmd("GETDEL")
                    .arg(key)
                    .query_async::<Option<String>>(&mut connection)
                    .await
            },
        )
        .await
        .map_err(live_error)
    }
}
