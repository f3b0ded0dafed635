//! OCR for scanned PDF pages: a page with no text layer (or only a few stray characters) that
//! holds an image is drawn at 300 dpi in grey and read by Tesseract's command-line program, the
//! field's standard engine (Debian `tesseract-ocr`, Homebrew `tesseract`, the UB Mannheim build on
//! Windows). Tesseract runs as a child process, one page at a time, under the parse's time limit:
//! like the parse worker it cannot take the program down.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use pdfium_render::prelude::*;
use serde::{Deserialize, Serialize};
use wait_timeout::ChildExt;

/// How scanned pages are read: Tesseract's program and the languages it reads (`eng`,
/// `eng+deu`: its `-l` argument, each with its traineddata installed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tesseract {
    /// The `tesseract` executable.
    pub program: PathBuf,
    /// Tesseract's `-l` argument.
    pub languages: String,
}

static TESSERACT: RwLock<Option<Tesseract>> = RwLock::new(None);

/// Reads scanned pages with `tesseract` from now on, here and in parse workers (`None`: scanned
/// pages stay without text, and say so in the document's warnings). Parses asked not to OCR
/// (`ParseLimits::ocr` false) do not, whatever is set here.
pub fn use_tesseract(tesseract: Option<Tesseract>) {
    *TESSERACT.write().unwrap_or_else(|e| e.into_inner()) = tesseract;
}

/// The Tesseract scanned pages are read with, if one was set.
pub fn tesseract() -> Option<Tesseract> {
    TESSERACT.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Fewer letters and digits than this on a page that holds an image: the page is a scan (or a
/// scan with a few stray characters of a header stamped on it).
const SCANT_TEXT: usize = 20;

/// Resolution a scanned page is drawn at for OCR: Tesseract's sweet spot.
const OCR_DPI: f32 = 300.0;

/// The longest side of a page drawn for OCR, in pixels, whatever its size in points (a poster
/// page at 300 dpi would be hundreds of megapixels).
const MAX_OCR_SIDE: f32 = 6000.0;

/// Whether a page's text is too scant for a text layer and the page holds an image to read.
pub(super) fn looks_scanned(page: &PdfPage, text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
    letters < SCANT_TEXT
        && page
            .objects()
            .iter()
            .any(|o| o.object_type() == PdfPageObjectType::Image)
}

/// Reads a page by OCR, within `deadline`.
pub(super) fn read_page(
    page: &PdfPage,
    tesseract: &Tesseract,
    deadline: Instant,
) -> Result<String, String> {
    let scale = (OCR_DPI / 72.0).min(MAX_OCR_SIDE / page.width().value.max(page.height().value));
    let config = PdfRenderConfig::new()
        .scale_page_by_factor(scale)
        .render_form_data(true);
    let bitmap = page
        .render_with_config(&config)
        .map_err(|e| format!("it could not be drawn for OCR: {e:?}"))?;
    let (w, h) = (bitmap.width() as u32, bitmap.height() as u32);
    let grey: Vec<u8> = bitmap
        .as_rgba_bytes()
        .chunks_exact(4)
        .map(|p| ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000) as u8)
        .collect();
    let png = encode_grey_png(&grey, w, h)?;
    run(tesseract, &png, deadline)
}

/// `tesseract stdin stdout`: the PNG in, the text out.
fn run(tesseract: &Tesseract, png: &[u8], deadline: Instant) -> Result<String, String> {
    let mut child = Command::new(&tesseract.program)
        .args([
            "stdin",
            "stdout",
            "-l",
            &tesseract.languages,
            "--dpi",
            "300",
        ])
        .args(["--psm", "3"])
        // One thread: pages are read in parallel by parse workers, one per core.
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "Tesseract ({}) did not start: {e}",
                tesseract.program.display()
            )
        })?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let png = png.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&png);
    });
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = std::thread::spawn(move || {
        let mut err = String::new();
        let _ = stderr.read_to_string(&mut err);
        err
    });
    let left = deadline.saturating_duration_since(Instant::now());
    let status = child
        .wait_timeout(left.max(Duration::from_secs(1)))
        .map_err(|e| e.to_string())?;
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("OCR ran out of time".into());
    };
    let _ = feeder.join();
    let text = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    let err = errors.join().unwrap_or_default();
    if !status.success() {
        let why = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no reason given");
        return Err(format!("Tesseract failed ({status}): {why}"));
    }
    Ok(text)
}

fn encode_grey_png(grey: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(grey).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}
