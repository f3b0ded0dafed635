//! HTML: visible text through `scraper` (html5ever), walked without recursion so deeply nested input
//! cannot exhaust the stack; `h1`–`h6` build the heading path.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

use super::docx::SectionBuilder;
use crate::document::Section;

/// Elements whose content is never shown as text.
const HIDDEN: &[&str] = &[
    "script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object",
];

/// Elements that start and end on their own line.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "dl",
    "hr",
    "figure",
    "figcaption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "title",
    "caption",
    "address",
];

/// Nesting beyond which html5ever's tree building turns quadratic (100,000 nested `div`s take minutes);
/// such pages are read by [`flat_text`] instead. Real pages stay far below it.
const MAX_TREE_DEPTH: usize = 512;

/// The sections of an HTML page; `base_path` is prepended to every heading path (an EPUB chapter).
/// Pathologically nested pages lose their headings but not their text.
pub(crate) fn sections(source: &str, base_path: &[String]) -> Vec<Section> {
    if nesting_depth(source) > MAX_TREE_DEPTH {
        let text = super::docx::tidy(&flat_text(source));
        return vec![Section::new(None, base_path.to_vec(), text)];
    }
    let html = Html::parse_document(source);
    let mut builder = SectionBuilder::with_path(base_path);
    let mut hidden_depth = 0usize;
    let mut pre_depth = 0usize;
    let mut heading: Option<(usize, String)> = None;
    for edge in html.root_element().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    let name = el.name();
                    if HIDDEN.contains(&name) {
                        hidden_depth += 1;
                    } else if let Some(level) = heading_level(name) {
                        heading = Some((level, String::new()));
                    } else if name == "pre" {
                        pre_depth += 1;
                    }
                    if BLOCKS.contains(&name) {
                        builder.text.push('\n');
                    }
                }
                Node::Text(text) if hidden_depth == 0 => {
                    let out = match heading.as_mut() {
                        Some((_, title)) => title,
                        None => &mut builder.text,
                    };
                    if pre_depth > 0 {
                        out.push_str(text);
                    } else {
                        push_collapsed(out, text);
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(el) = node.value() {
                    let name = el.name();
                    if HIDDEN.contains(&name) {
                        hidden_depth = hidden_depth.saturating_sub(1);
                    } else if heading_level(name).is_some() {
                        if let Some((level, title)) = heading.take() {
                            builder.heading(base_path.len() + level, &title);
                        }
                    } else if name == "pre" {
                        pre_depth = pre_depth.saturating_sub(1);
                    }
                    if BLOCKS.contains(&name) {
                        builder.text.push('\n');
                    }
                }
            }
        }
    }
    builder.flush();
    builder.sections
}

fn heading_level(name: &str) -> Option<usize> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Appends text with runs of whitespace collapsed to one space, as a browser shows it.
fn push_collapsed(out: &mut String, text: &str) {
    let starts_with_space = text.starts_with(char::is_whitespace);
    let ends_with_space = text.ends_with(char::is_whitespace);
    let words: Vec<&str> = text.split_whitespace().collect();
    let at_line_start = out.is_empty() || out.ends_with(char::is_whitespace);
    if starts_with_space && !at_line_start {
        out.push(' ');
    }
    out.push_str(&words.join(" "));
    if ends_with_space && !words.is_empty() {
        out.push(' ');
    }
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// The deepest element nesting in `source`, estimated from its tags without building a tree.
fn nesting_depth(source: &str) -> usize {
    let bytes = source.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        i += offset + 1;
        let Some(&next) = bytes.get(i) else { break };
        if next == b'/' {
            depth = depth.saturating_sub(1);
        } else if next.is_ascii_alphabetic() {
            let name_len = bytes[i..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            let name = source[i..i + name_len].to_ascii_lowercase();
            let self_closing = bytes[i..]
                .iter()
                .position(|&b| b == b'>')
                .is_some_and(|end| end > 0 && bytes[i + end - 1] == b'/');
            if !VOID.contains(&name.as_str()) && !self_closing {
                depth += 1;
                max = max.max(depth);
            }
        }
    }
    max
}

/// Text of an HTML page with tags removed and script and style content dropped, in one linear pass.
fn flat_text(source: &str) -> String {
    let lower = source.to_ascii_lowercase();
    let mut out = String::with_capacity(source.len() / 2);
    let mut i = 0;
    while i < source.len() {
        match source[i..].find('<') {
            None => {
                push_collapsed(&mut out, &decode_entities(&source[i..]));
                break;
            }
            Some(offset) => {
                push_collapsed(&mut out, &decode_entities(&source[i..i + offset]));
                let tag_start = i + offset;
                let tag_end = source[tag_start..]
                    .find('>')
                    .map_or(source.len(), |e| tag_start + e + 1);
                i = tag_end;
                for hidden in ["script", "style"] {
                    if lower[tag_start + 1..].starts_with(hidden) {
                        let close = format!("</{hidden}");
                        i = lower[tag_end..]
                            .find(&close)
                            .map_or(source.len(), |c| tag_end + c);
                    }
                }
                out.push(' ');
            }
        }
    }
    out
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_depth_counts_open_elements_only() {
        for (html, want) in [
            ("<p>a</p><p>b</p>", 1),
            ("<div><div><br><img src=x/><p>x</p></div></div>", 3),
            ("<a><b><c/></b></a>", 2),
            ("text < 3 and 4 > 2", 0),
        ] {
            assert_eq!(nesting_depth(html), want, "{html}");
        }
    }

    #[test]
    fn flat_text_drops_tags_scripts_and_styles() {
        let text = flat_text(
            "<div><script>var x = '<p>';</script><p>Fish &amp; chips</p><style>p{}</style>done</div>",
        );
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            vec!["Fish", "&", "chips", "done"]
        );
    }
}
