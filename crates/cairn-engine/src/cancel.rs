//! Cancelling long work: indexing, an answer being generated, a folder being watched.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Stops a long operation from another thread or task. Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that has not fired.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Fires the token.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the token has fired.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The flag itself, for code that polls it.
    pub fn flag(&self) -> &AtomicBool {
        &self.0
    }
}
