//! Format detection and the isolated parser runner.

mod docx;
mod epub;
mod html;
mod markdown;
mod pdf;
mod text;
mod zip_limits;

use std::any::Any;
use std::path::Path;
use std::sync::Once;
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::document::{Document, DocumentKind, Section, Splitting};
use crate::error::ParseError;
use crate::progress::{OnParseProgress, ParseProgress};

pub use pdf::{
    RenderedPage, Tesseract, pdfium_library, render_page, tesseract, use_pdfium, use_tesseract,
};

/// Bounds that keep one hostile or huge file from taking the whole ingest down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParseLimits {
    /// Files larger than this are refused before they are read.
    pub max_file_bytes: u64,
    /// Archives (DOCX, EPUB) may expand to at most this many bytes in total.
    pub max_archive_bytes: u64,
    /// A parser still running after this long is abandoned and the file reported as failed (in a
    /// parse worker: killed, and its CPU time is capped at the same).
    #[serde(with = "seconds")]
    pub timeout: Duration,
    /// Memory a parse worker may take beyond what it holds when it starts; at the limit it is
    /// stopped and the file fails (enforced on Linux).
    pub max_memory_bytes: u64,
    /// How PDFs are read.
    pub pdf_reader: PdfReader,
    /// Whether scanned PDF pages are read by OCR (where Tesseract is set: [`use_tesseract`]).
    pub ocr: bool,
}

/// How PDFs are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PdfReader {
    /// PDFium, where the program named its library ([`use_pdfium`]); else the built-in reader, with a
    /// warning on the document.
    #[default]
    Pdfium,
    /// The built-in reader (`pdf-extract`), always.
    Builtin,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_file_bytes: 256 * 1024 * 1024,
            max_archive_bytes: 512 * 1024 * 1024,
            timeout: Duration::from_secs(120),
            max_memory_bytes: 2 * 1024 * 1024 * 1024,
            pdf_reader: PdfReader::default(),
            ocr: true,
        }
    }
}

mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

const CODE_EXTENSIONS: &[&str] = &[
    "rs",
    "py",
    "pyi",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "go",
    "java",
    "kt",
    "kts",
    "scala",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "hpp",
    "hh",
    "cs",
    "fs",
    "rb",
    "php",
    "swift",
    "m",
    "mm",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "sql",
    "r",
    "jl",
    "lua",
    "pl",
    "pm",
    "hs",
    "ml",
    "mli",
    "ex",
    "exs",
    "erl",
    "clj",
    "dart",
    "zig",
    "nim",
    "vue",
    "svelte",
    "css",
    "scss",
    "sass",
    "less",
    "toml",
    "yaml",
    "yml",
    "json",
    "xml",
    "ini",
    "cfg",
    "proto",
    "graphql",
    "tf",
    "cmake",
    "gradle",
    "dockerfile",
    "makefile",
];

/// The kind of document a path holds, judged by its extension (or well-known file name).
pub fn detect_kind(path: &Path) -> Option<DocumentKind> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let ext = match name.rsplit_once('.') {
        Some((_, ext)) => ext.to_string(),
        None => name.clone(),
    };
    let kind = match ext.as_str() {
        "pdf" => DocumentKind::Pdf,
        "docx" => DocumentKind::Docx,
        "md" | "markdown" | "mdown" | "mkd" | "mdx" => DocumentKind::Markdown,
        "txt" | "text" | "log" | "rst" | "org" | "adoc" | "csv" | "tsv" => DocumentKind::Text,
        "html" | "htm" | "xhtml" => DocumentKind::Html,
        "epub" => DocumentKind::Epub,
        e if CODE_EXTENSIONS.contains(&e) => DocumentKind::Code,
        _ => return None,
    };
    Some(kind)
}

/// True when [`parse_file`] would try to read this path.
pub fn is_supported(path: &Path) -> bool {
    detect_kind(path).is_some()
}

