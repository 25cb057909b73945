//! A server's background work: for notifications, the delivery of due retries and
//! pruning; for the purchase flow, the outbox relay, the expiry
//! of unpaid orders, the recovery of abandoned order attempts and pruning; for the
//! embedded SQLite database, the checkpoint that keeps its write-ahead log bounded.
//! Each loop calls one step at a time; on shutdown every loop finishes its current
//! step and stops.

use std::sync::Arc;
use std::time::Duration;

use emporium_adapters::redis_streams::RedisStreamsEventBus;
use emporium_adapters::sql::{OutboxRelayElection, WalCheckpointer};
use emporium_application::notifications::Notifications;
use emporium_application::orders::Orders;
use emporium_application::webhooks::Webhooks;
use futures::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How soon the relay looks again after it published something.
const RELAY_BUSY_INTERVAL: Duration = Duration::from_millis(20);
/// How long an idle relay waits at most between looks (it doubles its pause from
/// the busy interval up to this while the outbox stays empty; on PostgreSQL a
/// notification of a new outbox row wakes it sooner).
const RELAY_IDLE_INTERVAL: Duration = Duration::from_millis(500);
/// How often a replica that does not relay tries to take over (on PostgreSQL).
const RELAY_FOLLOWER_INTERVAL: Duration = Duration::from_secs(1);
/// Events the relay publishes per step.
const RELAY_BATCH: u32 = 200;
/// How often overdue unpaid orders are looked for.
const EXPIRY_INTERVAL: Duration = Duration::from_secs(5);
/// How often abandoned order attempts are looked for.
const RECOVERY_INTERVAL: Duration = Duration::from_secs(10);
/// How often old records are pruned.
const PRUNE_INTERVAL: Duration = Duration::from_secs(600);
/// How often the SQLite WAL's size is looked at.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);
/// How often due notifications (retries) are looked for.
const DELIVERY_INTERVAL: Duration = Duration::from_secs(1);
/// How often due webhook deliveries are looked for.
const WEBHOOK_INTERVAL: Duration = Duration::from_millis(250);
/// Orders expired or attempts recovered per step.
const STEP_LIMIT: u32 = 100;
/// How long a failing step waits before the next try, at most.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The running loops; [`BackgroundTasks::stop`] ends them.
pub struct BackgroundTasks {
    stop: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
    /// The Redis Streams consumers, stopped after the loops.
    event_bus: Option<Arc<RedisStreamsEventBus>>,
}

impl BackgroundTasks {
    /// Starts the loops: the purchase flow's when `orders` run here, the WAL
    /// checkpoint when `wal` is given. `event_bus`'s consumers (already running) are
    /// stopped with them.
    pub fn start(
        orders: Option<Arc<Orders>>,
        notifications: Option<Arc<Notifications>>,
        webhooks: Option<Arc<Webhooks>>,
        wal: Option<WalCheckpointer>,
        election: Option<OutboxRelayElection>,
        event_bus: Option<Arc<RedisStreamsEventBus>>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut loops = Vec::new();
        if let Some(wal) = wal {
            loops.push(checkpoint(wal, stopped.clone()));
        }
        if let Some(notifications) = notifications {
            loops.extend(Self::notifications(notifications, stopped.clone()));
        }
        if let Some(webhooks) = webhooks {
            loops.extend(Self::webhooks(webhooks, stopped.clone()));
        }
        if let Some(orders) = orders {
            loops.extend(Self::purchase_flow(orders, election, stopped));
        }
        Self {
            stop,
            loops,
            event_bus,
        }
    }

    fn purchase_flow(
        orders: Arc<Orders>,
        election: Option<OutboxRelayElection>,
        stopped: watch::Receiver<bool>,
    ) -> Vec<JoinHandle<()>> {
        let relay = relay(orders.clone(), election, stopped.clone());
        let expiry = {
            let orders = orders.clone();
            every(
                "order expiry",
                EXPIRY_INTERVAL,
                stopped.clone(),
                move || {
                    let orders = orders.clone();
                    async move { orders.expire.run_once(STEP_LIMIT).await.map(drop) }
                },
            )
        };
        let recovery = {
            let orders = orders.clone();
            every(
                "order attempt recovery",
                RECOVERY_INTERVAL,
                stopped.clone(),
                move || {
                    let orders = orders.clone();
                    async move { orders.recover.run_once(STEP_LIMIT).await.map(drop) }
                },
            )
        };
        let prune = every("pruning", PRUNE_INTERVAL, stopped, move || {
            let orders = orders.clone();
            async move {
                let removed = orders.prune.run_once().await?;
                if removed > 0 {
                    tracing::info!(
                        removed,
                        "pruned old outbox rows, processed events and idempotency keys"
                    );
                }
                Ok(())
            }
        });
        vec![relay, expiry, recovery, prune]
    }

