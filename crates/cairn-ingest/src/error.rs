//! Why a file could not be read.

use std::time::Duration;

/// A file that could not be turned into text. Each variant names the cause in words a person can act on;
/// [`ParseError::code`] gives a stable identifier for scripts and the UI.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The file holds no bytes, or no text after parsing.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than the configured limit.
    #[error("the file is {size} bytes, larger than the {limit}-byte limit (ingest.max_file_bytes)")]
    TooLarge {
        /// Size of the file in bytes.
        size: u64,
        /// The configured limit in bytes.
        limit: u64,
    },
    /// The extension is not one Cairn reads.
    #[error("files of type '{0}' are not supported")]
    Unsupported(String),
    /// The content does not match what the extension promises (e.g. a binary file named `.md`).
    #[error("the file does not look like {expected}: {detail}")]
    WrongFormat {
        /// The format the extension promised.
        expected: &'static str,
        /// What was found instead.
        detail: String,
    },
    /// The document is encrypted or password-protected.
    #[error("the document is encrypted or password-protected")]
    Encrypted,
    /// The file is damaged or truncated.
    #[error("the file is damaged or truncated: {0}")]
    Corrupt(String),
    /// An archive (DOCX, EPUB) would expand beyond the configured limit.
    #[error(
        "the archive expands to more than {limit} bytes (ingest.max_archive_bytes); refusing to unpack it"
    )]
    ArchiveTooLarge {
        /// The configured limit in bytes.
        limit: u64,
    },
    /// The parser did not finish in time.
    #[error("parsing took longer than {0:?} and was abandoned")]
    Timeout(Duration),
    /// The parser crashed on this file.
    #[error("the parser crashed on this file: {0}")]
    ParserCrashed(String),
    /// The parse worker reached its memory limit and was stopped.
    #[error(
        "parsing needed more than {} MB of memory (ingest.max_parse_memory_bytes) and was stopped",
        limit / (1024 * 1024)
    )]
    MemoryLimit {
        /// The limit in bytes.
        limit: u64,
    },
    /// A PDF whose pages are scanned images, with no text layer, that OCR could not read.
    #[error("{pages} scanned with no text layer, and {why}")]
    NeedsOcr {
        /// "page 1 is" or "pages 1-3 are".
        pages: String,
        /// Why OCR did not read them.
        why: &'static str,
    },
    /// Drawing a PDF page needs PDFium, which this installation lacks.
    #[error("drawing PDF pages needs PDFium, which is not installed (README: \"PDF engine\")")]
    NoPdfEngine,
    /// A failure a parse worker reported from its own process: its code and its sentence.
    #[error("{message}")]
    Reported {
        /// The failure's [`ParseError::code`] in the worker.
        code: &'static str,
        /// What the worker said.
        message: String,
    },
    /// The file could not be read from disk.
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
}

impl ParseError {
    /// A stable, machine-readable identifier for the failure.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty",
            ParseError::TooLarge { .. } => "too_large",
            ParseError::Unsupported(_) => "unsupported",
            ParseError::WrongFormat { .. } => "wrong_format",
            ParseError::Encrypted => "encrypted",
            ParseError::Corrupt(_) => "corrupt",
            ParseError::ArchiveTooLarge { .. } => "archive_too_large",
            ParseError::Timeout(_) => "timeout",
            ParseError::ParserCrashed(_) => "parser_crashed",
            ParseError::MemoryLimit { .. } => "memory_limit",
            ParseError::NoPdfEngine => "no_pdf_engine",
            ParseError::NeedsOcr { .. } => "needs_ocr",
            ParseError::Reported { code, .. } => code,
            ParseError::Io(_) => "io",
        }
    }

    /// The failure a worker reported as `code` and `message`, as this process's error. An unknown
    /// code (from a worker of another version) reads as a crash.
    pub(crate) fn reported(code: &str, message: String) -> ParseError {
        let code = CODES
            .iter()
            .find(|known| **known == code)
            .copied()
            .unwrap_or("parser_crashed");
        ParseError::Reported { code, message }
    }
}

/// Every [`ParseError::code`].
const CODES: [&str; 13] = [
    "empty",
    "too_large",
    "unsupported",
    "wrong_format",
    "encrypted",
    "corrupt",
    "archive_too_large",
    "timeout",
    "parser_crashed",
    "memory_limit",
    "no_pdf_engine",
    "needs_ocr",
    "io",
];
