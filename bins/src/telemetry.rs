//! Logging: JSON lines on stdout (one per request from the HTTP edge, plus events),
//! filtered by `RUST_LOG` (default `info`, with sqlx and sea-orm quieter).
//!
//! Each line is one JSON object — `timestamp` (RFC 3339 UTC, microseconds), `level`,
//! the event's fields (`message` first), `target` — formatted by [`JsonLines`] (see
//! there why it is not tracing-subscriber's JSON formatter).
//!
//! Lines are formatted on the request's thread into a shared in-memory batch; a
//! background thread writes the batch to stdout every 20 ms (and when the process
//! stops). No request ever waits for stdout, and no thread is woken per line. Should
//! stdout fall more than 8 MiB behind, further lines are dropped (and counted)
//! rather than blocking requests.
//!
//! Why not tracing-appender's non-blocking writer: it hands each line to a channel
//! and wakes its writer thread for it, and under load that costs 8 % of the cached
//! read's throughput (interleaved wrk runs in docs/benchmarks.md; the per-request
//! instruction counts are the same, the difference is the wake-ups).

mod json_lines;

pub use json_lines::JsonLines;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How often the batch is written out.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// The most bytes waiting to be written before lines are dropped.
const MAX_PENDING_BYTES: usize = 8 * 1024 * 1024;

/// Lines waiting for the writer thread.
#[derive(Default)]
struct Batch {
    pending: Mutex<Vec<u8>>,
    dropped: AtomicU64,
    stopping: AtomicBool,
}

impl Batch {
    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes what is pending to `out` (errors are ignored: there is nowhere to
    /// report them).
    fn flush_to(&self, out: &mut impl Write, spare: &mut Vec<u8>) {
        {
            let mut pending = self.lock();
            std::mem::swap(&mut *pending, spare);
        }
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let _ = writeln!(
                out,
                r#"{{"level":"WARN","message":"log lines dropped: stdout is too slow","dropped":{dropped},"target":"emporium::telemetry"}}"#
            );
        }
        if !spare.is_empty() {
            let _ = out.write_all(spare);
            let _ = out.flush();
            spare.clear();
        }
    }
}

/// The `MakeWriter` handed to tracing-subscriber: appends each formatted line to the
/// batch.
#[derive(Clone)]
struct BatchWriter(Arc<Batch>);

impl Write for BatchWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.0.lock();
        if pending.len() + line.len() > MAX_PENDING_BYTES {
            drop(pending);
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            pending.extend_from_slice(line);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = BatchWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Keeps the log writer running; dropping it writes what is still pending.
#[must_use = "logs stop being written when the guard is dropped"]
pub struct LogGuard {
    batch: Option<Arc<Batch>>,
    writer: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some(batch) = &self.batch {
            batch.stopping.store(true, Ordering::Release);
        }
        if let Some(writer) = self.writer.take() {
            writer.thread().unpark();
            let _ = writer.join();
        }
    }
}

/// Installs the JSON subscriber; does nothing (and returns an idle guard) when a
/// subscriber is installed already.
pub fn init() -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let batch = Arc::new(Batch::default());
    let installed = tracing_subscriber::fmt()
        .event_format(JsonLines)
        .with_env_filter(filter)
        .with_writer(BatchWriter(batch.clone()))
        .try_init();
    if installed.is_err() {
        return LogGuard {
            batch: None,
            writer: None,
        };
    }
    let writer = {
        let batch = batch.clone();
        std::thread::Builder::new()
            .name("emporium-log".into())
            .spawn(move || {
                let mut spare = Vec::with_capacity(64 * 1024);
                let stdout = std::io::stdout();
                loop {
                    let stopping = batch.stopping.load(Ordering::Acquire);
                    batch.flush_to(&mut stdout.lock(), &mut spare);
                    if stopping {
                        break;
                    }
                    std::thread::park_timeout(FLUSH_EVERY);
                }
            })
            .ok()
    };
    LogGuard {
        batch: Some(batch),
        writer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_batched_and_overflow_is_counted() {
        let batch = Arc::new(Batch::default());
        let mut writer = BatchWriter(batch.clone());
        writer.write_all(b"{\"a\":1}\n").unwrap();
        writer.write_all(b"{\"b\":2}\n").unwrap();
        let huge = vec![b'x'; MAX_PENDING_BYTES];
        writer.write_all(&huge).unwrap();
        let mut out = Vec::new();
        let mut spare = Vec::new();
        batch.flush_to(&mut out, &mut spare);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"dropped\":1"));
        assert!(text.ends_with("{\"a\":1}\n{\"b\":2}\n"));
        let mut again = Vec::new();
        batch.flush_to(&mut again, &mut spare);
        assert!(again.is_empty());
    }
}
