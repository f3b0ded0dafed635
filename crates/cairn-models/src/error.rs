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
