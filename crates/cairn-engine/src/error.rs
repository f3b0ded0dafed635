//! The engine's error type: every lower error, with a stable code for scripts and the UI.

/// A failure of a library operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The embedding model could not be found or loaded.
    #[error("{0}")]
    Model(#[from] cairn_models::Error),
    /// A default model was not found.
    #[error(
        "no {what} model found; looked in: {tried}. Run scripts/fetch-models, or set {setting} in {config}"
    )]
    NoModel {
        /// Which model.
        what: &'static str,
        /// The setting that names it.
        setting: String,
        /// The places searched.
        tried: String,
        /// The config file to edit.
        config: String,
    },
    /// The index refused or failed an operation.
    #[error("{0}")]
    Index(#[from] cairn_index::Error),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] cairn_store::Error),
    /// The config file is invalid.
    #[error("{path}: {reason}")]
    Config {
        /// The config file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A folder could not be watched for changes.
    #[error("cannot watch {path}: {reason}")]
    Watch {
        /// The folder.
        path: String,
        /// Why (no such folder, the system's limit on watches, …).
        reason: String,
    },
    /// The named collection does not exist.
    #[error("there is no collection named '{0}'")]
    NoSuchCollection(String),
    /// No model of the library has this name.
    #[error("there is no model called '{0}'; `cairn models list` shows them")]
    NoSuchModel(String),
    /// The model catalog, a download or a GGUF file failed.
    #[error("{0}")]
    Catalog(#[from] cairn_catalog::CatalogError),
    /// A request that cannot be served as given (an empty question, an unknown thread).
    #[error("{0}")]
    InvalidInput(String),
    /// A cloud provider could not be set up or asked (keys, keychain).
    #[error("{0}")]
    Provider(#[from] cairn_providers::ProviderError),
    /// A shared collection's store or key could not be used.
    #[error("{0}")]
    SharedCollection(String),
    /// A background task failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// A document could not be read or drawn.
    #[error("{0}")]
    Document(#[from] cairn_ingest::ParseError),
}

impl Error {
    /// A stable, machine-readable identifier.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Model(_) => "model",
            Error::NoModel { .. } => "no_model",
            Error::Index(cairn_index::Error::ModelMismatch { .. }) => "model_mismatch",
            Error::Index(cairn_index::Error::InvalidName(_)) => "invalid_collection",
            Error::Index(_) => "index",
            Error::Store(cairn_store::Error::NoSuchTrace(_)) => "no_such_trace",
            Error::Store(cairn_store::Error::NoSuchReview(_)) => "no_such_review",
            Error::Store(cairn_store::Error::AlreadyDecided { .. }) => "already_decided",
            Error::Store(_) => "store",
            Error::Config { .. } => "config",
            Error::Io { .. } => "io",
            Error::NoSuchCollection(_) => "no_such_collection",
            Error::NoSuchModel(_) => "no_such_model",
            Error::Catalog(e) => e.code(),
            Error::Watch { .. } => "watch",
            Error::InvalidInput(_) => "invalid_input",
            Error::Provider(e) => e.code(),
            Error::SharedCollection(_) => "shared_collection",
            Error::Internal(_) => "internal",
            Error::Document(e) => e.code(),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
