//! The event bus of the split deployment, on Redis Streams.
//!
//! **Publishing** is one `XADD` to the stream `<prefix>events` (fields `id`, `type`
//! and `event`, the JSON envelope); `Ok` means Redis holds the event. The outbox
//! relay publishes again whatever it could not mark sent, so an event may be in the
//! stream twice: consumers are idempotent by event id.
//!
//! **Consuming**: [`subscribe`](EventBus::subscribe) joins the consumer group of that
//! name and starts one consumer in this process. Every group sees every event; the
//! consumers of one group (one per replica) share its events. A consumer
//! - reads with `XREADGROUP … BLOCK` on a connection of its own (a blocking read
//!   would stall a shared one), whose response timeout is longer than the block;
//! - acknowledges (`XACK`) an event only after its handler returned `Ok`, that is
//!   after the handler's transaction committed;
//! - retries a failing event in place with a growing pause, so one consumer applies
//!   its events in stream order; a failure that says a dependency is down
//!   ([`Unavailable`] in the error chain) is retried until it comes back, any other
//!   failure is counted, and at [`RedisStreamsOptions::max_failures`] the event goes
//!   to the dead-letter stream `<prefix>events:dead` (logged; see [`DeadLetters`]);
//! - claims (`XAUTOCLAIM`) the events another consumer of its group read but did not
//!   acknowledge within [`RedisStreamsOptions::claim_idle`]: a replica killed in the
//!   middle of an event leaves it to the survivors.
//!
//! A group created for the first time starts [`RedisStreamsOptions::new_group_lookback`]
//! before its subscription, so events published while it was being created are not
//! missed (a new service does not replay the whole history either).
//!
//! **Trimming** keeps the stream bounded: every [`RedisStreamsOptions::trim_interval`]
//! the entries every group has acknowledged are removed (`XTRIM MINID`), and `XADD`
//! caps the stream at about [`RedisStreamsOptions::max_len`] entries, the most a group
//! may lag behind before it loses the oldest events (a warning is logged when a group
//! lags past half of it). Consumers that left (no pending events, idle for an hour)
//! are removed from their groups.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use emporium_domain::Unavailable;
use emporium_domain::orders::{DomainEvent, EventBus, EventDeliveryError, EventHandler};
use redis::aio::ConnectionManager;
use redis::streams::{
    StreamAutoClaimReply, StreamId, StreamInfoConsumersReply, StreamInfoGroup,
    StreamInfoGroupsReply, StreamPendingReply, StreamRangeReply, StreamReadReply,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cache::redis_cache::{connect_redis, eviction_policy, run_classified};
use crate::store_error::StoreError;

/// How a [`RedisStreamsEventBus`] names its keys, reads, retries and trims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisStreamsOptions {
    /// Prepended to every key: the stream is `<prefix>events`, the dead letters
    /// `<prefix>events:dead` (counted by group in `<prefix>events:dead:counts`), the
    /// failure counts `<prefix>events:failures:<group>`.
    pub prefix: String,
    /// This process's consumer name in every group it joins; unique per process.
    pub consumer: String,
    /// How long one `XREADGROUP` waits for new events.
    pub block: Duration,
    /// Events read (or claimed) at once.
    pub batch: usize,
    /// How long an event may stay unacknowledged by the consumer that read it before
    /// another consumer of its group claims it.
    pub claim_idle: Duration,
    /// Failures (other than an unavailable dependency) after which an event goes to
    /// the dead-letter stream.
    pub max_failures: u32,
    /// About how many entries the stream keeps at most (`XADD … MAXLEN ~`).
    pub max_len: usize,
    /// How often acknowledged entries are trimmed.
    pub trim_interval: Duration,
    /// How far before its subscription a new group starts.
    pub new_group_lookback: Duration,
    /// The most a publish, an acknowledgement or an admin command may take.
    pub operation_timeout: Duration,
    /// The most a (re)connection may take.
    pub connect_timeout: Duration,
    /// How long [`RedisStreamsEventBus::stop`] lets handlers finish before it
    /// abandons them (their events stay pending and are claimed later).
    pub stop_grace: Duration,
}

