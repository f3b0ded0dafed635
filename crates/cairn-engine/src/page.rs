//! A cited PDF page, drawn: what a citation of a PDF opens, with the passage's lines highlighted.

use cairn_ingest::{ParseError, RenderedPage};

use crate::error::{Error, Result};
use crate::library::Library;

/// Width a page is drawn at when the caller asks for none (or for less than this): sharp in a side
/// panel on a high-density screen.
const MIN_WIDTH: u32 = 400;
/// The widest page drawn.
const MAX_WIDTH: u32 = 2400;

impl Library {
    /// Draws page `page` (1-based) of the library's PDF at `path`, `width` pixels wide, with the
    /// lines that hold `passage` highlighted. The file is read as it is on disk now; a passage no
    /// longer on the page (the file changed) comes back with no highlights. The drawing runs in a
    /// parse worker where the program offers one, under the ingest limits, so a hostile file
    /// fails alone. Only documents in the library are drawn.
    pub async fn cited_page(
        &self,
        path: &str,
        page: u32,
        passage: &str,
        width: u32,
    ) -> Result<RenderedPage> {
        let known = self.store.documents(None)?.iter().any(|d| d.path == path);
        if !known {
            return Err(Error::InvalidInput(format!(
                "{path} is not a document in this library"
            )));
        }
        if self.pdfium().is_none() {
            return Err(Error::Document(ParseError::NoPdfEngine));
        }
        let limits = self.config().ingest.limits();
        let (kind, bytes) = cairn_ingest::read_file(std::path::Path::new(path), &limits)?;
        if kind != cairn_ingest::DocumentKind::Pdf {
            return Err(Error::InvalidInput(format!(
                "{path} is not a PDF; only PDF pages are drawn"
            )));
        }
        let passage = passage.to_string();
        let width = width.clamp(MIN_WIDTH, MAX_WIDTH);
        tokio::task::spawn_blocking(move || {
            cairn_ingest::render_isolated(bytes, page, width, &passage, &limits)
        })
        .await
        .map_err(|e| Error::Internal(format!("drawing the page stopped: {e}")))?
        .map_err(Error::Document)
    }
}
