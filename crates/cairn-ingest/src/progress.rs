//! How far a parse has got, for a progress display: pages read of a paged document.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Pages read so far of a paged document (PDF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseProgress {
    /// Pages read.
    pub done: u32,
    /// Pages in the document.
    pub total: u32,
    /// The last page read was a scan, read by OCR.
    pub ocr: bool,
}

/// Where a parse reports its progress. Called on the parser's thread (or, for a parse in a worker
/// process, on the thread reading the worker's reply), often: keep it cheap.
pub type OnParseProgress = Arc<dyn Fn(ParseProgress) + Send + Sync>;

/// A sink that drops what it is told.
pub fn ignore_progress() -> OnParseProgress {
    Arc::new(|_| {})
}
