//! DOCX: paragraphs of `word/document.xml`, with heading styles building the heading path.

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::ParseLimits;
use super::zip_limits::BoundedZip;
use crate::document::{Document, Section};
use crate::error::ParseError;

pub(crate) fn parse(bytes: &[u8], limits: &ParseLimits) -> Result<Document, ParseError> {
    let mut zip = BoundedZip::open(bytes, "a DOCX document", limits.max_archive_bytes)?;
    let xml = zip
        .read_text("word/document.xml")?
        .ok_or_else(|| ParseError::WrongFormat {
            expected: "a DOCX document",
            detail: "the archive has no word/document.xml".into(),
        })?;
    let mut builder = SectionBuilder::default();
    let mut reader = Reader::from_str(&xml);
    let mut paragraph = String::new();
    let mut heading_level: Option<usize> = None;
    let mut in_text = false;
    loop {
        match reader
            .read_event()
            .map_err(|e| ParseError::Corrupt(format!("word/document.xml: {e}")))?
        {
            Event::Start(e) => match e.local_name().as_ref() {
                "p" => {
                    paragraph.clear();
                    heading_level = None;
                }
                "t" => in_text = true,
                "pStyle" | "outlineLvl" => heading_level = heading_level.or(style_level(&e)),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "pStyle" | "outlineLvl" => heading_level = heading_level.or(style_level(&e)),
                "tab" => paragraph.push('\t'),
                "br" | "cr" => paragraph.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => {
                paragraph.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if in_text => paragraph.push_str(&entity(&r)),
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => match heading_level {
                    Some(level) => builder.heading(level, paragraph.trim()),
                    None => {
                        builder.text.push_str(paragraph.trim_end());
                        builder.text.push('\n');
                    }
                },
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(builder.finish())
}

/// The text an entity reference (`&amp;`, `&#233;`) stands for; unknown entities read as nothing.
pub(crate) fn entity(r: &BytesRef) -> String {
    quick_xml::escape::unescape(&format!("&{};", &**r))
        .map(|c| c.into_owned())
        .unwrap_or_default()
}

/// The heading level a paragraph property declares: `Heading1`…`Heading9`, `Title`, or an outline level.
fn style_level(e: &BytesStart) -> Option<usize> {
    let val = e
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == "val")?;
    let val = val.value.to_ascii_lowercase();
    if e.local_name().as_ref() == "outlineLvl" {
        return val.parse::<usize>().ok().filter(|l| *l < 9).map(|l| l + 1);
    }
    if val == "title" {
        return Some(1);
    }
    let digits = val.strip_prefix("heading")?.trim_start();
    digits.parse::<usize>().ok().filter(|l| (1..=9).contains(l))
}

/// Accumulates text and closes a section whenever a heading starts a new one. Shared by the formats
/// whose headings arrive inline (DOCX, Markdown, HTML).
#[derive(Debug, Default)]
pub(crate) struct SectionBuilder {
    pub(crate) sections: Vec<Section>,
    pub(crate) path: Vec<String>,
    pub(crate) text: String,
}

impl SectionBuilder {
    pub(crate) fn with_path(path: &[String]) -> Self {
        SectionBuilder {
            path: path.to_vec(),
            ..Default::default()
        }
    }

    /// Closes the current section and opens one under `title` at `level` (1 = outermost).
    pub(crate) fn heading(&mut self, level: usize, title: &str) {
        self.flush();
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return;
        }
        self.path.truncate(level.saturating_sub(1));
        self.path.push(title);
    }

    pub(crate) fn flush(&mut self) {
        let text = tidy(&std::mem::take(&mut self.text));
        if !text.is_empty() {
            self.sections
                .push(Section::new(None, self.path.clone(), text));
        }
    }

    pub(crate) fn finish(mut self) -> Document {
        self.flush();
        Document::from_sections(self.sections)
    }
}

/// Trims trailing spaces on each line and collapses runs of blank lines to one.
pub(crate) fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}
