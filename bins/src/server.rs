//! Running the HTTP server: [`spawn`] (used by `serve` and by tests) and [`serve`]
//! (until Ctrl-C or SIGTERM).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use poem::Server;
use poem::listener::{Acceptor, Listener, TcpListener};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::acceptor::GuardedAcceptor;
use emporium_adapters::sql::{OutboxRelayElection, WalCheckpointer};

use crate::background::BackgroundTasks;
use crate::config::{Config, ServiceSet};
use crate::{composition, http};

/// How long shutdown waits for requests in flight.
const GRACEFUL_SHUTDOWN: Duration = Duration::from_secs(5);

/// A server running in the background.
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Which services it runs.
    pub services: ServiceSet,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The purchase flow's loops (relay, expiry, recovery, pruning), when it runs here.
    background: Option<BackgroundTasks>,
    /// The live push listener, when live push goes through Redis.
    live_listener: Option<JoinHandle<()>>,
    /// The shared lock on the embedded database (see `emporium restore`).
    _database_lock: Option<emporium_adapters::sql::DatabaseLock>,
    /// The `/metrics` listener on `EMPORIUM_METRICS_ADDR`, when configured.
    metrics_task: Option<JoinHandle<()>>,
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(listener) = self.live_listener.take() {
            listener.abort();
        }
        if let Some(task) = self.metrics_task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    /// Stops accepting connections, lets requests in flight finish (at most 5 s),
    /// then lets the background loops finish their current step (the relay publishes
    /// or hands back its batch), and returns once all stopped. Dropping a
    /// `RunningServer` also stops it, without waiting.
    pub async fn shutdown(mut self) {
        if let Some(signal) = self.shutdown.take() {
            let _ = signal.send(());
        }
        match (&mut self.task).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "server stopped with an error"),
            Err(error) => tracing::error!(%error, "server task failed"),
        }
        if let Some(background) = self.background.take() {
            background.stop().await;
        }
    }

    /// Waits until the server stops on its own (it does not, short of an I/O error).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        (&mut self.task).await.context("server task failed")??;
        Ok(())
    }
}

/// Installs the rustls ring provider once per process (before any TLS client is
/// built). A provider installed earlier is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Checks `config` for `services`, resolves the API key (generated in the data
/// directory in embedded mode), connects every dependency, runs migrations, and
/// serves on `addr` (port 0 picks a free port; see [`RunningServer::addr`]).
pub async fn spawn(
    mut config: Config,
    services: ServiceSet,
    addr: SocketAddr,
) -> anyhow::Result<RunningServer> {
    install_crypto_provider();
    config.check(services)?;
    if let Some(path) = config.ensure_api_key()? {
        tracing::info!(
            path = %path.display(),
            "no EMPORIUM_API_KEY given: using the generated API key kept in this file (send it as X-API-Key)"
        );
    }
    // Split services were refused above without EMPORIUM_JWT_SECRET: only the
    // all-in-one server signs with a generated secret.
    if let Some(path) = config.ensure_jwt_secret()? {
        tracing::info!(
            path = %path.display(),
            "no EMPORIUM_JWT_SECRET given: signing tokens with the generated secret kept in this file"
        );
    }
    let composition::Built {
        state,
        event_bus,
        live_listener,
    } = composition::build(&config, services).await?;
    // (The database exists now.) A restore refuses to run beside a server of the embedded database.
    let database_lock = match emporium_adapters::sql::sqlite_file(&config.database_url) {
        Some(file) if composition::needs_sql(&config, services) => {
            Some(emporium_adapters::sql::DatabaseLock::for_server(&file)?)
        }
        _ => None,
    };

    composition::bootstrap_admin(&state, &config).await?;
    let endpoint = http::endpoint(&state);
    // `/metrics` on its own listener, off the public port, when configured.
    let metrics_task = match config.metrics_addr {
        Some(metrics_addr) => {
            let listener = TcpListener::bind(metrics_addr)
                .into_acceptor()
                .await
                .with_context(|| format!("listening on {metrics_addr} (EMPORIUM_METRICS_ADDR)"))?;
            let metrics = poem::Route::new().at(
                "/metrics",
                http::metrics::MetricsEndpoint(state.metrics.clone()),
            );
            tracing::info!(addr = %metrics_addr, "serving /metrics");
            Some(tokio::spawn(async move {
                if let Err(error) = Server::new_with_acceptor(listener).run(metrics).await {
                    tracing::error!(%error, "the metrics listener stopped");
                }
            }))
        }
        None => None,
    };

    let listener = TcpListener::bind(addr)
        .into_acceptor()
        .await
        .with_context(|| format!("listening on {addr} (EMPORIUM_ADDR)"))?;
    let acceptor = GuardedAcceptor::new(listener, config.max_connections);
    let local = acceptor
        .local_addr()
        .first()
        .and_then(|local| local.as_socket_addr().copied())
        .unwrap_or(addr);
    let idle_timeout = config.idle_timeout;
    let (signal, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .idle_timeout(Duration::from_secs(idle_timeout))
            .run_with_graceful_shutdown(
                endpoint,
                async {
                    let _ = stopped.await;
                },
                Some(GRACEFUL_SHUTDOWN),
            )
            .await
    });
    let wal = if composition::needs_sql(&config, services) {
        WalCheckpointer::open(&config.database_url)
            .await
            .context("EMPORIUM_DATABASE_URL: opening the WAL checkpoint connection")?
    } else {
        None
    };
    let election = if state.orders.is_some() {
        OutboxRelayElection::open(&config.database_url)
            .await
            .context("EMPORIUM_DATABASE_URL: opening the outbox relay election's session")?
    } else {
        None
    };
    let background = (state.orders.is_some() || state.notifications.is_some() || wal.is_some())
        .then(|| {
            BackgroundTasks::start(
                state.orders.clone(),
                state.notifications.clone(),
                state.webhooks.clone(),
                wal,
                election,
                event_bus,
            )
        });
    tracing::info!(addr = %local, services = %services, "listening");
    Ok(RunningServer {
        addr: local,
        services,
        shutdown: Some(signal),
        task,
        background,
        live_listener,
        _database_lock: database_lock,
        metrics_task,
    })
}

/// Serves until Ctrl-C or SIGTERM, then shuts down gracefully. Says on stderr, for
/// people, where the API and its documentation are (the log lines on stdout are for
/// machines).
pub async fn serve(config: Config, services: ServiceSet) -> anyhow::Result<()> {
    let addr = config.addr;
    let server = spawn(config, services, addr).await?;
    let base = format!("http://{}", server.addr);
    eprintln!(
        "emporium: serving {services} on {base} — the API under {base}/v1, its documentation at \
         {base}/docs (OpenAPI: {base}/openapi.json). Ctrl-C stops it."
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
