//! Hostile files against the real `cairn` binary: each is parsed in a worker process, fails alone
//! with its reason (or is indexed within the limits), the batch goes on, and a second run neither
//! crashes nor reads them again.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn cairn(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.arg("--data-dir").arg(data).env_remove("CAIRN_DATA_DIR");
    cmd
}

/// A PDF of `objects` (object `n` is `objects[n - 1]`; object 1 is the catalog) with a correct
/// cross-reference table, so that what is hostile is only what the objects say.
fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut s = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    s.extend_from_slice(data);
    s.extend_from_slice(b"\nendstream");
    s
}

const CATALOG: &[u8] = b"<< /Type /Catalog /Pages 2 0 R >>";
const ONE_PAGE: &[u8] = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
const FONT: &[u8] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";

fn page(resources: &str, contents: &str) -> Vec<u8> {
    format!(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources {resources} /Contents {contents} >>"
    )
    .into_bytes()
}

/// A form XObject that draws itself: unbounded recursion in a content-stream interpreter.
fn self_drawing_form() -> Vec<u8> {
    pdf(&[
        CATALOG.to_vec(),
        ONE_PAGE.to_vec(),
        page(
            "<< /XObject << /Fm0 4 0 R >> /Font << /F1 5 0 R >> >>",
            "6 0 R",
        ),
        stream(
            "/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /Fm0 4 0 R >> >>",
            b"/Fm0 Do",
        ),
        FONT.to_vec(),
        stream("", b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET /Fm0 Do"),
    ])
}

/// One content stream that inflates to `inflated` bytes of spaces.
fn flate_bomb(inflated: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let block = vec![b' '; 1 << 20];
    for _ in 0..inflated / block.len() {
        z.write_all(&block).unwrap();
    }
    let data = z.finish().unwrap();
    pdf(&[
        CATALOG.to_vec(),
        ONE_PAGE.to_vec(),
        page("<< /Font << /F1 5 0 R >> >>", "4 0 R"),
        stream("/Filter /FlateDecode", &data),
        FONT.to_vec(),
    ])
}

/// A page tree whose node lists itself among its kids.
fn page_tree_cycle() -> Vec<u8> {
    pdf(&[
        CATALOG.to_vec(),
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>".to_vec(),
        page("<< /Font << /F1 4 0 R >> >>", "5 0 R"),
        FONT.to_vec(),
        stream("", b"BT /F1 12 Tf 72 720 Td (Cycle) Tj ET"),
    ])
}

/// An array nested 100,000 deep in the page's dictionary.
fn deep_arrays() -> Vec<u8> {
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    pdf(&[
        CATALOG.to_vec(),
        ONE_PAGE.to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Deep {nested} /Contents 4 0 R >>"
        )
        .into_bytes(),
        stream("", b"BT 72 720 Td (Deep) Tj ET"),
    ])
}

fn outcome<'a>(lines: &'a [Value], name: &str, out: &Output) -> &'a Value {
    lines
        .iter()
        .find(|l| l["path"].as_str().is_some_and(|p| p.ends_with(name)))
        .unwrap_or_else(|| panic!("no line for {name}: {out:?}"))
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

#[test]
fn hostile_pdfs_fail_alone_with_their_reasons_and_the_process_and_batch_go_on() {
    hostile_pdfs_through("builtin");
}

#[test]
fn hostile_pdfs_read_by_pdfium_fail_alone_the_same_way() {
    hostile_pdfs_through("pdfium");
}