impl RedisStreamsOptions {
    /// The key prefix used unless another is given.
    pub const DEFAULT_PREFIX: &'static str = "emporium:";
    /// The default [`max_failures`](Self::max_failures).
    pub const DEFAULT_MAX_FAILURES: u32 = 10;
    /// The default [`max_len`](Self::max_len).
    pub const DEFAULT_MAX_LEN: usize = 1_000_000;

    /// A consumer name unique to this process: host name, process id and a random
    /// suffix (a restarted process is a new consumer; what the old one left pending
    /// is claimed).
    pub fn process_consumer_name() -> String {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "emporium".to_owned());
        let random = uuid::Uuid::new_v4().simple().to_string();
        format!("{host}-{}-{}", std::process::id(), &random[..8])
    }
}

impl Default for RedisStreamsOptions {
    fn default() -> Self {
        Self {
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            consumer: Self::process_consumer_name(),
            block: Duration::from_secs(2),
            batch: 16,
            claim_idle: Duration::from_secs(30),
            max_failures: Self::DEFAULT_MAX_FAILURES,
            max_len: Self::DEFAULT_MAX_LEN,
            trim_interval: Duration::from_secs(30),
            new_group_lookback: Duration::from_secs(60),
            operation_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            stop_grace: Duration::from_secs(10),
        }
    }
}

/// The keys and settings every task of one bus shares.
struct Shared {
    url: String,
    address: String,
    options: RedisStreamsOptions,
    stream: String,
    dead: String,
    /// Publishes, acknowledges, counts failures: a multiplexed connection.
    connection: ConnectionManager,
}

impl Shared {
    /// Every consumer group of the stream (`XINFO GROUPS`); none before the stream
    /// exists.
    async fn consumer_groups(&self) -> anyhow::Result<Vec<StreamInfoGroup>> {
        let mut connection = self.connection.clone();
        match self
            .run(
                "listing consumer groups".to_owned(),
                redis::cmd("XINFO")
                    .arg("GROUPS")
                    .arg(&self.stream)
                    .query_async::<StreamInfoGroupsReply>(&mut connection),
            )
            .await
        {
            Ok(reply) => Ok(reply.groups),
            Err(StoreError::Unexpected(error)) if format!("{error:#}").contains("no such key") => {
                Ok(Vec::new())
            }
            Err(error) => Err(anyhow!(error)),
        }
    }

    fn failures_key(&self, group: &str) -> String {
        format!("{}events:failures:{group}", self.options.prefix)
    }

    /// The hash of how many dead letters each group has (moved with them, in the
    /// same transactions).
    fn dead_counts_key(&self) -> String {
        format!("{}events:dead:counts", self.options.prefix)
    }

    async fn run<T>(
        &self,
        what: String,
        operation: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        run_classified(
            &self.address,
            self.options.operation_timeout,
            what,
            operation,
        )
        .await
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let mut connection = self.connection.clone();
        let _: String = self
            .run(
                "PING".to_owned(),
                redis::cmd("PING").query_async(&mut connection),
            )
            .await
            .map_err(|error| anyhow!(error))?;
        Ok(())
    }

    /// `XADD` of `event` (its JSON `envelope`) to the stream, capped at about
    /// [`RedisStreamsOptions::max_len`] entries: how every event enters the stream,
    /// published or replayed.
    fn add_event(&self, event: &DomainEvent, envelope: &str) -> redis::Cmd {
        redis::cmd("XADD")
            .arg(&self.stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.options.max_len)
            .arg("*")
            .arg("id")
            .arg(event.id.0.to_string())
            .arg("type")
            .arg(event.event_type.as_str())
            .arg("event")
            .arg(envelope)
            .to_owned()
    }