    /// Retries of notifications that are due, and the pruning of old ones.
    fn notifications(
        notifications: Arc<Notifications>,
        stopped: watch::Receiver<bool>,
    ) -> Vec<JoinHandle<()>> {
        let delivery = {
            let notifications = notifications.clone();
            every(
                "notification delivery",
                DELIVERY_INTERVAL,
                stopped.clone(),
                move || {
                    let notifications = notifications.clone();
                    async move { notifications.deliver.run_due(STEP_LIMIT).await.map(drop) }
                },
            )
        };
        let prune = every("notification pruning", PRUNE_INTERVAL, stopped, move || {
            let notifications = notifications.clone();
            async move {
                let removed = notifications.prune.execute().await?;
                if removed > 0 {
                    tracing::info!(removed, "pruned old notifications");
                }
                Ok(())
            }
        });
        vec![delivery, prune]
    }

    /// Webhook deliveries that are due (side by side), and the pruning of old ones.
    fn webhooks(webhooks: Arc<Webhooks>, stopped: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        let delivery = {
            let webhooks = webhooks.clone();
            every(
                "webhook delivery",
                WEBHOOK_INTERVAL,
                stopped.clone(),
                move || {
                    let webhooks = webhooks.clone();
                    async move { webhooks.deliver.run_due(STEP_LIMIT).await.map(drop) }
                },
            )
        };
        let prune = every("webhook pruning", PRUNE_INTERVAL, stopped, move || {
            let webhooks = webhooks.clone();
            async move {
                let removed = webhooks.prune.execute().await?;
                if removed > 0 {
                    tracing::info!(removed, "pruned old webhook deliveries");
                }
                Ok(())
            }
        });
        vec![delivery, prune]
    }

    /// Lets every loop finish its current step, then returns.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.loops {
            if let Err(error) = task.await {
                tracing::error!(%error, "a background task failed");
            }
        }
        if let Some(bus) = self.event_bus {
            bus.stop().await;
        }
    }
}

/// The WAL checkpoint loop (see [`WalCheckpointer`]).
fn checkpoint(wal: WalCheckpointer, stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    let wal = Arc::new(tokio::sync::Mutex::new(wal));
    every("WAL checkpoint", CHECKPOINT_INTERVAL, stopped, move || {
        let wal = wal.clone();
        async move { wal.lock().await.run_once().await.map(drop) }
    })
}

/// The outbox relay: drains the outbox, then looks again soon while events keep
/// coming and ever less often while none do (see [`RELAY_IDLE_INTERVAL`]), so an idle
/// server does not poll its database twenty times a second. With an `election`
/// (PostgreSQL), only the replica that wins it relays, woken by the notifications of
/// new outbox rows; the others try to take over every [`RELAY_FOLLOWER_INTERVAL`].
fn relay(
    orders: Arc<Orders>,
    mut election: Option<OutboxRelayElection>,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut pause = RELAY_BUSY_INTERVAL;
        loop {
            let wait = async {
                match election.as_mut() {
                    Some(election) if election.is_leading() => {
                        election.wait_for_events(pause).await;
                    }
                    _ => tokio::time::sleep(pause).await,
                }
            };
            tokio::select! {
                _ = stopped.changed() => break,
                () = wait => {}
            }
            if *stopped.borrow() {
                break;
            }
            if let Some(election) = election.as_mut()
                && !election.lead().await
            {
                pause = RELAY_FOLLOWER_INTERVAL;
                continue;
            }
            let mut published = 0;
            let outcome = loop {
                match orders.relay.run_once(RELAY_BATCH).await {
                    // Drain: keep going while full batches come back.
                    Ok(sent) if sent == RELAY_BATCH as usize => published += sent,
                    Ok(sent) => break Ok(published + sent),
                    Err(error) => break Err(error),
                }
            };
            pause = match outcome {
                Ok(0) => (pause * 2).min(RELAY_IDLE_INTERVAL),
                Ok(_) => RELAY_BUSY_INTERVAL,
                Err(error) => {
                    tracing::warn!(
                        task = "outbox relay",
                        error = format!("{error:#}"),
                        "publishing events failed; retrying"
                    );
                    (pause * 2).clamp(RELAY_BUSY_INTERVAL, MAX_BACKOFF)
                }
            };
        }
        tracing::debug!(task = "outbox relay", "background task stopped");
    })
}

/// Runs `step` every `interval` until `stopped` turns true; a failing step is logged
/// and retried with a growing pause (up to [`MAX_BACKOFF`]).
fn every<Step, Fut>(
    name: &'static str,
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
    step: Step,
) -> JoinHandle<()>
where
    Step: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        let mut pause = interval;
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                () = tokio::time::sleep(pause) => {}
            }
            if *stopped.borrow() {
                break;
            }
            // A step that panics (a bug, or hostile input a bug let through) is
            // logged and retried like a failure: the loop never dies of it.
            let outcome = match std::panic::AssertUnwindSafe(step()).catch_unwind().await {
                Ok(outcome) => outcome,
                Err(_) => Err(anyhow::anyhow!("the step panicked")),
            };
            match outcome {
                Ok(()) => pause = interval,
                Err(error) => {
                    pause = (pause * 2).clamp(interval, MAX_BACKOFF.max(interval));
                    tracing::warn!(
                        task = name,
                        error = format!("{error:#}"),
                        retry_in_ms = pause.as_millis() as u64,
                        "background step failed"
                    );
                }
            }
        }
        tracing::debug!(task = name, "background task stopped");
    })
}
