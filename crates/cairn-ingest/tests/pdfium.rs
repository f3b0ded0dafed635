//! PDFs read and drawn by the real PDFium library (`models/pdfium/`, placed by
//! `scripts/fetch-models`). A process binds one PDFium, so these tests share one binding.

#[path = "support/cer.rs"]
mod cer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};

use cairn_ingest::{
    DocumentKind, ParseLimits, ParseProgress, PdfReader, parse_bytes, parse_bytes_reporting,
    parse_file, render_page,
};
use cer::{edit_distance, squash};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn with_pdfium() {
    static BIND: Once = Once::new();
    BIND.call_once(|| {
        let library = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../models/pdfium")
            .join(if cfg!(target_os = "windows") {
                "pdfium.dll"
            } else if cfg!(target_os = "macos") {
                "libpdfium.dylib"
            } else {
                "libpdfium.so"
            });
        assert!(
            library.is_file(),
            "{} is missing: run scripts/fetch-models",
            library.display()
        );
        cairn_ingest::use_pdfium(&library);
    });
}

/// A one-page PDF (`media_box`, `/Rotate`) whose content stream is `content`, in Helvetica.
fn one_page_pdf(media_box: &str, rotate: u32, content: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox {media_box} /Rotate {rotate} \
             /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{object}\nendobj\n", i + 1).bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    out
}

#[test]
fn pdfium_keeps_the_text_of_each_page_with_its_number() {
    with_pdfium();
    let told = Arc::new(Mutex::new(Vec::new()));
    let sink = told.clone();
    parse_bytes_reporting(
        DocumentKind::Pdf,
        std::fs::read(fixture("three-pages.pdf")).unwrap(),
        &ParseLimits::default(),
        Arc::new(move |p| sink.lock().unwrap().push(p)),
    )
    .unwrap();
    let told = told.lock().unwrap();
    assert_eq!(
        told.last(),
        Some(&ParseProgress {
            done: 3,
            total: 3,
            ocr: false
        }),
        "the last page is always told: {told:?}"
    );
    let (kind, doc) = parse_file(&fixture("three-pages.pdf"), &ParseLimits::default()).unwrap();
    assert_eq!(kind, DocumentKind::Pdf);
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    let pages: Vec<(Option<u32>, &str)> = doc
        .sections
        .iter()
        .map(|s| (s.page, s.text.as_str()))
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_eq!(pages[1].0, Some(2));
    assert!(
        pages[1].1.contains("Fresnel lenses focus the beam"),
        "{pages:?}"
    );
    assert!(pages[2].1.contains("Automation replaced"), "{pages:?}");
}

#[test]
fn text_on_a_rotated_page_and_outside_the_page_box_is_read() {
    with_pdfium();
    // Drawn beyond the media box: PDFium's page-bounded text would drop it.
    let pdf = one_page_pdf(
        "[0 0 200 200]",
        90,
        "BT /F1 12 Tf 20 100 Td (Inside the box) Tj ET BT /F1 12 Tf 260 300 Td (Beyond the box) Tj ET",
    );
    let doc = parse_bytes(DocumentKind::Pdf, pdf, &ParseLimits::default()).unwrap();
    let text = doc.full_text();
    assert!(text.contains("Inside the box"), "{text:?}");
    assert!(text.contains("Beyond the box"), "{text:?}");
}

#[test]
fn damaged_and_encrypted_files_fail_with_their_codes() {
    with_pdfium();
    for (name, code) in [("encrypted.pdf", "encrypted"), ("truncated.pdf", "corrupt")] {
        let err = parse_file(&fixture(name), &ParseLimits::default()).unwrap_err();
        assert_eq!(err.code(), code, "{name}: {err}");
    }
}

#[test]
fn the_builtin_reader_is_used_when_asked_for() {
    with_pdfium();
    let limits = ParseLimits {
        pdf_reader: PdfReader::Builtin,
        ..ParseLimits::default()
    };
    // Only PDFium reports the pages it reads: told nothing, the built-in reader ran.
    let told = Arc::new(Mutex::new(Vec::new()));
    let sink = told.clone();
    let doc = parse_bytes_reporting(
        DocumentKind::Pdf,
        std::fs::read(fixture("three-pages.pdf")).unwrap(),
        &limits,
        Arc::new(move |p| sink.lock().unwrap().push(p)),
    )
    .unwrap();
    assert!(
        told.lock().unwrap().is_empty(),
        "{:?}",
        told.lock().unwrap()
    );
    assert_eq!(doc.sections.len(), 3);
    assert!(doc.full_text().contains("Fresnel"));
    assert!(
        doc.warnings.is_empty(),
        "asked for, it is no fallback: {:?}",
        doc.warnings
    );
}