    /// A connection of its own for a consumer's blocking reads: its response timeout
    /// is the block time plus the operation timeout.
    async fn blocking_connection(&self) -> anyhow::Result<ConnectionManager> {
        let (connection, _) = connect_redis(
            &self.url,
            self.options.connect_timeout,
            self.options.block + self.options.operation_timeout,
        )
        .await?;
        Ok(connection)
    }
}

/// An [`EventBus`] on Redis Streams (see the [module docs](self)).
pub struct RedisStreamsEventBus {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl RedisStreamsEventBus {
    /// Connects to the Redis at `url` with the default options; fails within a few
    /// seconds when it cannot be reached.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, RedisStreamsOptions::default()).await
    }

    /// Connects with `options` and starts the trimming task.
    pub async fn connect_with(url: &str, options: RedisStreamsOptions) -> anyhow::Result<Self> {
        let (connection, address) =
            connect_redis(url, options.connect_timeout, options.operation_timeout).await?;
        let shared = Arc::new(Shared {
            url: url.to_owned(),
            address,
            stream: format!("{}events", options.prefix),
            dead: format!("{}events:dead", options.prefix),
            options,
            connection,
        });
        shared
            .ping()
            .await
            .context("Redis accepted the connection but did not answer PING")?;
        let (stop, stopped) = watch::channel(false);
        let trimmer = tokio::spawn(trim_loop(shared.clone(), stopped));
        Ok(Self {
            shared,
            stop,
            tasks: Mutex::new(vec![trimmer]),
        })
    }

    /// The dead letters of this bus.
    pub fn dead_letters(&self) -> DeadLetters {
        DeadLetters {
            shared: self.shared.clone(),
        }
    }

