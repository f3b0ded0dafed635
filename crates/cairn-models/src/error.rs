//! The models crate's error type.

use std::path::PathBuf;

/// A model that could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file the model needs is missing.
    #[error("{path} is missing: {hint}")]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
        /// What to do about it.
        hint: &'static str,
    },
    /// A model file exists but could not be read or understood.
    #[error("{path} could not be loaded: {reason}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The tokenizer failed on some input.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The tensor computation failed.
    #[error("model computation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

/// The models crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `dir/name` if it is a file, or [`Error::MissingFile`] with `hint`.
pub(crate) fn model_file(dir: &std::path::Path, name: &str, hint: &'static str) -> Result<PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::MissingFile { path, hint })
    }
}

/// [`Error::BadFile`] for `path`.
pub(crate) fn bad_file(path: &std::path::Path, reason: impl std::fmt::Display) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}
