//! The parsed form of a file: sections of text with their page and heading path.

use serde::{Deserialize, Serialize};

/// The kind of file a document was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// Portable Document Format.
    Pdf,
    /// Office Open XML word-processing document.
    Docx,
    /// Markdown (CommonMark).
    Markdown,
    /// Plain text.
    Text,
    /// HTML or XHTML.
    Html,
    /// EPUB e-book.
    Epub,
    /// Source code.
    Code,
}

impl DocumentKind {
    /// A lower-case name for display and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::Docx => "docx",
            DocumentKind::Markdown => "markdown",
            DocumentKind::Text => "text",
            DocumentKind::Html => "html",
            DocumentKind::Epub => "epub",
            DocumentKind::Code => "code",
        }
    }
}

/// How a section's text divides into units that a chunk never cuts through unless a unit alone is
/// larger than a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Splitting {
    /// Prose: split on sentence boundaries (Unicode UAX #29).
    Sentences,
    /// Code and other line-oriented text: split on line ends.
    Lines,
}

/// A run of text that shares one page and one heading path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// 1-based page number, for paged formats (PDF).
    pub page: Option<u32>,
    /// The headings above this text, outermost first.
    pub heading_path: Vec<String>,
    /// The text itself.
    pub text: String,
    /// How the text divides into units for chunking.
    pub splitting: Splitting,
}

impl Section {
    /// A prose section.
    pub fn new(page: Option<u32>, heading_path: Vec<String>, text: impl Into<String>) -> Section {
        Section {
            page,
            heading_path,
            text: text.into(),
            splitting: Splitting::Sentences,
        }
    }
}

/// A parsed document.
///
/// Character offsets in chunks refer to [`Document::full_text`]: the sections joined by a blank line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// The sections in reading order. Empty sections are never stored.
    pub sections: Vec<Section>,
    /// Parts of the file that could not be read while the rest could (e.g. one damaged PDF page).
    pub warnings: Vec<String>,
}

/// What joins two sections in [`Document::full_text`].
pub(crate) const SECTION_SEPARATOR: &str = "\n\n";

impl Document {
    /// Builds a document, dropping sections that hold only whitespace.
    pub fn from_sections(sections: Vec<Section>) -> Document {
        let sections = sections
            .into_iter()
            .filter(|s| !s.text.trim().is_empty())
            .collect();
        Document {
            sections,
            warnings: Vec::new(),
        }
    }

    /// True when no section holds any text.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// The whole text: sections joined by a blank line. Chunk character spans index into this string.
    pub fn full_text(&self) -> String {
        let texts: Vec<&str> = self.sections.iter().map(|s| s.text.as_str()).collect();
        texts.join(SECTION_SEPARATOR)
    }

    /// Number of pages, for paged formats.
    pub fn page_count(&self) -> Option<u32> {
        self.sections.iter().filter_map(|s| s.page).max()
    }
}
