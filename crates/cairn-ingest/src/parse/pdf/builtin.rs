//! The built-in PDF reader, for when PDFium is not installed: text per page through `pdf-extract`
//! (over `lopdf`), one page at a time so one bad page costs only itself. It misses text in some
//! fonts (CID, Type3, symbolic TrueType) that PDFium reads.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf_extract::{Document as PdfDocument, OutputError, PlainTextOutput};

use crate::document::{Document, Section};
use crate::error::ParseError;

pub(super) fn parse(bytes: &[u8]) -> Result<Document, ParseError> {
    let mut pdf = PdfDocument::load_mem(bytes).map_err(pdf_error)?;
    if pdf.is_encrypted() {
        // Many PDFs are "encrypted" with an empty user password only to set permissions.
        pdf.decrypt("").map_err(|_| ParseError::Encrypted)?;
    }
    let pages = pdf.get_pages();
    if pages.is_empty() {
        return Err(ParseError::Corrupt("the PDF has no pages".into()));
    }
    let mut sections = Vec::with_capacity(pages.len());
    let mut warnings = Vec::new();
    for &page in pages.keys() {
        let mut text = String::new();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut output = PlainTextOutput::new(&mut text);
            pdf_extract::output_doc_page(&pdf, &mut output, page)
        }));
        match result {
            Ok(Ok(())) => sections.push(Section::new(
                Some(page),
                Vec::new(),
                super::super::docx::tidy(&text),
            )),
            Ok(Err(e)) => warnings.push(format!("page {page} could not be read: {}", describe(&e))),
            Err(_) => warnings.push(format!(
                "page {page} could not be read: the PDF parser crashed on it"
            )),
        }
    }
    if sections.is_empty() {
        return Err(ParseError::Corrupt(
            warnings.first().cloned().unwrap_or_default(),
        ));
    }
    let mut doc = Document::from_sections(sections);
    doc.warnings = warnings;
    Ok(doc)
}

fn describe(e: &OutputError) -> String {
    match e {
        OutputError::FormatError(e) => e.to_string(),
        OutputError::IoError(e) => e.to_string(),
        OutputError::PdfError(e) => e.to_string(),
    }
}

fn pdf_error(e: pdf_extract::Error) -> ParseError {
    match e {
        pdf_extract::Error::Decryption(_) => ParseError::Encrypted,
        other => ParseError::Corrupt(other.to_string()),
    }
}
