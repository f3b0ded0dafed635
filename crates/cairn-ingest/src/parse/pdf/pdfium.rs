//! PDF through PDFium (Chrome's PDF engine, bound at run time by `pdfium-render`): the text of each
//! page, and a page rendered with a passage's lines highlighted.
//!
//! PDFium is loaded once per process; `pdfium-render`'s `thread_safe` feature serialises calls into
//! it, so parallel parsing comes from parse workers (one process each), not threads.

use std::path::Path;
use std::sync::OnceLock;

use pdfium_render::prelude::*;

use crate::document::{Document, Section};
use crate::error::ParseError;
use crate::parse::ParseLimits;
use crate::progress::ParseProgress;

use super::ocr;

/// PDFium, bound to `library` on first use. Later calls get the same binding whatever they name:
/// a process holds one PDFium.
pub(super) fn bind(library: &Path) -> Result<&'static Pdfium, String> {
    static PDFIUM: OnceLock<Result<Pdfium, String>> = OnceLock::new();
    PDFIUM
        .get_or_init(|| {
            Pdfium::bind_to_library(library)
                .map(Pdfium::new)
                .map_err(|e| {
                    format!(
                        "PDFium could not be loaded from {}: {e:?}",
                        library.display()
                    )
                })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// How often the reading of text pages is told.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

pub(super) fn parse(
    pdfium: &Pdfium,
    bytes: &[u8],
    limits: &ParseLimits,
    on_progress: &dyn Fn(ParseProgress),
) -> Result<Document, ParseError> {
    let deadline = std::time::Instant::now() + limits.timeout;
    let mut told = std::time::Instant::now();
    let pdf = pdfium
        .load_pdf_from_byte_slice(bytes, None)
        .map_err(load_error)?;
    let pages = pdf.pages();
    let count = pages.len();
    if count <= 0 {
        return Err(ParseError::Corrupt("the PDF has no pages".into()));
    }
    let tesseract = limits.ocr.then(ocr::tesseract).flatten();
    let mut sections = Vec::with_capacity(count as usize);
    let mut warnings = Vec::new();
    let mut unread_scans = Vec::new();
    for index in 0..count {
        let number = index as u32 + 1;
        let page = match pages.get(index) {
            Ok(page) => page,
            Err(e) => {
                warnings.push(format!("page {number} could not be read: {e:?}"));
                continue;
            }
        };
        // The whole text page: `all()` keeps only what lies inside the page box, which loses
        // rotated and offset text.
        let mut text = match page.text() {
            Ok(text) => clean(&text.inside_rect(PdfRect::MAX)),
            Err(e) => {
                warnings.push(format!("page {number} could not be read: {e:?}"));
                continue;
            }
        };
        let mut by_ocr = false;
        if ocr::looks_scanned(&page, &text) {
            match &tesseract {
                Some(tesseract) => match ocr::read_page(&page, tesseract, deadline) {
                    Ok(read) => {
                        text = read;
                        by_ocr = true;
                    }
                    Err(why) => {
                        warnings.push(format!("page {number} could not be read by OCR: {why}"))
                    }
                },
                None => unread_scans.push(number),
            }
        }
        sections.push(Section::new(
            Some(number),
            Vec::new(),
            super::super::docx::tidy(&text),
        ));
        // Every page read by OCR (seconds each) is told; text pages (thousands a second) at most
        // a few times a second, and the last.
        if by_ocr || number == count as u32 || told.elapsed() >= PROGRESS_EVERY {
            told = std::time::Instant::now();
            on_progress(ParseProgress {
                done: number,
                total: count as u32,
                ocr: by_ocr,
            });
        }
    }
    if !unread_scans.is_empty() {
        let scans = ParseError::NeedsOcr {
            pages: if unread_scans.len() == 1 {
                format!("page {} is", unread_scans[0])
            } else {
                format!("pages {} are", page_list(&unread_scans))
            },
            why: if limits.ocr {
                "OCR (Tesseract) is not installed"
            } else {
                "OCR is turned off (ingest.ocr)"
            },
        };
        if sections.iter().all(|s| s.text.trim().is_empty()) {
            return Err(scans);
        }
        warnings.push(scans.to_string());
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

/// "3", "1-4, 7": page numbers as runs.
fn page_list(pages: &[u32]) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &p in pages {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == p => *end = p,
            _ => runs.push((p, p)),
        }
    }
    runs.iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// PDFium's page text with its line ends made plain: CR LF becomes LF, a hyphen PDFium marks as
/// breaking a word at a line end (U+0002) joins the word, and NULs and other control characters go.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\u{2}' => {
                // A soft hyphen at a line end: the word continues on the next line.
                while chars.peek().is_some_and(|c| matches!(c, '\r' | '\n')) {
                    chars.next();
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn load_error(e: PdfiumError) -> ParseError {
    match e {
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError)
        | PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::SecurityError) => {
            ParseError::Encrypted
        }
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::FormatError) => {
            ParseError::Corrupt("PDFium could not read its structure".into())
        }
        other => ParseError::Corrupt(format!("PDFium could not open it: {other:?}")),
    }
}

/// A page drawn as a PNG, with the passage asked for highlighted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RenderedPage {
    /// The page drawn, PNG-encoded, highlights included.
    pub png: Vec<u8>,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// The highlighted boxes, in pixels from the top-left corner: `[left, top, right, bottom]`,
    /// one per line of the passage. Empty when the passage was not found on the page.
    pub highlights: Vec<[u32; 4]>,
    /// How many pages the document has.
    pub page_count: u32,
}

