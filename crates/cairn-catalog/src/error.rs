//! Why a download, a look at a GGUF file or the catalog failed, with a stable code for each.

/// A failure of this crate.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The server has no such repository, revision or file (404).
    #[error("{url} was not found (404): check the repository and file name")]
    NotFound {
        /// What was asked for.
        url: String,
    },
    /// The connection could not be made, or dropped before the whole file arrived. What arrived is
    /// kept, and the next download resumes from it.
    #[error(
        "the connection to {host} failed after {kept} bytes: {detail}. Run the download again to resume"
    )]
    Connection {
        /// The server.
        host: String,
        /// Bytes of the file kept on disk.
        kept: u64,
        /// The cause.
        detail: String,
    },
    /// The server sent more or fewer bytes than it said the file holds. Nothing is kept.
    #[error(
        "the server said the file holds {expected} bytes but sent {received}; nothing was kept"
    )]
    LengthMismatch {
        /// The size stated.
        expected: u64,
        /// The bytes received (at least, when more were sent).
        received: u64,
    },
    /// The file's SHA-256 is not the one expected. The file is deleted.
    #[error("the file's SHA-256 is {actual}, not the expected {expected}; it was deleted")]
    HashMismatch {
        /// The hash expected (the catalog's, or the one the server stated).
        expected: String,
        /// The hash of what arrived, or the one the server states now.
        actual: String,
    },
    /// Not enough free disk space for the file.
    #[error(
        "not enough free space in {dir}: the download needs {needed} bytes and {available} are free"
    )]
    NoSpace {
        /// Where the file would go.
        dir: String,
        /// Bytes still to download.
        needed: u64,
        /// Bytes free there.
        available: u64,
    },
    /// The download was cancelled. What arrived is kept, and the next download resumes from it.
    #[error("the download was cancelled after {kept} bytes; run it again to resume")]
    Cancelled {
        /// Bytes of the file kept on disk.
        kept: u64,
    },
    /// The server answered with another status.
    #[error("{url} answered {status}")]
    Http {
        /// What was asked for.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The endpoint is not a URL models may be downloaded from.
    #[error("{0}")]
    Endpoint(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a GGUF model Cairn can read.
    #[error("{path} is not a GGUF model: {reason}")]
    NotGguf {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A catalog file cannot be read as a catalog.
    #[error("the catalog {path} cannot be used: {reason}")]
    InvalidCatalog {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// No catalog entry has this id.
    #[error("there is no model '{0}' in the catalog; `cairn models list` shows them")]
    UnknownModel(String),
}

impl CatalogError {
    /// A stable, machine-readable identifier.
    pub fn code(&self) -> &'static str {
        match self {
            CatalogError::NotFound { .. } => "not_found",
            CatalogError::Connection { .. } => "connection",
            CatalogError::LengthMismatch { .. } => "length_mismatch",
            CatalogError::HashMismatch { .. } => "hash_mismatch",
            CatalogError::NoSpace { .. } => "no_space",
            CatalogError::Cancelled { .. } => "cancelled",
            CatalogError::Http { .. } => "http",
            CatalogError::Endpoint(_) => "endpoint",
            CatalogError::Io { .. } => "io",
            CatalogError::NotGguf { .. } => "not_gguf",
            CatalogError::InvalidCatalog { .. } => "invalid_catalog",
            CatalogError::UnknownModel(_) => "unknown_model",
        }
    }

    /// An [`CatalogError::Io`] about `path`.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> CatalogError {
        CatalogError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// This crate's result type.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;
