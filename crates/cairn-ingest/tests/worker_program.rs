//! The worker-only program (`src/bin/cairn-parse-worker.rs`), as the desktop app runs it: files
//! are parsed in its processes, bad ones fail there with their reason, and started by hand it
//! says what it is for.

use std::path::Path;
use std::process::Command;

use cairn_ingest::{DocumentKind, ParseLimits, isolated, parse_isolated, use_program};

const WORKER: &str = env!("CARGO_BIN_EXE_cairn-parse-worker");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn files_are_parsed_in_the_worker_program_and_bad_ones_fail_there() {
    use_program(Path::new(WORKER));
    assert!(isolated());

    let text = "# Tides\n\nHigh water at Skerrow Point comes an hour after Leith.\n";
    let doc = parse_isolated(
        DocumentKind::Markdown,
        text.as_bytes().to_vec(),
        &ParseLimits::default(),
    )
    .unwrap();
    let all: String = doc.sections.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("an hour after Leith"), "{all}");
    assert_eq!(doc.sections[0].heading_path, ["Tides"]);

    let docx = parse_isolated(
        DocumentKind::Docx,
        fixture("field-guide.docx"),
        &ParseLimits::default(),
    )
    .unwrap();
    assert!(!docx.sections.is_empty());

    let small_archives = ParseLimits {
        max_archive_bytes: 1024 * 1024,
        ..ParseLimits::default()
    };
    let err = parse_isolated(DocumentKind::Docx, fixture("bomb.docx"), &small_archives)
        .expect_err("a zip bomb");
    assert_eq!(err.code(), "archive_too_large", "{err}");
}

#[test]
fn started_by_hand_it_says_what_it_is_for_and_fails() {
    let out = Command::new(WORKER).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(cairn_ingest::WORKER_ARG), "{said}");
}
