//! Logging: JSON lines on stdout (one per request from the HTTP edge, plus events),
//! filtered by `RUST_LOG` (default `info`, with sqlx and sea-orm quieter).
//!
//! Each line is one JSON object: `timestamp`, `level`, the event's fields (`message`
//! first), `target` — the shape of tracing-subscriber's flattened JSON format, written
//! by [`JsonLines`] straight into the output buffer without building a map of values
//! per event (the request log line is on the hot path).
//!
//! Lines are formatted on the request's thread into a shared in-memory batch; a
//! background thread writes the batch to stdout every 20 ms (and when the process
//! stops). No request ever waits for stdout, and no thread is woken per line. Should
//! stdout fall more than 8 MiB behind, further lines are dropped (and counted)
//! rather than blocking requests.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

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

/// Formats an event as one JSON object per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\"", metadata.level())?;
        let mut fields = JsonFields {
            writer: &mut writer,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_str(",\"target\":")?;
        write_json_str(&mut writer, metadata.target())?;
        writer.write_str("}\n")
    }
}

/// Writes each field as `,"name":value`.
struct JsonFields<'w, 'a> {
    writer: &'w mut Writer<'a>,
    result: fmt::Result,
}

impl JsonFields<'_, '_> {
    fn entry(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = (|| {
                self.writer.write_str(",")?;
                write_json_str(self.writer, field.name())?;
                self.writer.write_str(":")?;
                value(self.writer)
            })();
        }
    }
}

impl Visit for JsonFields<'_, '_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.entry(field, |w| {
            if value.is_finite() {
                write!(w, "{value}")
            } else {
                w.write_str("null")
            }
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, |w| write!(w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, |w| write!(w, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, |w| write!(w, "{value}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, |w| write_json_str(w, value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.entry(field, |w| {
            w.write_str("\"")?;
            write!(JsonEscaper(w), "{value}")?;
            w.write_str("\"")
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.entry(field, |w| {
            w.write_str("\"")?;
            write!(JsonEscaper(w), "{value:?}")?;
            w.write_str("\"")
        });
    }
}

fn write_json_str(writer: &mut impl fmt::Write, text: &str) -> fmt::Result {
    writer.write_str("\"")?;
    JsonEscaper(writer).write_str(text)?;
    writer.write_str("\"")
}

/// Escapes what is written for the inside of a JSON string.
struct JsonEscaper<'w, W: fmt::Write + ?Sized>(&'w mut W);

impl<W: fmt::Write + ?Sized> fmt::Write for JsonEscaper<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut start = 0;
        for (index, byte) in text.bytes().enumerate() {
            let escape: Option<&str> = match byte {
                b'"' => Some("\\\""),
                b'\\' => Some("\\\\"),
                b'\n' => Some("\\n"),
                b'\r' => Some("\\r"),
                b'\t' => Some("\\t"),
                0..=0x1f => None,
                _ => continue,
            };
            self.0.write_str(&text[start..index])?;
            match escape {
                Some(escaped) => self.0.write_str(escaped)?,
                None => write!(self.0, "\\u{byte:04x}")?,
            }
            start = index + 1;
        }
        self.0.write_str(&text[start..])
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

    #[test]
    fn escaping() {
        let mut out = String::new();
        write_json_str(&mut out, "a\"b\\c\nd\u{1}é").unwrap();
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn events_become_json_objects() {
        let batch = Arc::new(Batch::default());
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonLines)
            .with_writer(BatchWriter(batch.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let error = std::io::Error::other("disk \"full\"");
            tracing::info!(target: "emporium::http", method = "GET", path = "/v1/x", status = 200u16, latency_ms = 1.5, request_id = %"r-1", "request");
            tracing::warn!(
                error = &error as &(dyn std::error::Error + 'static),
                count = -3i64,
                ok = true,
                nan = f64::NAN,
                "odd {}",
                "message"
            );
        });
        let mut out = Vec::new();
        batch.flush_to(&mut out, &mut Vec::new());
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let request = &lines[0];
        assert_eq!(request["level"], "INFO");
        assert_eq!(request["message"], "request");
        assert_eq!(request["method"], "GET");
        assert_eq!(request["status"], 200);
        assert_eq!(request["latency_ms"], 1.5);
        assert_eq!(request["request_id"], "r-1");
        assert_eq!(request["target"], "emporium::http");
        assert!(request["timestamp"].as_str().unwrap().ends_with('Z'));
        let odd = &lines[1];
        assert_eq!(odd["message"], "odd message");
        assert_eq!(odd["error"], "disk \"full\"");
        assert_eq!(odd["count"], -3);
        assert_eq!(odd["ok"], true);
        assert_eq!(odd["nan"], serde_json::Value::Null);
    }
}