    /// Answers whether Redis answers `PING`.
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.shared.ping().await
    }

    /// Every consumer group of the stream (every service's, not only this
    /// process's): events not yet delivered to it, delivered and not acknowledged,
    /// and dead letters. Groups that have dead letters but no longer exist on the
    /// stream are listed too.
    pub async fn group_stats(&self) -> anyhow::Result<Vec<GroupStats>> {
        let shared = &self.shared;
        let groups = shared.consumer_groups().await?;
        let mut connection = shared.connection.clone();
        let dead: Vec<(String, i64)> = shared
            .run(
                "counting dead letters".to_owned(),
                redis::cmd("HGETALL")
                    .arg(shared.dead_counts_key())
                    .query_async(&mut connection),
            )
            .await
            .map_err(|error| anyhow!(error))?;
        let dead_letters_of = |name: &str| {
            dead.iter()
                .find(|(group, _)| group == name)
                .map_or(0, |(_, count)| u64::try_from(*count).unwrap_or(0))
        };
        let mut stats: Vec<GroupStats> = groups
            .iter()
            .map(|group| GroupStats {
                group: group.name.clone(),
                lag: group.lag.map(|lag| lag as u64),
                pending: group.pending as u64,
                dead_letters: dead_letters_of(&group.name),
            })
            .collect();
        for (group, _) in &dead {
            if !stats.iter().any(|known| &known.group == group) {
                stats.push(GroupStats {
                    group: group.clone(),
                    lag: None,
                    pending: 0,
                    dead_letters: dead_letters_of(group),
                });
            }
        }
        stats.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(stats)
    }

    /// Redis's `maxmemory-policy`: the streams are lost unless it is `noeviction`
    /// (or a `volatile-*` policy, which spares keys without expiry, as the streams
    /// are). An error when Redis refuses `CONFIG GET`.
    pub async fn eviction_policy(&self) -> anyhow::Result<String> {
        eviction_policy(
            &self.shared.connection,
            &self.shared.address,
            self.shared.options.operation_timeout,
        )
        .await
    }

    /// Stops the consumers and the trimmer: each finishes the event it is applying
    /// (for at most [`RedisStreamsOptions::stop_grace`]) and reads no more. An event
    /// read but not yet applied stays pending and is claimed by another consumer.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.tasks));
        let grace = self.shared.options.stop_grace;
        for mut task in tasks {
            if tokio::time::timeout(grace, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Drop for RedisStreamsEventBus {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

impl std::fmt::Debug for RedisStreamsEventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStreamsEventBus")
            .field("address", &self.shared.address)
            .field("stream", &self.shared.stream)
            .field("consumer", &self.shared.options.consumer)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl EventBus for RedisStreamsEventBus {
    async fn publish(&self, event: &DomainEvent) -> Result<(), EventDeliveryError> {
        let envelope =
            serde_json::to_string(event).with_context(|| format!("encoding event {}", event.id))?;
        let mut connection = self.shared.connection.clone();
        let command = self.shared.add_event(event, &envelope);
        let _: String = self
            .shared
            .run(
                format!("publishing event {} ({})", event.id, event.event_type),
                command.query_async(&mut connection),
            )
            .await?;
        Ok(())
    }

    fn subscribe(&self, group: &str, handler: Arc<dyn EventHandler>) {
        let lookback = self.shared.options.new_group_lookback;
        let start = SystemTime::now()
            .checked_sub(lookback)
            .unwrap_or(UNIX_EPOCH)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let consumer = Consumer {
            shared: self.shared.clone(),
            group: group.to_owned(),
            handler,
            new_group_start: format!("{}-0", start.as_millis()),
            stopped: self.stop.subscribe(),
        };
        lock(&self.tasks).push(tokio::spawn(consumer.run()));
    }
}

/// One consumer of one group in this process.
struct Consumer {
    shared: Arc<Shared>,
    group: String,
    handler: Arc<dyn EventHandler>,
    new_group_start: String,
    stopped: watch::Receiver<bool>,
}

/// How one read ended.
enum Read {
    Entries(Vec<StreamId>),
    Stopped,
}

impl Consumer {
    fn stopping(&self) -> bool {
        *self.stopped.borrow()
    }

    async fn run(mut self) {
        let mut connection = None;
        let mut pause = Duration::from_millis(100);
        // The next time pending events of dead consumers are looked for.
        let mut next_claim = tokio::time::Instant::now();
        while !self.stopping() {
            let step = async {
                let reader = match &mut connection {
                    Some(reader) => reader,
                    None => {
                        let mut reader = self.shared.blocking_connection().await?;
                        self.create_group(&mut reader, &self.new_group_start)
                            .await?;
                        connection.insert(reader)
                    }
                };
                let claimed = if tokio::time::Instant::now() >= next_claim {
                    next_claim = tokio::time::Instant::now() + self.shared.options.claim_idle / 2;
                    self.claim(reader).await?
                } else {
                    Vec::new()
                };
                let read = if claimed.is_empty() {
                    self.read(reader).await?
                } else {
                    Read::Entries(claimed)
                };
                anyhow::Ok(read)
            };
            match step.await {
                Ok(Read::Entries(entries)) => {
                    pause = Duration::from_millis(100);
                    for entry in entries {
                        if self.stopping() {
                            break;
                        }
                        self.deliver(entry).await;
                    }
                }
                Ok(Read::Stopped) => break,
                Err(error) => {
                    if is_missing_group(&error) {
                        // Redis lost the stream (a restart without persistence): the
                        // group starts again from what the relay publishes now.
                        if let Some(reader) = connection.as_mut()
                            && let Err(error) = self.create_group(reader, "0").await
                        {
                            tracing::warn!(group = %self.group, error = format!("{error:#}"), "recreating the consumer group failed");
                        }
                        continue;
                    }
                    tracing::warn!(
                        group = %self.group,
                        error = format!("{error:#}"),
                        retry_in_ms = pause.as_millis() as u64,
                        "reading events failed; retrying"
                    );
                    if self.sleep(pause).await {
                        break;
                    }
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
        tracing::debug!(group = %self.group, "event consumer stopped");
    }

    /// Sleeps for `pause` unless stopped first; true when stopped.
    async fn sleep(&mut self, pause: Duration) -> bool {
        tokio::select! {
            _ = self.stopped.changed() => true,
            () = tokio::time::sleep(pause) => self.stopping(),
        }
    }

    /// `XGROUP CREATE <stream> <group> <start> MKSTREAM`; a group that exists is kept.
    async fn create_group(
        &self,
        connection: &mut ConnectionManager,
        start: &str,
    ) -> anyhow::Result<()> {
        let created: redis::RedisResult<String> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.shared.stream)
            .arg(&self.group)
            .arg(start)
            .arg("MKSTREAM")
            .query_async(connection)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
            Err(error) => Err(error).with_context(|| {
                format!(
                    "creating the consumer group {} on {}",
                    self.group, self.shared.address
                )
            }),
        }
    }

    /// Claims events other consumers of the group left unacknowledged too long.
    async fn claim(&self, connection: &mut ConnectionManager) -> anyhow::Result<Vec<StreamId>> {
        let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(&self.shared.stream)
            .arg(&self.group)
            .arg(&self.shared.options.consumer)
            .arg(self.shared.options.claim_idle.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(self.shared.options.batch)
            .query_async(connection)
            .await
            .context("claiming abandoned events (XAUTOCLAIM)")?;
        if !reply.claimed.is_empty() {
            tracing::info!(
                group = %self.group,
                claimed = reply.claimed.len(),
                "claimed events another consumer left unacknowledged"
            );
        }
        Ok(reply.claimed)
    }

    /// Waits (up to the block time) for new events, unless stopped first.
    async fn read(&self, connection: &mut ConnectionManager) -> anyhow::Result<Read> {
        let mut stopped = self.stopped.clone();
        let command = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.shared.options.consumer)
            .arg("COUNT")
            .arg(self.shared.options.batch)
            .arg("BLOCK")
            .arg(self.shared.options.block.as_millis() as u64)
            .arg("STREAMS")
            .arg(&self.shared.stream)
            .arg(">")
            .to_owned();
        let reply: Option<StreamReadReply> = tokio::select! {
            _ = stopped.changed() => return Ok(Read::Stopped),
            reply = command.query_async(connection) => reply.context("reading events (XREADGROUP)")?,
        };
        let entries = reply
            .map(|reply| reply.keys.into_iter().flat_map(|key| key.ids).collect())
            .unwrap_or_default();
        Ok(Read::Entries(entries))
    }

    /// Applies one entry: acknowledges it once applied, retries it while it fails, and
    /// moves it to the dead letters after `max_failures` failures.
    async fn deliver(&mut self, entry: StreamId) {
        let envelope: Option<String> = entry.get("event");
        let event = match envelope.as_deref().map(serde_json::from_str::<DomainEvent>) {
            Some(Ok(event)) => event,
            Some(Err(error)) => {
                let error = anyhow!(error).context("the entry's event is not a valid envelope");
                self.bury(&entry, envelope.as_deref().unwrap_or(""), &error, 0)
                    .await;
                return;
            }
            None => {
                let error = anyhow!("the entry has no `event` field");
                self.bury(&entry, "", &error, 0).await;
                return;
            }
        };
        let mut counted = false;
        let mut pause = Duration::from_millis(50);
        loop {
            match self.handler.handle(&event).await {
                Ok(()) => {
                    self.acknowledge(&entry.id, counted).await;
                    return;
                }
                Err(error) if is_unavailable(&error) => {
                    tracing::warn!(
                        group = %self.group,
                        event = %event.id,
                        error = format!("{error:#}"),
                        "a dependency of the consumer is down; the event waits for it"
                    );
                }
                Err(error) => {
                    counted = true;
                    match self.count_failure(&entry.id).await {
                        Ok(failures) if failures >= i64::from(self.shared.options.max_failures) => {
                            self.bury(&entry, envelope.as_deref().unwrap_or(""), &error, failures)
                                .await;
                            return;
                        }
                        Ok(failures) => tracing::warn!(
                            group = %self.group,
                            event = %event.id,
                            event_type = %event.event_type,
                            failures,
                            error = format!("{error:#}"),
                            "the consumer failed on an event; retrying"
                        ),
                        Err(count_error) => tracing::warn!(
                            group = %self.group,
                            event = %event.id,
                            error = format!("{error:#}"),
                            count_error = format!("{count_error:#}"),
                            "the consumer failed on an event and its failure was not counted"
                        ),
                    }
                }
            }
            // Stopped: the event stays pending and is claimed after a restart.
            if self.sleep(pause).await {
                return;
            }
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    async fn count_failure(&self, entry_id: &str) -> Result<i64, StoreError> {
        let mut connection = self.shared.connection.clone();
        self.shared
            .run(
                format!("counting a failure of entry {entry_id}"),
                redis::cmd("HINCRBY")
                    .arg(self.shared.failures_key(&self.group))
                    .arg(entry_id)
                    .arg(1)
                    .query_async(&mut connection),
            )
            .await
    }

    /// `XACK`, and forgets the entry's failure count when it had one. A failed
    /// acknowledgement is only logged: the event is applied again later, which the
    /// handler recognises.
    async fn acknowledge(&self, entry_id: &str, counted: bool) {
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .cmd("XACK")
            .arg(&self.shared.stream)
            .arg(&self.group)
            .arg(entry_id)
            .ignore();
        if counted {
            pipeline
                .cmd("HDEL")
                .arg(self.shared.failures_key(&self.group))
                .arg(entry_id)
                .ignore();
        }
        let mut connection = self.shared.connection.clone();
        if let Err(error) = self
            .shared
            .run(
                format!("acknowledging entry {entry_id}"),
                pipeline.query_async::<()>(&mut connection),
            )
            .await
        {
            tracing::warn!(group = %self.group, entry = entry_id, error = format!("{:#}", anyhow!(error)), "acknowledging an event failed; it will be delivered again");
        }
    }

    /// Moves the entry to the dead letters and acknowledges it, in one transaction.
    async fn bury(&self, entry: &StreamId, envelope: &str, error: &anyhow::Error, failures: i64) {
        let reason = format!("{error:#}");
        tracing::error!(
            group = %self.group,
            entry = %entry.id,
            failures,
            error = %reason,
            "an event failed its consumer too often and went to the dead letters \
             (`emporium events dead`, `emporium events replay ID`)"
        );
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .cmd("XADD")
            .arg(&self.shared.dead)
            .arg("*")
            .arg("group")
            .arg(&self.group)
            .arg("entry")
            .arg(&entry.id)
            .arg("failures")
            .arg(failures)
            .arg("error")
            .arg(&reason)
            .arg("at")
            .arg(chrono::Utc::now().to_rfc3339())
            .arg("event")
            .arg(envelope)
            .ignore()
            .cmd("XACK")
            .arg(&self.shared.stream)
            .arg(&self.group)
            .arg(&entry.id)
            .ignore()
            .cmd("HDEL")
            .arg(self.shared.failures_key(&self.group))
            .arg(&entry.id)
            .ignore()
            .cmd("HINCRBY")
            .arg(self.shared.dead_counts_key())
            .arg(&self.group)
            .arg(1)
            .ignore();
        let mut connection = self.shared.connection.clone();
        if let Err(error) = self
            .shared
            .run(
                format!("moving entry {} to the dead letters", entry.id),
                pipeline.query_async::<()>(&mut connection),
            )
            .await
        {
            tracing::warn!(group = %self.group, entry = %entry.id, error = format!("{:#}", anyhow!(error)), "moving an event to the dead letters failed; it stays pending");
        }
    }
}

fn is_unavailable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<Unavailable>())
}

fn is_missing_group(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<redis::RedisError>()
            .is_some_and(|error| error.code() == Some("NOGROUP"))
    })
}

/// Trims acknowledged entries and forgets departed consumers, every trim interval.
async fn trim_loop(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            () = tokio::time::sleep(shared.options.trim_interval) => {}
        }
        if *stopped.borrow() {
            break;
        }
        if let Err(error) = trim_once(&shared).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "trimming the event stream failed"
            );
        }
    }
}

