//! PDF: read by PDFium where the program has the library ([`use_pdfium`]), else by the built-in
//! reader, which says so in the document's warnings.

mod builtin;
mod locate;
mod ocr;
mod pdfium;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::document::Document;
use crate::error::ParseError;
use crate::parse::{ParseLimits, PdfReader};
use crate::progress::ParseProgress;

pub(crate) use locate::find_passage;
pub use ocr::{Tesseract, tesseract, use_tesseract};
pub use pdfium::RenderedPage;

/// The PDFium library this process reads PDFs with, once the program named one.
static LIBRARY: OnceLock<PathBuf> = OnceLock::new();

/// Reads PDFs with the PDFium library at `library` (a `libpdfium.so`, `libpdfium.dylib` or
/// `pdfium.dll`) from now on, here and in parse workers. A process binds one PDFium: the first
/// library named stays.
pub fn use_pdfium(library: &Path) {
    let _ = LIBRARY.set(library.to_path_buf());
}

/// The PDFium library PDFs are read with, if one was named.
pub fn pdfium_library() -> Option<&'static Path> {
    LIBRARY.get().map(PathBuf::as_path)
}

pub(crate) fn parse(
    bytes: &[u8],
    limits: &ParseLimits,
    on_progress: &dyn Fn(ParseProgress),
) -> Result<Document, ParseError> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(ParseError::WrongFormat {
            expected: "a PDF",
            detail: "it has no %PDF- header".into(),
        });
    }
    if limits.pdf_reader == PdfReader::Builtin {
        return builtin::parse(bytes);
    }
    let Some(library) = pdfium_library() else {
        let mut doc = builtin::parse(bytes)?;
        doc.warnings.push(BUILTIN_WARNING.into());
        return Ok(doc);
    };
    match pdfium::bind(library) {
        Ok(pdfium) => pdfium::parse(pdfium, bytes, limits, on_progress),
        Err(why) => {
            let mut doc = builtin::parse(bytes)?;
            doc.warnings.push(format!("{why}; {BUILTIN_WARNING}"));
            Ok(doc)
        }
    }
}

const BUILTIN_WARNING: &str = "read with the built-in PDF reader because PDFium is not installed; \
     text in some fonts may be missing";

/// Draws page `page` (1-based) of a PDF at `width` pixels, with the lines that hold `passage`
/// highlighted. Needs PDFium ([`use_pdfium`]).
pub fn render_page(
    bytes: &[u8],
    page: u32,
    width: u32,
    passage: &str,
) -> Result<RenderedPage, ParseError> {
    let library = pdfium_library().ok_or(ParseError::NoPdfEngine)?;
    pdfium::render_page(library, bytes, page, width, passage)
}
