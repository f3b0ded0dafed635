//! Markdown: CommonMark events through `pulldown-cmark`; headings build the heading path.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::docx::SectionBuilder;
use crate::document::Document;
use crate::error::ParseError;

pub(crate) fn parse(source: &str) -> Result<Document, ParseError> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut builder = SectionBuilder::default();
    let mut heading: Option<(usize, String)> = None;
    let mut in_metadata = false;
    for event in Parser::new_ext(source, options) {
        let out = match heading.as_mut() {
            Some((_, title)) => title,
            None => &mut builder.text,
        };
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level as usize, String::new()))
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, title)) = heading.take() {
                    builder.heading(level, &title);
                }
            }
            Event::Start(Tag::MetadataBlock(_)) => in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_metadata = false,
            Event::Text(t) | Event::Code(t) if !in_metadata => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => out.push_str("\n- "),
            Event::End(
                TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::BlockQuote(_) | TagEnd::Table,
            ) => out.push_str("\n\n"),
            Event::End(TagEnd::TableRow | TagEnd::TableHead | TagEnd::Item) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push_str(" | "),
            _ => {}
        }
    }
    Ok(builder.finish())
}