/// The entries below the oldest one some group still needs go (`XTRIM MINID ~`).
async fn trim_once(shared: &Shared) -> anyhow::Result<()> {
    let groups = shared.consumer_groups().await?;
    let mut connection = shared.connection.clone();
    let mut oldest_needed: Option<(u64, u64)> = None;
    for group in &groups {
        let needed = if group.pending > 0 {
            let pending: StreamPendingReply = shared
                .run(
                    format!("reading the pending events of group {}", group.name),
                    redis::cmd("XPENDING")
                        .arg(&shared.stream)
                        .arg(&group.name)
                        .query_async(&mut connection),
                )
                .await
                .map_err(|error| anyhow!(error))?;
            match pending {
                StreamPendingReply::Data(data) => parse_id(&data.start_id),
                _ => parse_id(&group.last_delivered_id).map(next_id),
            }
        } else {
            // Everything up to the last delivered entry is acknowledged.
            parse_id(&group.last_delivered_id).map(next_id)
        };
        if let Some(needed) = needed {
            oldest_needed = Some(oldest_needed.map_or(needed, |oldest| oldest.min(needed)));
        }
        if let Some(lag) = group.lag
            && lag > shared.options.max_len / 2
        {
            tracing::warn!(
                group = %group.name,
                lag,
                max_len = shared.options.max_len,
                "a consumer group lags far behind the event stream; past the stream's \
                 bound it loses the oldest events"
            );
        }
        forget_departed_consumers(shared, &mut connection, &group.name).await?;
    }
    if let Some((ms, seq)) = oldest_needed {
        let _: i64 = shared
            .run(
                "trimming acknowledged events".to_owned(),
                redis::cmd("XTRIM")
                    .arg(&shared.stream)
                    .arg("MINID")
                    .arg("~")
                    .arg(format!("{ms}-{seq}"))
                    .query_async(&mut connection),
            )
            .await
            .map_err(|error| anyhow!(error))?;
    }
    Ok(())
}

