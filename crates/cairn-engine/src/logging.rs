//! Logging for the shells: one subscriber, the same filter for the command and the app.

/// What is logged when `CAIRN_LOG` is unset: warnings, and errors only from the index and PDF
/// crates, which warn about every odd file they read.
const DEFAULT_FILTER: &str = "warn,lance=error,lancedb=error,lopdf=error,pdf_extract=error";

/// Sends `tracing` events to stderr, filtered by `CAIRN_LOG` (`CAIRN_LOG=debug` for more). Called
/// once, at start-up; a second call changes nothing.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