/// Draws page `page` (1-based) of a PDF at `width` pixels wide, highlighting the lines that hold
/// `passage` (matched word by word, ignoring case, punctuation and line breaks).
pub fn render_page(
    library: &Path,
    bytes: &[u8],
    page: u32,
    width: u32,
    passage: &str,
) -> Result<RenderedPage, ParseError> {
    let pdfium = bind(library).map_err(ParseError::Corrupt)?;
    let pdf = pdfium
        .load_pdf_from_byte_slice(bytes, None)
        .map_err(load_error)?;
    let pages = pdf.pages();
    let page_count = pages.len().max(0) as u32;
    if page == 0 || page > page_count {
        return Err(ParseError::Corrupt(format!(
            "the PDF has no page {page} (it has {page_count})"
        )));
    }
    let pdf_page = pages
        .get(page as i32 - 1)
        .map_err(|e| ParseError::Corrupt(format!("page {page} could not be read: {e:?}")))?;
    let config = PdfRenderConfig::new()
        .set_target_width(width.clamp(200, 4000) as i32)
        .set_maximum_height(8000)
        .render_form_data(true);
    let bitmap = pdf_page
        .render_with_config(&config)
        .map_err(|e| ParseError::Corrupt(format!("page {page} could not be drawn: {e:?}")))?;
    let (w, h) = (bitmap.width() as u32, bitmap.height() as u32);
    let mut rgba = bitmap.as_rgba_bytes();
    let highlights = match pdf_page.text() {
        Ok(text) => passage_boxes(&text, passage)
            .into_iter()
            .filter_map(|rect| to_pixels(&pdf_page, &config, rect, w, h))
            .collect(),
        Err(_) => Vec::new(),
    };
    for b in &highlights {
        tint(&mut rgba, w, b);
    }
    Ok(RenderedPage {
        png: encode_png(&rgba, w, h)?,
        width: w,
        height: h,
        highlights,
        page_count,
    })
}

/// The boxes of the lines that hold `passage` on a page, in page points
/// (`[left, bottom, right, top]`).
fn passage_boxes(text: &PdfPageText, passage: &str) -> Vec<[f32; 4]> {
    let chars: Vec<(char, Option<[f32; 4]>)> = text
        .chars()
        .iter()
        .map(|c| {
            let bounds = c.loose_bounds().ok().map(|r| {
                [
                    r.left().value,
                    r.bottom().value,
                    r.right().value,
                    r.top().value,
                ]
            });
            (c.unicode_char().unwrap_or(' '), bounds)
        })
        .collect();
    let page_text: String = chars.iter().map(|(c, _)| *c).collect();
    let Some((start, end)) = super::find_passage(&page_text, passage) else {
        return Vec::new();
    };
    // `find_passage` counts chars; merge the boxes of each line (chars whose boxes share a baseline).
    let mut lines: Vec<[f32; 4]> = Vec::new();
    for (_, bounds) in &chars[start..end] {
        let Some(b) = bounds else { continue };
        if b[2] <= b[0] || b[3] <= b[1] {
            continue;
        }
        match lines.last_mut() {
            Some(line) if same_line(line, b) => {
                line[0] = line[0].min(b[0]);
                line[1] = line[1].min(b[1]);
                line[2] = line[2].max(b[2]);
                line[3] = line[3].max(b[3]);
            }
            _ => lines.push(*b),
        }
    }
    lines
}

fn same_line(line: &[f32; 4], b: &[f32; 4]) -> bool {
    let overlap = line[3].min(b[3]) - line[1].max(b[1]);
    let shorter = (line[3] - line[1]).min(b[3] - b[1]);
    overlap > 0.5 * shorter && b[0] >= line[0] - 1.0
}

fn to_pixels(
    page: &PdfPage,
    config: &PdfRenderConfig,
    rect: [f32; 4],
    w: u32,
    h: u32,
) -> Option<[u32; 4]> {
    let a = page
        .points_to_pixels(PdfPoints::new(rect[0]), PdfPoints::new(rect[3]), config)
        .ok()?;
    let b = page
        .points_to_pixels(PdfPoints::new(rect[2]), PdfPoints::new(rect[1]), config)
        .ok()?;
    let clamp = |v: i32, max: u32| v.clamp(0, max as i32) as u32;
    let (left, right) = (a.0.min(b.0), a.0.max(b.0));
    let (top, bottom) = (a.1.min(b.1), a.1.max(b.1));
    let boxed = [
        clamp(left - 2, w),
        clamp(top - 2, h),
        clamp(right + 2, w),
        clamp(bottom + 2, h),
    ];
    (boxed[2] > boxed[0] && boxed[3] > boxed[1]).then_some(boxed)
}

/// Blends a translucent yellow over a box of an RGBA image.
fn tint(rgba: &mut [u8], width: u32, b: &[u32; 4]) {
    const YELLOW: [u16; 3] = [255, 214, 0];
    for y in b[1]..b[3] {
        for x in b[0]..b[2] {
            let i = ((y * width + x) * 4) as usize;
            for (channel, tint) in rgba[i..i + 3].iter_mut().zip(YELLOW) {
                *channel = ((*channel as u16 * 3 + tint * 2) / 5) as u8;
            }
        }
    }
}

fn encode_png(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ParseError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let fail = |e: png::EncodingError| ParseError::Io(std::io::Error::other(e));
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(rgba).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{clean, page_list};

    #[test]
    fn pages_are_listed_as_runs() {
        assert_eq!(page_list(&[3]), "3");
        assert_eq!(page_list(&[1, 2, 3, 4, 7, 9, 10]), "1-4, 7, 9-10");
    }

    #[test]
    fn line_ends_and_soft_hyphens_come_out_plain() {
        assert_eq!(clean("one\r\ntwo\rthree"), "one\ntwo\nthree");
        assert_eq!(clean("hyphen\u{2}\r\nated word"), "hyphenated word");
        assert_eq!(clean("a\u{0}b\u{fffe}c"), "abc");
    }
}