/// Reads and parses one file.
///
/// Size is checked before reading; the parser then runs on its own thread, so a panic in it becomes
/// [`ParseError::ParserCrashed`] and a hang becomes [`ParseError::Timeout`] (the abandoned thread is
/// left to finish on its own; it holds only its copy of the file).
pub fn parse_file(
    path: &Path,
    limits: &ParseLimits,
) -> Result<(DocumentKind, Document), ParseError> {
    let (kind, bytes) = read_file(path, limits)?;
    Ok((kind, parse_bytes(kind, bytes, limits)?))
}

/// The first half of [`parse_file`]: the file's kind, by extension, and its bytes, refusing
/// unsupported kinds and files over the size limit before reading them. For callers that look at the
/// bytes (to hash them) before parsing.
pub fn read_file(path: &Path, limits: &ParseLimits) -> Result<(DocumentKind, Vec<u8>), ParseError> {
    let kind = detect_kind(path).ok_or_else(|| {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("(no extension)");
        ParseError::Unsupported(ext.to_string())
    })?;
    let size = std::fs::metadata(path)?.len();
    if size > limits.max_file_bytes {
        return Err(ParseError::TooLarge {
            size,
            limit: limits.max_file_bytes,
        });
    }
    Ok((kind, std::fs::read(path)?))
}

/// Parses the bytes of a document of a known kind, isolated as described in [`parse_file`].
pub fn parse_bytes(
    kind: DocumentKind,
    bytes: Vec<u8>,
    limits: &ParseLimits,
) -> Result<Document, ParseError> {
    parse_bytes_reporting(kind, bytes, limits, crate::ignore_progress())
}

/// [`parse_bytes`], telling `on_progress` of the pages read as it goes.
pub fn parse_bytes_reporting(
    kind: DocumentKind,
    bytes: Vec<u8>,
    limits: &ParseLimits,
    on_progress: OnParseProgress,
) -> Result<Document, ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    silence_parser_panics();
    let limits = *limits;
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(PARSER_THREAD.to_string())
        // Generous stack: recursive parsers meet deeply nested input (PDF object trees).
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || {
            // A panic mid-parse leaves nothing of the sink's that the caller reads inconsistently.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                parse_kind(kind, bytes, &limits, on_progress.as_ref())
            }));
            let _ = tx.send(result);
        })?;
    match rx.recv_timeout(limits.timeout) {
        Ok(Ok(Ok(doc))) if doc.is_empty() => Err(ParseError::Empty),
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(ParseError::ParserCrashed(panic_message(panic.as_ref()))),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(ParseError::Timeout(limits.timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(ParseError::ParserCrashed(
            "the parser thread ended without a result".into(),
        )),
    }
}

fn parse_kind(
    kind: DocumentKind,
    bytes: Vec<u8>,
    limits: &ParseLimits,
    on_progress: &(dyn Fn(ParseProgress) + Send + Sync),
) -> Result<Document, ParseError> {
    match kind {
        DocumentKind::Pdf => pdf::parse(&bytes, limits, on_progress),
        DocumentKind::Docx => docx::parse(&bytes, limits),
        DocumentKind::Markdown => markdown::parse(&text::decode(bytes)?),
        DocumentKind::Text => Ok(Document::from_sections(vec![Section::new(
            None,
            Vec::new(),
            text::decode(bytes)?,
        )])),
        DocumentKind::Html => Ok(Document::from_sections(html::sections(
            &text::decode(bytes)?,
            &[],
        ))),
        DocumentKind::Epub => epub::parse(&bytes, limits),
        DocumentKind::Code => {
            let mut section = Section::new(None, Vec::new(), text::decode(bytes)?);
            section.splitting = Splitting::Lines;
            Ok(Document::from_sections(vec![section]))
        }
    }
}

const PARSER_THREAD: &str = "cairn-parser";

/// The parser thread's stack.
pub(crate) const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Third-party parsers may panic on malformed input (pdf-extract does so by design). Those panics are
/// caught and reported per file; this keeps them from also printing a backtrace banner to stderr.
fn silence_parser_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(PARSER_THREAD) {
                previous(info);
            }
        }));
    });
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