/// Removes the group's consumers that hold nothing and were idle for an hour.
async fn forget_departed_consumers(
    shared: &Shared,
    connection: &mut ConnectionManager,
    group: &str,
) -> anyhow::Result<()> {
    const DEPARTED_AFTER_MS: usize = 60 * 60 * 1000;
    let consumers: StreamInfoConsumersReply = shared
        .run(
            format!("listing the consumers of group {group}"),
            redis::cmd("XINFO")
                .arg("CONSUMERS")
                .arg(&shared.stream)
                .arg(group)
                .query_async(connection),
        )
        .await
        .map_err(|error| anyhow!(error))?;
    for consumer in consumers.consumers {
        if consumer.pending == 0 && consumer.idle > DEPARTED_AFTER_MS {
            let _: i64 = shared
                .run(
                    format!("removing consumer {} of group {group}", consumer.name),
                    redis::cmd("XGROUP")
                        .arg("DELCONSUMER")
                        .arg(&shared.stream)
                        .arg(group)
                        .arg(&consumer.name)
                        .query_async(connection),
                )
                .await
                .map_err(|error| anyhow!(error))?;
        }
    }
    Ok(())
}

/// A stream entry id `<ms>-<seq>` as numbers.
fn parse_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// The smallest id after `id`.
fn next_id((ms, seq): (u64, u64)) -> (u64, u64) {
    match seq.checked_add(1) {
        Some(seq) => (ms, seq),
        None => (ms + 1, 0),
    }
}

