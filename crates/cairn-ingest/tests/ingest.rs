//! Parsing real files of every supported kind, and failing cleanly on bad ones.

use std::io::Write;
use std::path::{Path, PathBuf};

use cairn_ingest::{DocumentKind, ParseError, ParseLimits, parse_file};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

fn parse(path: &Path) -> Result<cairn_ingest::Document, ParseError> {
    parse_file(path, &ParseLimits::default()).map(|(_, doc)| doc)
}

#[test]
fn pdf_text_is_kept_per_page() {
    let (kind, doc) = parse_file(&fixture("three-pages.pdf"), &ParseLimits::default()).unwrap();
    assert_eq!(kind, DocumentKind::Pdf);
    let pages: Vec<Option<u32>> = doc.sections.iter().map(|s| s.page).collect();
    assert_eq!(pages, vec![Some(1), Some(2), Some(3)]);
    assert!(
        doc.sections[1]
            .text
            .contains("Fresnel lenses focus the beam"),
        "{:?}",
        doc.sections[1].text
    );
    assert!(doc.sections[2].text.starts_with("Page 3."));
}

#[test]
fn docx_headings_become_the_heading_path() {
    let doc = parse(&fixture("field-guide.docx")).unwrap();
    let gulls = doc
        .sections
        .iter()
        .find(|s| s.text.contains("Herring gulls"))
        .unwrap();
    assert_eq!(gulls.heading_path, vec!["Field Guide", "Gulls"]);
    assert_eq!(gulls.text, "Herring gulls nest on cliffs & rooftops.");
    let terns = doc
        .sections
        .iter()
        .find(|s| s.text.contains("Arctic terns"))
        .unwrap();
    assert_eq!(terns.heading_path, vec!["Field Guide", "Terns"]);
}

#[test]
fn epub_chapters_are_read_in_spine_order_under_the_title() {
    let doc = parse(&fixture("tide-tables.epub")).unwrap();
    let texts: Vec<&str> = doc.sections.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "The moon's pull raises two bulges of water.",
            "Spring tides happen near new and full moon."
        ]
    );
    assert_eq!(
        doc.sections[1].heading_path,
        vec!["Tide Tables", "Spring Tides"]
    );
}

