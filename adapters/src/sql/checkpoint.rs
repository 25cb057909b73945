//! Keeping the embedded SQLite database's write-ahead log bounded.
//!
//! SQLite checkpoints the WAL by itself (`wal_autocheckpoint`, every 1,000 pages), but
//! only passively: under constant writes with concurrent readers a passive checkpoint
//! never catches up, the WAL is never restarted and the file only grows (hundreds of
//! MiB were measured). [`WalCheckpointer`] watches the WAL file from a connection of
//! its own and, once it passes a size (or once writes stop with frames left in it),
//! runs `PRAGMA wal_checkpoint(TRUNCATE)`: it
//! waits (at most its busy timeout) for readers of old snapshots to finish, copies
//! every frame back and truncates the file. `journal_size_limit` (set on every pooled
//! connection) caps what a restarted WAL keeps on disk.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{ConnectOptions, Connection};

/// The WAL size past which a checkpoint truncates it.
pub const DEFAULT_WAL_THRESHOLD: u64 = 16 * 1024 * 1024;
/// How long the checkpoint waits for readers and the writer before it reports busy
/// (and is tried again at the next look).
const CHECKPOINT_BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// What one truncating checkpoint did (SQLite's three numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Whether it could not finish because readers or the writer held on.
    pub busy: bool,
    /// Frames in the WAL when it ran.
    pub log_frames: i64,
    /// Frames copied back into the database.
    pub checkpointed_frames: i64,
}

/// Truncates the WAL of one SQLite database file when it grows past a threshold
/// (see the [module docs](self)).
pub struct WalCheckpointer {
    connection: SqliteConnection,
    wal: PathBuf,
    threshold: u64,
    /// The WAL's size at the previous look.
    last_size: u64,
}

impl std::fmt::Debug for WalCheckpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalCheckpointer")
            .field("wal", &self.wal)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl WalCheckpointer {
    /// A checkpointer for the SQLite database at `url`, on a connection of its own;
    /// `None` for anything but a SQLite file (an in-memory database, PostgreSQL).
    pub async fn open(url: &str) -> anyhow::Result<Option<Self>> {
        let Some(file) = super::sqlite_file(url) else {
            return Ok(None);
        };
        let options = SqliteConnectOptions::from_str(url)
            .context("parsing the SQLite URL")?
            .busy_timeout(CHECKPOINT_BUSY_TIMEOUT)
            .disable_statement_logging();
        let mut wal = file.into_os_string();
        wal.push("-wal");
        let connection = options
            .connect()
            .await
            .context("opening the checkpoint connection")?;
        Ok(Some(Self {
            connection,
            wal: PathBuf::from(wal),
            threshold: DEFAULT_WAL_THRESHOLD,
            last_size: 0,
        }))
    }

    /// The same checkpointer truncating past `bytes` instead.
    pub fn with_threshold(mut self, bytes: u64) -> Self {
        self.threshold = bytes;
        self
    }

    /// The WAL file's size now (0 when there is none).
    pub fn wal_size(&self) -> u64 {
        std::fs::metadata(&self.wal).map_or(0, |metadata| metadata.len())
    }

    /// Truncates the WAL if it passed the threshold, or if it holds frames and did
    /// not change since the previous look (the writes stopped); what the checkpoint
    /// did, or `None` when there was nothing to do.
    pub async fn run_once(&mut self) -> anyhow::Result<Option<Checkpoint>> {
        let size = self.wal_size();
        let idle = size > 0 && size == self.last_size;
        self.last_size = size;
        if size <= self.threshold && !idle {
            return Ok(None);
        }
        let (busy, log_frames, checkpointed_frames): (i64, i64, i64) =
            sea_orm::sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut self.connection)
                .await
                .context("running PRAGMA wal_checkpoint(TRUNCATE)")?;
        let checkpoint = Checkpoint {
            busy: busy != 0,
            log_frames,
            checkpointed_frames,
        };
        self.last_size = self.wal_size();
        tracing::info!(
            wal_bytes_before = size,
            wal_bytes_after = self.last_size,
            busy = checkpoint.busy,
            log_frames,
            checkpointed_frames,
            "checkpointed the SQLite write-ahead log"
        );
        Ok(Some(checkpoint))
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.connection.close().await;
    }
}
