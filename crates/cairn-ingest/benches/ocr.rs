//! OCR of scanned pages: character error rate against the known text, and seconds per page.
//!
//! ```text
//! $CAIRN_PYTHON scripts/make-scanned-pdfs.py /tmp/scans --pages 10 --dpi 300   # needs Pillow
//! cargo bench -p cairn-ingest --bench ocr -- /tmp/scans
//! ```
//!
//! Each `scan-NN.pdf` (an image-only page) is parsed as `cairn add` parses it (PDFium finds no
//! text layer and an image, draws the page at 300 dpi and hands it to `tesseract` from `PATH`),
//! and its text is compared with `scan-NN.txt`: the edit distance between the two, whitespace
//! runs made one space, over the length of the known text.

#[path = "../tests/support/cer.rs"]
mod cer;

use std::path::{Path, PathBuf};
use std::time::Instant;

use cer::{edit_distance as levenshtein, squash};

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .expect("usage: ocr DIR (from scripts/make-scanned-pdfs.py)");
    cairn_ingest::use_pdfium(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/pdfium/libpdfium.so"),
    );
    cairn_ingest::use_tesseract(Some(cairn_ingest::Tesseract {
        program: "tesseract".into(),
        languages: "eng".into(),
    }));
    let mut pdfs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the folder can be read")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    pdfs.sort();
    let limits = cairn_ingest::ParseLimits::default();
    let (mut errors, mut chars, mut seconds) = (0usize, 0usize, 0f64);
    println!("| page | characters | edit distance | CER | seconds |");
    println!("|---|---|---|---|---|");
    for pdf in &pdfs {
        let truth = squash(&std::fs::read_to_string(pdf.with_extension("txt")).unwrap());
        let bytes = std::fs::read(pdf).unwrap();
        let started = Instant::now();
        let doc = cairn_ingest::parse_bytes(cairn_ingest::DocumentKind::Pdf, bytes, &limits)
            .unwrap_or_else(|e| panic!("{}: {e}", pdf.display()));
        let took = started.elapsed().as_secs_f64();
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
        let read = squash(&doc.full_text());
        let distance = levenshtein(&truth, &read);
        let n = truth.len();
        println!(
            "| {} | {n} | {distance} | {:.2}% | {took:.2} |",
            pdf.file_name().unwrap().to_string_lossy(),
            100.0 * distance as f64 / n as f64
        );
        errors += distance;
        chars += n;
        seconds += took;
    }
    println!(
        "\n{} pages: CER {:.2}%, {:.2} s per page",
        pdfs.len(),
        100.0 * errors as f64 / chars.max(1) as f64,
        seconds / pdfs.len().max(1) as f64
    );
}
