//! The one failure every port can have that is nobody's fault: a dependency that
//! cannot be reached right now.

/// A dependency — a database, a cache, another service — could not be reached or did
/// not answer in time: connection refused, a pool with no free connection, a server
/// that went away. Retrying later may succeed; nothing about the request was wrong.
///
/// Adapters return it as the `Unavailable` variant of their port's error (or as the
/// cause inside one); use cases keep it in the error chain, and the HTTP edge answers
/// 503 with `Retry-After` instead of 500
/// (see `emporium_application::failure::is_unavailable`).
#[derive(Debug, thiserror::Error)]
#[error("{what} is unavailable")]
pub struct Unavailable {
    what: &'static str,
    #[source]
    cause: anyhow::Error,
}

impl Unavailable {
    /// `what` (e.g. `"the database"`) could not be used because of `cause`.
    pub fn new(what: &'static str, cause: impl Into<anyhow::Error>) -> Self {
        Self {
            what,
            cause: cause.into(),
        }
    }

    /// What was unavailable.
    pub fn what(&self) -> &'static str {
        self.what
    }
}