#[test]
fn markdown_keeps_the_heading_path_and_drops_front_matter() {
    let dir = tempfile::tempdir().unwrap();
    let md = "---\ntitle: hidden\n---\n# Guide\nIntro text.\n## Setup\nRun `make`.\n### Linux\nUse apt.\n## Usage\nAsk away.\n";
    let doc = parse(&write(dir.path(), "guide.md", md.as_bytes())).unwrap();
    let got: Vec<(Vec<String>, String)> = doc
        .sections
        .iter()
        .map(|s| (s.heading_path.clone(), s.text.clone()))
        .collect();
    let want = vec![
        (vec!["Guide"], "Intro text."),
        (vec!["Guide", "Setup"], "Run make."),
        (vec!["Guide", "Setup", "Linux"], "Use apt."),
        (vec!["Guide", "Usage"], "Ask away."),
    ];
    let want: Vec<(Vec<String>, String)> = want
        .into_iter()
        .map(|(p, t)| (p.into_iter().map(String::from).collect(), t.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn html_shows_visible_text_under_its_headings() {
    let dir = tempfile::tempdir().unwrap();
    let html = "<html><head><title>T</title><style>p{}</style></head><body><h1>Tea</h1><p>Green   tea\n is <b>steamed</b>.</p><script>alert(1)</script><h2>Black</h2><p>Black tea is oxidised.</p></body></html>";
    let doc = parse(&write(dir.path(), "tea.html", html.as_bytes())).unwrap();
    assert_eq!(doc.sections[0].text, "Green tea is steamed.");
    assert_eq!(doc.sections[1].heading_path, vec!["Tea", "Black"]);
    assert!(!doc.full_text().contains("alert"));
}

#[test]
fn deeply_nested_html_is_read_without_exhausting_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 100_000;
    let html = format!(
        "{}<p>deep text</p>{}",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let doc = parse(&write(dir.path(), "deep.html", html.as_bytes())).unwrap();
    assert!(doc.full_text().contains("deep text"));
}

#[test]
fn text_encodings_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("café ☕".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf16be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain("café ☕".encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    for (name, bytes, want) in [
        ("utf8.txt", "café ☕".as_bytes().to_vec(), "café ☕"),
        (
            "bom.txt",
            [&[0xEF, 0xBB, 0xBF][..], "café ☕".as_bytes()].concat(),
            "café ☕",
        ),
        ("le.txt", utf16le, "café ☕"),
        ("be.txt", utf16be, "café ☕"),
        ("latin1.txt", b"caf\xe9 cr\xe8me".to_vec(), "café crème"),
    ] {
        let doc = parse(&write(dir.path(), name, &bytes)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.full_text(), want, "{name}");
    }
}

#[test]
fn source_code_is_read_as_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (kind, doc) = parse_file(
        &write(
            dir.path(),
            "lib.rs",
            b"fn main() {\n    println!(\"hi\");\n}\n",
        ),
        &ParseLimits::default(),
    )
    .unwrap();
    assert_eq!(kind, DocumentKind::Code);
    assert_eq!(doc.sections[0].splitting, cairn_ingest::Splitting::Lines);
}

/// Every bad input fails alone, with the cause named, and nothing panics.
#[test]
fn bad_input_fails_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let small_archives = ParseLimits {
        max_archive_bytes: 1024 * 1024,
        ..ParseLimits::default()
    };
    let huge = dir.path().join("huge.txt");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let cases: Vec<(PathBuf, ParseLimits, &str)> = vec![
        (
            write(dir.path(), "empty.md", b""),
            ParseLimits::default(),
            "empty",
        ),
        (
            write(dir.path(), "blank.txt", b" \n\n\t "),
            ParseLimits::default(),
            "empty",
        ),
        (huge, ParseLimits::default(), "too_large"),
        (
            write(
                dir.path(),
                "binary.md",
                &[0x7F, b'E', b'L', b'F', 0, 0, 1, 2],
            ),
            ParseLimits::default(),
            "wrong_format",
        ),
        (
            write(dir.path(), "binary.pdf", &[0x89, b'P', b'N', b'G', 0, 0]),
            ParseLimits::default(),
            "wrong_format",
        ),
        (
            write(dir.path(), "text.docx", b"just text"),
            ParseLimits::default(),
            "wrong_format",
        ),
        (
            write(
                dir.path(),
                "ole.docx",
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0],
            ),
            ParseLimits::default(),
            "encrypted",
        ),
        (
            fixture("encrypted.pdf"),
            ParseLimits::default(),
            "encrypted",
        ),
        (fixture("truncated.pdf"), ParseLimits::default(), "corrupt"),
        (fixture("bomb.docx"), small_archives, "archive_too_large"),
        (
            write(dir.path(), "image.png", b"\x89PNG"),
            ParseLimits::default(),
            "unsupported",
        ),
    ];
    for (path, limits, want) in cases {
        let err = parse_file(&path, &limits)
            .map(|_| ())
            .expect_err(&path.display().to_string());
        assert_eq!(err.code(), want, "{}: {err}", path.display());
        assert!(!err.to_string().is_empty());
    }
}

/// A parser that runs past the time limit is abandoned and the file reported, not waited for.
#[test]
fn a_parse_past_the_time_limit_is_abandoned() {
    let limits = ParseLimits {
        timeout: std::time::Duration::from_nanos(1),
        ..ParseLimits::default()
    };
    let big = "A sentence about tides and moons. "
        .repeat(200_000)
        .into_bytes();
    let err = cairn_ingest::parse_bytes(DocumentKind::Markdown, big, &limits).unwrap_err();
    assert_eq!(err.code(), "timeout", "{err}");
}
