//! Document parsing and chunking for Cairn.
//!
//! Two steps turn a file into passages that can be embedded and cited:
//!
//! * [`parse_file`] reads one file (PDF, DOCX, Markdown, plain text, HTML, EPUB or source code) into a
//!   [`Document`]: a list of [`Section`]s, each with the page it came from and the heading path above it.
//!   Every failure is a [`ParseError`] with a stable code and a sentence a person understands; a panic
//!   inside a third-party parser is caught and reported the same way. [`parse_isolated`] runs the
//!   parser in a worker process of the same executable instead, where the program offered one
//!   ([`serve_if_asked`]): a stack overflow, an out-of-memory abort or a hang then ends the worker,
//!   not the program.
//! * [`Chunker`] cuts a document into [`Chunk`]s on sentence boundaries, in windows measured by a
//!   [`Tokenize`] implementation (the embedding model's tokenizer in production), with overlap.
//!
//! ```
//! use cairn_ingest::{Chunker, ChunkerConfig, Document, Section, WhitespaceTokens};
//!
//! let doc = Document::from_sections(vec![Section::new(None, vec!["Intro".into()], "One. Two. Three.")]);
//! let chunker = Chunker::new(ChunkerConfig { max_tokens: 2, overlap_tokens: 0 });
//! let chunks = chunker.chunk(&doc, &WhitespaceTokens);
//! assert_eq!(chunks[0].text, "One. Two.");
//! assert_eq!(chunks[1].text, "Three.");
//! assert_eq!(chunks[0].heading_path, vec!["Intro".to_string()]);
//! ```
#![deny(missing_docs)]

mod chunk;
mod document;
mod error;
mod parse;
mod progress;
mod worker;

pub use chunk::{Chunk, Chunker, ChunkerConfig, Tokenize, WhitespaceTokens};
pub use document::{Document, DocumentKind, Section, Splitting};
pub use error::ParseError;
pub use parse::{
    ParseLimits, PdfReader, RenderedPage, Tesseract, detect_kind, is_supported, parse_bytes,
    parse_bytes_reporting, parse_file, pdfium_library, read_file, render_page, tesseract,
    use_pdfium, use_tesseract,
};
pub use progress::{OnParseProgress, ParseProgress, ignore_progress};
pub use worker::{
    WORKER_ARG, isolated, parse_isolated, parse_isolated_reporting, render_isolated,
    serve_if_asked, use_program, use_worker_beside_this_program,
};
