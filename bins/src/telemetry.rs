//! Logging: JSON lines on stdout (one per request from the HTTP edge, plus events),
//! filtered by `RUST_LOG` (default `info`, with sqlx and sea-orm quieter).
//!
//! Each line is one JSON object — `timestamp` (RFC 3339 UTC, microseconds), `level`,
//! the event's fields (`message` first), `target` — formatted by [`JsonLines`] (see
//! there why it is not tracing-subscriber's JSON formatter). Lines go through
//! tracing-appender's non-blocking writer: requests hand a line to a channel and a
//! writer thread writes them to stdout in batches, so no request waits for stdout.
//! Should stdout fall [`BUFFERED_LINES`] lines behind, further lines are dropped
//! rather than blocking requests; a warning line reports how many.

mod json_lines;

pub use json_lines::JsonLines;

use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Lines that may wait for stdout before further ones are dropped.
const BUFFERED_LINES: usize = 32_768;
/// How often dropped lines are reported.
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// Keeps the log writer running; dropping it writes what is still pending.
#[must_use = "logs stop being written when the guard is dropped"]
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
    reporter: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some((stopping, reporter)) = self.reporter.take() {
            stopping.store(true, Ordering::Release);
            reporter.thread().unpark();
            let _ = reporter.join();
        }
    }
}

/// Installs the JSON subscriber; does nothing (and returns an idle guard) when a
/// subscriber is installed already.
pub fn init() -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LINES)
        .lossy(true)
        .thread_name("emporium-log")
        .finish(BufWriter::with_capacity(64 * 1024, std::io::stdout()));
    let dropped = writer.error_counter();
    let installed = tracing_subscriber::fmt()
        .event_format(JsonLines)
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init();
    if installed.is_err() {
        return LogGuard {
            _writer: None,
            reporter: None,
        };
    }
    LogGuard {
        _writer: Some(guard),
        reporter: report_dropped(dropped),
    }
}

/// A thread that reports, every few seconds, lines dropped since the last report.
fn report_dropped(dropped: ErrorCounter) -> Option<(Arc<AtomicBool>, JoinHandle<()>)> {
    let stopping = Arc::new(AtomicBool::new(false));
    let stop = stopping.clone();
    let reporter = std::thread::Builder::new()
        .name("emporium-log-drops".into())
        .spawn(move || {
            let mut reported = 0;
            while !stop.load(Ordering::Acquire) {
                std::thread::park_timeout(REPORT_EVERY);
                let total = dropped.dropped_lines();
                if total > reported {
                    // Written past the full channel, straight to stdout.
                    let _ = writeln!(
                        std::io::stdout(),
                        r#"{{"level":"WARN","message":"log lines dropped: stdout is too slow","dropped":{},"target":"emporium::telemetry"}}"#,
                        total - reported
                    );
                    reported = total;
                }
            }
        })
        .ok()?;
    Some((stopping, reporter))
}
