//! The index crate's error type.

/// A failure of the passage index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The collection's table holds vectors of another embedding model.
    #[error(
        "collection '{collection}' was indexed with {indexed}, not {requested}; vectors of two models cannot be mixed. \
         Run `cairn reindex --collection {collection}` to rebuild it with {requested}"
    )]
    ModelMismatch {
        /// The collection.
        collection: String,
        /// The model the table was built with.
        indexed: String,
        /// The model that tried to open it.
        requested: String,
    },
    /// A collection name that cannot be used.
    #[error("'{0}' is not a valid collection name: use 1-64 letters, digits, '-' or '_'")]
    InvalidName(String),
    /// A vector of the wrong length.
    #[error("a vector has {got} dimensions; this collection's model makes {want}")]
    Dimension {
        /// What the model makes.
        want: usize,
        /// What was given.
        got: usize,
    },
    /// A shared collection's location or endpoint that cannot be used.
    #[error("{0}")]
    Location(String),
    /// An offline copy could not be made, brought up to date or read.
    #[error("offline copy: {0}")]
    OfflineCopy(String),
    /// A write to a table opened only for reading (an offline copy).
    #[error("collection '{0}' is open read-only here (an offline copy): it cannot be changed")]
    ReadOnly(String),
    /// LanceDB reported an error.
    #[error("index error: {0}")]
    Lance(#[from] lancedb::Error),
    /// Arrow data could not be built or read.
    #[error("index data error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The table's data did not have the expected shape.
    #[error("index data error: {0}")]
    Schema(String),
}

/// The index crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
