//! Logging: JSON lines on stdout (one per request from the HTTP edge, plus events),
//! filtered by `RUST_LOG` (default `info`, with sqlx and sea-orm quieter).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber; does nothing when one is installed already.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        .with_env_filter(filter)
        .try_init();
}