/// One consumer group's position on the stream, from `XINFO GROUPS` (see
/// [`RedisStreamsEventBus::group_stats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStats {
    /// The group's name (`orders`, `notifications`, …).
    pub group: String,
    /// Events in the stream not yet delivered to the group; `None` when Redis cannot
    /// tell (after deletions inside the undelivered range).
    pub lag: Option<u64>,
    /// Events delivered to its consumers and not yet acknowledged.
    pub pending: u64,
    /// Its events in the dead-letter stream (counted as they are buried and
    /// replayed; letters buried before this count existed are not in it).
    pub dead_letters: u64,
}

/// An event that failed its consumer group too often, as `emporium events dead`
/// lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its id in the dead-letter stream, which `replay` takes.
    pub id: String,
    /// The consumer group that failed on it.
    pub group: String,
    /// Its entry id in the event stream.
    pub entry: String,
    /// How often the group failed on it (0 for an entry that could not be decoded).
    pub failures: i64,
    /// The last failure.
    pub error: String,
    /// When it was buried (RFC 3339).
    pub at: String,
    /// The event envelope (JSON).
    pub event: String,
}

impl DeadLetter {
    fn from_entry(entry: &StreamId) -> Self {
        let text = |field: &str| entry.get::<String>(field).unwrap_or_default();
        Self {
            id: entry.id.clone(),
            group: text("group"),
            entry: text("entry"),
            failures: entry.get("failures").unwrap_or_default(),
            error: text("error"),
            at: text("at"),
            event: text("event"),
        }
    }
}

