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
//! The timestamp reuses its date-and-time text within one second (per thread),
//! numbers are written with `itoa` (and latencies with three decimals by integer
//! arithmetic), and strings that need no escaping are copied in one piece: about
//! 4,000 instructions less per request line than `write!` and chrono formatting.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
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
        write_timestamp(&mut writer, SystemTime::now())?;
        writer.write_str("\",\"level\":\"")?;
        writer.write_str(metadata.level().as_str())?;
        writer.write_str("\"")?;
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
            // Field names are nearly always identifiers: nothing to escape.
            self.result = (|| {
                let name = field.name();
                if name.bytes().any(|byte| NEEDS_ESCAPE[usize::from(byte)]) {
                    self.writer.write_str(",")?;
                    write_json_str(self.writer, name)?;
                    self.writer.write_str(":")?;
                } else {
                    self.writer.write_str(",\"")?;
                    self.writer.write_str(name)?;
                    self.writer.write_str("\":")?;
                }
                value(self.writer)
            })();
        }
    }
}

impl Visit for JsonFields<'_, '_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.entry(field, |w| write_f64(w, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, |w| w.write_str(if value { "true" } else { "false" }));
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

/// `at` as RFC 3339 UTC with microseconds (`2026-11-30T12:00:00.000123Z`).
fn write_timestamp(writer: &mut impl fmt::Write, at: SystemTime) -> fmt::Result {
    thread_local! {
        /// The second last written by this thread, and its text up to the seconds.
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let since_epoch = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    SECOND.with(|cell| {
        let mut second = cell.borrow_mut();
        if second.0 != seconds {
            let text = i64::try_from(seconds)
                .ok()
                .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string();
            *second = (seconds, text);
        }
        writer.write_str(&second.1)
    })?;
    let mut fraction = *b".000000Z";
    let mut micros = since_epoch.subsec_micros();
    for digit in fraction[1..7].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    writer.write_str(std::str::from_utf8(&fraction).map_err(|_| fmt::Error)?)
}

/// A JSON number; `null` when not finite. Values with at most three decimals (the
/// latencies in milliseconds, from whole microseconds) are written by integer
/// arithmetic, as `Display` would write them; others through `Display`.
fn write_f64(writer: &mut impl fmt::Write, value: f64) -> fmt::Result {
    if !value.is_finite() {
        return writer.write_str("null");
    }
    let thousandths = (value * 1000.0).round();
    if thousandths.abs() >= 1e15 || thousandths / 1000.0 != value {
        return write!(writer, "{value}");
    }
    let thousandths = thousandths as i64;
    if thousandths < 0 {
        writer.write_str("-")?;
    }
    let (whole, mut fraction) = (
        thousandths.unsigned_abs() / 1000,
        thousandths.unsigned_abs() % 1000,
    );
    writer.write_str(itoa::Buffer::new().format(whole))?;
    if fraction != 0 {
        let mut digits = [b'0'; 3];
        for digit in digits.iter_mut().rev() {
            *digit = b'0' + (fraction % 10) as u8;
            fraction /= 10;
        }
        let used = digits
            .iter()
            .rposition(|&digit| digit != b'0')
            .map_or(0, |i| i + 1);
        writer.write_str(".")?;
        writer.write_str(std::str::from_utf8(&digits[..used]).map_err(|_| fmt::Error)?)?;
    }
    Ok(())
}

fn write_json_str(writer: &mut impl fmt::Write, text: &str) -> fmt::Result {
    writer.write_str("\"")?;
    JsonEscaper(writer).write_str(text)?;
    writer.write_str("\"")
}

/// Escapes what is written for the inside of a JSON string.
struct JsonEscaper<'w, W: fmt::Write + ?Sized>(&'w mut W);

/// The bytes a JSON string cannot hold as they are.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

impl<W: fmt::Write + ?Sized> fmt::Write for JsonEscaper<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let bytes = text.as_bytes();
        let mut start = 0;
        while let Some(offset) = bytes[start..]
            .iter()
            .position(|&byte| NEEDS_ESCAPE[usize::from(byte)])
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
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let at = UNIX_EPOCH + std::time::Duration::from_micros(1_796_040_000_000_042);
        for _ in 0..2 {
            let mut out = String::new();
            write_timestamp(&mut out, at).unwrap();
            assert_eq!(out, "2026-11-30T12:00:00.000042Z");
        }
        let mut out = String::new();
        write_timestamp(&mut out, at + std::time::Duration::from_millis(1500)).unwrap();
        assert_eq!(out, "2026-11-30T12:00:01.500042Z");
    }

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        for value in [
            0.0, 1.5, 2.0, 0.001, 12.345, -3.25, 1234.5, 0.1234, 1e-7, 1e20, 3.0e14,
        ] {
            let mut out = String::new();
            write_f64(&mut out, value).unwrap();
            assert_eq!(out, value.to_string(), "{value}");
        }
        let mut out = String::new();
        write_f64(&mut out, f64::INFINITY).unwrap();
        assert_eq!(out, "null");
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
                "odd\"name" = 1u64,
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
        assert_eq!(odd["odd\"name"], 1);
        assert_eq!(odd["ok"], true);
        assert_eq!(odd["nan"], serde_json::Value::Null);
    }
}
