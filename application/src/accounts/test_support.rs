//! Fixtures shared by the account use-case tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use emporium_domain::accounts::{DisplayName, Email, NewUser, Password, PasswordHash, User};
use emporium_domain::{MockIdGenerator, Role, UserId};
use uuid::Uuid;

pub use crate::catalog::test_support::{clock, now};

/// Ids 100, 101, 102, … in order.
pub fn ids() -> Arc<MockIdGenerator> {
    let next = AtomicU64::new(100);
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id()
        .returning(move || Uuid::from_u128(u128::from(next.fetch_add(1, Ordering::SeqCst))));
    Arc::new(ids)
}

pub fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        name: DisplayName::new("Ada").unwrap(),
        password: Password::new("correct horse battery").unwrap(),
    }
}

pub fn user(id: u128, role: Role, active: bool) -> User {
    User {
        id: UserId(Uuid::from_u128(id)),
        email: Email::parse("ada@example.com").unwrap(),
        name: DisplayName::new("Ada").unwrap(),
        role,
        active,
        email_verified: true,
        password_hash: PasswordHash::new("$argon2id$stored"),
        created_at: now(),
        updated_at: now(),
    }
}

/// What every test of this binary logs, in tracing-subscriber's plain format
/// (`role=admin`). One global subscriber, installed by the first call: a per-thread
/// one (`set_default`) can miss events while tests on other threads register theirs.
pub fn captured_logs() -> &'static CapturedLogs {
    static LOGS: std::sync::OnceLock<CapturedLogs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the application's tests");
        CapturedLogs { lines }
    })
}

/// The log lines of the test binary ([`captured_logs`]).
pub struct CapturedLogs {
    lines: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl CapturedLogs {
    /// Whether a line logged so far contains every one of `parts`.
    pub fn has_line(&self, parts: &[&str]) -> bool {
        let text = String::from_utf8_lossy(&self.lines.lock().unwrap()).into_owned();
        text.lines()
            .any(|line| parts.iter().all(|part| line.contains(part)))
    }
}

struct LogSink(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