/// The hostile PDFs through one reader (`ingest.pdf_reader`). The built-in reader overflows its
/// stack on the self-drawing form; PDFium reads it. Both run out of their allowance on the bomb:
/// the built-in reader says so itself, PDFium aborts and the worker's handler says so.
fn hostile_pdfs_through(reader: &str) {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    // A small memory allowance, so that a bomb of 256 MB is stopped at once.
    std::fs::write(
        data.path().join("config.toml"),
        format!("[ingest]\nmax_parse_memory_bytes = 67108864\npdf_reader = \"{reader}\"\n"),
    )
    .unwrap();
    let files: [(&str, Vec<u8>); 5] = [
        ("self-drawing-form.pdf", self_drawing_form()),
        ("flate-bomb.pdf", flate_bomb(256 << 20)),
        ("page-tree-cycle.pdf", page_tree_cycle()),
        ("deep-arrays.pdf", deep_arrays()),
        (
            "keeper.md",
            b"# The keeper\n\nThe lighthouse keeper wrote in the log every day at dawn.\n".to_vec(),
        ),
    ];
    for (name, bytes) in &files {
        std::fs::write(docs.path().join(name), bytes).unwrap();
    }
    assert!(files[1].1.len() < 8 << 20, "the bomb is small on disk");

    let first = cairn(data.path())
        .args(["add", "--json"])
        .arg(docs.path())
        .output()
        .unwrap();
    // Exit status 2: some files failed. A crash would be a signal, with no status.
    assert_eq!(first.status.code(), Some(2), "{first:?}");
    let lines = json_lines(&first);
    let form = outcome(&lines, "self-drawing-form.pdf", &first);
    if reader == "builtin" {
        assert_eq!(form["code"], "parser_crashed", "{form}");
        assert!(
            form["reason"].as_str().unwrap().contains("stack overflow"),
            "{form}"
        );
    } else {
        // PDFium draws a form once however often it refers to itself; its one word is read.
        assert_eq!(form["status"], "indexed", "{form}");
    }
    let bomb = outcome(&lines, "flate-bomb.pdf", &first);
    assert_eq!(bomb["code"], "memory_limit", "{bomb}");
    assert!(bomb["reason"].as_str().unwrap().contains("64 MB"), "{bomb}");
    for name in ["page-tree-cycle.pdf", "deep-arrays.pdf"] {
        let line = outcome(&lines, name, &first);
        let indexed = line["status"] == "indexed";
        let failed_with_reason =
            line["status"] == "failed" && !line["reason"].as_str().unwrap_or("").is_empty();
        assert!(indexed || failed_with_reason, "{line}");
    }
    let keeper = outcome(&lines, "keeper.md", &first);
    assert_eq!(keeper["status"], "indexed", "{keeper}");

    // A second run starts no parser on the same content and does not crash.
    let second = cairn(data.path())
        .args(["add", "--json"])
        .arg(docs.path())
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2), "{second:?}");
    let lines = json_lines(&second);
    let bomb = outcome(&lines, "flate-bomb.pdf", &second);
    assert_eq!(bomb["code"], "quarantined", "{bomb}");
    let form = outcome(&lines, "self-drawing-form.pdf", &second);
    let expected = if reader == "builtin" {
        "quarantined"
    } else {
        "unchanged"
    };
    assert!(
        form["code"] == expected || form["status"] == expected,
        "{form}"
    );
    assert_eq!(outcome(&lines, "keeper.md", &second)["status"], "unchanged");

    // And the library answers from what was indexed.
    let found = cairn(data.path())
        .args(["search", "--json", "when did the keeper write the log"])
        .output()
        .unwrap();
    assert!(found.status.success(), "{found:?}");
    assert!(
        String::from_utf8_lossy(&found.stdout).contains("every day at dawn"),
        "{found:?}"
    );
}

/// A cross-reference table whose `/Prev` points at itself.
fn xref_loop() -> Vec<u8> {
    let mut doc = pdf(&[
        CATALOG.to_vec(),
        ONE_PAGE.to_vec(),
        page("<< >>", "4 0 R"),
        stream("", b"BT 72 720 Td (Loop) Tj ET"),
    ]);
    let start = doc
        .windows(9)
        .rposition(|w| w == b"startxref")
        .expect("a startxref");
    let xref_at: usize = String::from_utf8_lossy(&doc[start + 10..])
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let trailer = doc.windows(7).rposition(|w| w == b"trailer").unwrap();
    let tail = format!(
        "trailer\n<< /Size 5 /Root 1 0 R /Prev {xref_at} >>\nstartxref\n{xref_at}\n%%EOF\n"
    );
    doc.truncate(trailer);
    doc.extend_from_slice(tail.as_bytes());
    doc
}

