//! The store's error type.

/// A failure of the SQLite store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer Cairn.
    #[error(
        "the database is at schema version {found}, newer than this Cairn understands ({supported}); upgrade Cairn"
    )]
    TooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The named collection does not exist.
    #[error("there is no collection named '{0}'")]
    NoSuchCollection(String),
    /// No trace has this id.
    #[error("there is no trace {0}")]
    NoSuchTrace(i64),
    /// No queued answer has this id.
    #[error("there is no answer {0} in the review queue")]
    NoSuchReview(i64),
    /// The queued answer was decided already.
    #[error("answer {id} in the review queue was already {status}")]
    AlreadyDecided {
        /// Its id.
        id: i64,
        /// What was decided.
        status: String,
    },
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
