//! The clock port: where "now" comes from, so tests can fix it.

use chrono::{DateTime, Utc};

/// Tells the current time.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current instant in UTC.
    fn now(&self) -> DateTime<Utc>;
}