#[test]
fn every_other_kind_of_bad_file_fails_alone_with_its_code_through_the_worker() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("config.toml"),
        "[ingest]\nmax_archive_bytes = 1048576\n",
    )
    .unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cairn-ingest/tests/fixtures");
    for name in ["bomb.docx", "truncated.pdf", "encrypted.pdf"] {
        std::fs::copy(fixtures.join(name), docs.path().join(name)).unwrap();
    }
    // 2 GiB on disk without writing it: refused before it is read.
    std::fs::File::create(docs.path().join("huge.txt"))
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    std::fs::write(
        docs.path().join("binary.md"),
        [0x7F, b'E', b'L', b'F', 0, 0, 1, 2],
    )
    .unwrap();
    std::fs::write(
        docs.path().join("latin1.md"),
        b"# Caf\xe9\n\nThe caf\xe9 opens at dawn.\n",
    )
    .unwrap();
    std::fs::write(docs.path().join("xref-loop.pdf"), xref_loop()).unwrap();
    std::fs::write(
        docs.path().join("keeper.md"),
        "# The keeper\n\nThe lighthouse keeper wrote in the log every day at dawn.\n",
    )
    .unwrap();

    let out = cairn(data.path())
        .args(["add", "--json"])
        .arg(docs.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let lines = json_lines(&out);
    // Each code crossed the process boundary as the parser gave it.
    for (name, code) in [
        ("bomb.docx", "archive_too_large"),
        ("truncated.pdf", "corrupt"),
        ("encrypted.pdf", "encrypted"),
        ("huge.txt", "too_large"),
        ("binary.md", "wrong_format"),
    ] {
        let line = outcome(&lines, name, &out);
        assert_eq!(line["code"], code, "{line}");
        assert!(!line["reason"].as_str().unwrap().is_empty(), "{line}");
    }
    for name in ["latin1.md", "xref-loop.pdf"] {
        let line = outcome(&lines, name, &out);
        let indexed = line["status"] == "indexed";
        let failed_with_reason =
            line["status"] == "failed" && !line["reason"].as_str().unwrap_or("").is_empty();
        assert!(indexed || failed_with_reason, "{line}");
    }
    assert_eq!(outcome(&lines, "keeper.md", &out)["status"], "indexed");
}

/// A scanned page (an image, no text layer) goes through the worker to Tesseract and comes back
/// as text that can be found; with OCR off it fails alone and says why.
#[test]
fn a_scanned_pdf_is_read_by_ocr_through_the_worker() {
    let docs = tempfile::tempdir().unwrap();
    let scan = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../cairn-ingest/tests/fixtures/scanned-page.pdf");
    std::fs::copy(&scan, docs.path().join("scanned-page.pdf")).unwrap();

    let data = tempfile::tempdir().unwrap();
    let out = cairn(data.path())
        .args(["add", "--json"])
        .arg(docs.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out);
    let line = outcome(&lines, "scanned-page.pdf", &out);
    assert_eq!(line["status"], "indexed", "{line}");
    assert_eq!(line["pages"], 1, "{line}");
    let found = cairn(data.path())
        .args([
            "search",
            "--json",
            "adjusting the grind until a new bag of beans tastes right",
        ])
        .output()
        .unwrap();
    let found = String::from_utf8_lossy(&found.stdout);
    assert!(found.contains("dialling in"), "{found}");

    let off = tempfile::tempdir().unwrap();
    std::fs::write(off.path().join("config.toml"), "[ingest]\nocr = false\n").unwrap();
    let out = cairn(off.path())
        .args(["add", "--json"])
        .arg(docs.path())
        .output()
        .unwrap();
    // Exit status 3: nothing could be indexed.
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let lines = json_lines(&out);
    let line = outcome(&lines, "scanned-page.pdf", &out);
    assert_eq!(line["code"], "needs_ocr", "{line}");
    assert!(
        line["reason"]
            .as_str()
            .unwrap()
            .contains("OCR is turned off"),
        "{line}"
    );
}
