//! EPUB: the spine's XHTML documents in reading order, read from the ZIP container against the
//! archive budget, each parsed as HTML under the book's title.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::ParseLimits;
use super::docx::entity;
use super::zip_limits::BoundedZip;
use crate::document::Document;
use crate::error::ParseError;

pub(crate) fn parse(bytes: &[u8], limits: &ParseLimits) -> Result<Document, ParseError> {
    let mut zip = BoundedZip::open(bytes, "an EPUB book", limits.max_archive_bytes)?;
    let container =
        zip.read_text("META-INF/container.xml")?
            .ok_or_else(|| ParseError::WrongFormat {
                expected: "an EPUB book",
                detail: "the archive has no META-INF/container.xml".into(),
            })?;
    let opf_path = first_attribute(&container, "rootfile", "full-path")?
        .ok_or_else(|| ParseError::Corrupt("container.xml names no package document".into()))?;
    let opf = zip.read_text(&opf_path)?.ok_or_else(|| {
        ParseError::Corrupt(format!("the package document '{opf_path}' is missing"))
    })?;
    let package = Package::read(&opf)?;
    let base = opf_path
        .rsplit_once('/')
        .map(|(dir, _)| format!("{dir}/"))
        .unwrap_or_default();
    let title_path: Vec<String> = package.title.into_iter().collect();
    let mut sections = Vec::new();
    let mut warnings = Vec::new();
    for idref in &package.spine {
        let Some(href) = package.manifest.get(idref) else {
            warnings.push(format!(
                "the spine names '{idref}', which the manifest lacks"
            ));
            continue;
        };
        let member = resolve(&base, href);
        match zip.read_text(&member)? {
            Some(xhtml) => sections.extend(super::html::sections(&xhtml, &title_path)),
            None => warnings.push(format!("chapter '{member}' is missing from the archive")),
        }
    }
    let mut doc = Document::from_sections(sections);
    doc.warnings = warnings;
    Ok(doc)
}

/// What the package document (OPF) says: title, manifest (id → href) and spine (reading order).
#[derive(Debug, Default)]
struct Package {
    title: Option<String>,
    manifest: HashMap<String, String>,
    spine: Vec<String>,
}

impl Package {
    fn read(opf: &str) -> Result<Package, ParseError> {
        let mut package = Package::default();
        let mut reader = Reader::from_str(opf);
        let mut in_title = false;
        let mut title = String::new();
        loop {
            let event = reader
                .read_event()
                .map_err(|e| ParseError::Corrupt(format!("package document: {e}")))?;
            match event {
                Event::Start(e) | Event::Empty(e) => {
                    let attr = |key: &str| {
                        e.attributes()
                            .flatten()
                            .find(|a| a.key.local_name().as_ref() == key)
                            .map(|a| a.value.to_string())
                    };
                    match e.local_name().as_ref() {
                        "title" if package.title.is_none() => in_title = true,
                        "item" => {
                            if let (Some(id), Some(href)) = (attr("id"), attr("href")) {
                                package.manifest.insert(id, href);
                            }
                        }
                        "itemref" => package.spine.extend(attr("idref")),
                        _ => {}
                    }
                }
                Event::Text(t) if in_title => title.push_str(&t.xml10_content()),
                Event::GeneralRef(r) if in_title => title.push_str(&entity(&r)),
                Event::End(e) if in_title && e.local_name().as_ref() == "title" => {
                    in_title = false;
                    let t = title.split_whitespace().collect::<Vec<_>>().join(" ");
                    package.title = (!t.is_empty()).then_some(t);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(package)
    }
}

/// The value of `attribute` on the first `element` in an XML document.
fn first_attribute(
    xml: &str,
    element: &str,
    attribute: &str,
) -> Result<Option<String>, ParseError> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader
            .read_event()
            .map_err(|e| ParseError::Corrupt(format!("container.xml: {e}")))?
        {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == element => {
                let value = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == attribute);
                return Ok(value.map(|a| a.value.to_string()));
            }
            Event::Eof => return Ok(None),
            _ => {}
        }
    }
}

/// Resolves a manifest href against the package directory: `../` segments, `./`, and `%20`-style escapes.
fn resolve(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or(href);
    let mut parts: Vec<String> = base
        .split('/')
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    for segment in href.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(percent_decode(s)),
        }
    }
    parts.join("/")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn hrefs_resolve_against_the_package_directory() {
        for (base, href, want) in [
            ("OEBPS/", "text/ch1.xhtml", "OEBPS/text/ch1.xhtml"),
            (
                "OEBPS/content/",
                "../text/ch%201.xhtml#start",
                "OEBPS/text/ch 1.xhtml",
            ),
            ("", "./ch1.xhtml", "ch1.xhtml"),
        ] {
            assert_eq!(resolve(base, href), want, "{base} + {href}");
        }
    }
}
