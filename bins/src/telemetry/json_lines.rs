//! The JSON line of one event: `timestamp` (RFC 3339 UTC, microseconds), `level`,
//! the event's fields (`message` first), `target` — the shape of tracing-subscriber's
//! flattened JSON format.
//!
//! Written by hand because it is on the hot path, one line per request: with
//! tracing-subscriber's own JSON formatter (which serialises through serde_json and
//! an `io::Write` adaptor that re-checks every chunk as UTF-8) a cached
//! `GET /v1/products/{id}` costs about 10,000 more CPU instructions, 12 % of the whole
//! request (callgrind, `scripts/bench-instructions`; figures in docs/benchmarks.md).
//! Lines still go through tracing-subscriber (filtering, the formatting layer).

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

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
        let bytes = text.as_bytes();
        let mut start = 0;
        while let Some(offset) = bytes[start..]
            .iter()
            .position(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
        {
            let index = start + offset;
            self.0.write_str(&text[start..index])?;
            match bytes[index] {
                b'"' => self.0.write_str("\\\"")?,
                b'\\' => self.0.write_str("\\\\")?,
                b'\n' => self.0.write_str("\\n")?,
                b'\r' => self.0.write_str("\\r")?,
                b'\t' => self.0.write_str("\\t")?,
                control => write!(self.0, "\\u{control:04x}")?,
            }
            start = index + 1;
        }
        self.0.write_str(&text[start..])
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
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
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonLines)
            .with_writer(move || writer.clone())
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
        let out = lines.0.lock().unwrap().clone();
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