#[test]
fn a_cited_page_is_drawn_with_the_passage_lines_highlighted() {
    with_pdfium();
    let bytes = std::fs::read(fixture("three-pages.pdf")).unwrap();
    let drawn = render_page(&bytes, 2, 600, "Fresnel lenses focus the beam.").unwrap();
    assert_eq!(drawn.page_count, 3);
    assert_eq!(drawn.width, 600);
    let decoder = png::Decoder::new(std::io::Cursor::new(&drawn.png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (drawn.width, drawn.height));
    assert!(!drawn.highlights.is_empty(), "the passage is found");
    // Inside a highlight the white page turns yellow (blue drops); far from it, it stays white.
    let at = |x: u32, y: u32| {
        let i = ((y * frame.width + x) * 4) as usize;
        [pixels[i], pixels[i + 1], pixels[i + 2]]
    };
    let [left, top, right, bottom] = drawn.highlights[0];
    assert!(right > left && bottom > top && bottom <= drawn.height);
    let (x, y) = (left + 1, top + 1);
    let tinted = at(x, y);
    assert!(tinted[2] < 200 && tinted[0] > 200, "{tinted:?} at {x},{y}");
    let far = at(drawn.width - 5, drawn.height - 5);
    assert_eq!(far, [255, 255, 255]);

    let elsewhere = render_page(&bytes, 1, 600, "Fresnel lenses focus the beam.").unwrap();
    assert!(
        elsewhere.highlights.is_empty(),
        "{:?}",
        elsewhere.highlights
    );
    let err = render_page(&bytes, 4, 600, "x").unwrap_err();
    assert!(err.to_string().contains("no page 4"), "{err}");
}

#[test]
fn a_scanned_page_is_read_by_ocr_with_its_page_number() {
    with_pdfium();
    // A page drawn from known text at 300 dpi, turned up to 1.5 degrees, with noise, saved as a
    // black-and-white image with no text layer (scripts/make-scanned-pdfs.py, seed 7).
    let program = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join("tesseract"))
        .find(|p| p.is_file())
        .expect("tesseract is on PATH (Debian tesseract-ocr, installed by scripts/setup)");
    cairn_ingest::use_tesseract(Some(cairn_ingest::Tesseract {
        program,
        languages: "eng".into(),
    }));
    let told = Arc::new(Mutex::new(Vec::new()));
    let sink = told.clone();
    let doc = parse_bytes_reporting(
        DocumentKind::Pdf,
        std::fs::read(fixture("scanned-page.pdf")).unwrap(),
        &ParseLimits::default(),
        Arc::new(move |p| sink.lock().unwrap().push(p)),
    )
    .unwrap();
    assert_eq!(
        *told.lock().unwrap(),
        vec![ParseProgress {
            done: 1,
            total: 1,
            ocr: true
        }],
        "the page read by OCR is told as such"
    );
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(doc.sections[0].page, Some(1));
    let truth = squash(&std::fs::read_to_string(fixture("scanned-page.txt")).unwrap());
    let read = squash(&doc.sections[0].text);
    let errors = edit_distance(&truth, &read);
    assert!(
        errors * 100 <= truth.len() * 3,
        "character error rate {errors}/{} over 3%: {}",
        truth.len(),
        read.iter().collect::<String>()
    );

    // Turned off, the scan fails with a reason a person can act on, not as "empty".
    let off = ParseLimits {
        ocr: false,
        ..ParseLimits::default()
    };
    let err = parse_file(&fixture("scanned-page.pdf"), &off).unwrap_err();
    assert_eq!(err.code(), "needs_ocr");
    assert!(err.to_string().contains("page 1 is scanned"), "{err}");
    assert!(err.to_string().contains("turned off"), "{err}");
}
