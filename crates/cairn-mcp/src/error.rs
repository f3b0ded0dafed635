//! The crate's error.

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The transport failed to start or broke.
    #[error("the MCP connection failed: {0}")]
    Transport(String),
}