/// The dead-letter stream: list and replay.
#[derive(Clone)]
pub struct DeadLetters {
    shared: Arc<Shared>,
}

impl DeadLetters {
    /// The oldest `limit` dead letters.
    pub async fn list(&self, limit: usize) -> anyhow::Result<Vec<DeadLetter>> {
        let mut connection = self.shared.connection.clone();
        let reply: StreamRangeReply = self
            .shared
            .run(
                "listing dead letters".to_owned(),
                redis::cmd("XRANGE")
                    .arg(&self.shared.dead)
                    .arg("-")
                    .arg("+")
                    .arg("COUNT")
                    .arg(limit)
                    .query_async(&mut connection),
            )
            .await
            .map_err(|error| anyhow!(error))?;
        Ok(reply.ids.iter().map(DeadLetter::from_entry).collect())
    }

    /// Publishes the dead letter `id`'s event again and removes it from the dead
    /// letters, in one transaction. Every group receives the event again; the groups
    /// that had applied it recognise it by its id. `Ok(false)` when there is no such
    /// dead letter.
    pub async fn replay(&self, id: &str) -> anyhow::Result<bool> {
        let mut connection = self.shared.connection.clone();
        let reply: StreamRangeReply = self
            .shared
            .run(
                format!("reading dead letter {id}"),
                redis::cmd("XRANGE")
                    .arg(&self.shared.dead)
                    .arg(id)
                    .arg(id)
                    .query_async(&mut connection),
            )
            .await
            .map_err(|error| anyhow!(error))?;
        let Some(entry) = reply.ids.first() else {
            return Ok(false);
        };
        let letter = DeadLetter::from_entry(entry);
        let event: DomainEvent = serde_json::from_str(&letter.event).with_context(|| {
            format!("dead letter {id} does not hold a valid event envelope; it cannot be replayed")
        })?;
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .add_command(self.shared.add_event(&event, &letter.event))
            .ignore()
            .cmd("XDEL")
            .arg(&self.shared.dead)
            .arg(id)
            .ignore()
            .cmd("HINCRBY")
            .arg(self.shared.dead_counts_key())
            .arg(&letter.group)
            .arg(-1)
            .ignore();
        self.shared
            .run(
                format!("replaying dead letter {id}"),
                pipeline.query_async::<()>(&mut connection),
            )
            .await
            .map_err(|error| anyhow!(error))?;
        Ok(true)
    }
}

impl std::fmt::Debug for DeadLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetters")
            .field("stream", &self.shared.dead)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_order_and_follow_each_other() {
        assert_eq!(parse_id("1700000000000-3"), Some((1_700_000_000_000, 3)));
        assert_eq!(parse_id("0-0"), Some((0, 0)));
        assert_eq!(parse_id("bad"), None);
        assert_eq!(next_id((5, 3)), (5, 4));
        assert_eq!(next_id((5, u64::MAX)), (6, 0));
    }

    #[test]
    fn process_consumer_names_differ() {
        assert_ne!(
            RedisStreamsOptions::process_consumer_name(),
            RedisStreamsOptions::process_consumer_name()
        );
    }
}
