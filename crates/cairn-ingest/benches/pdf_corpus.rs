//! Reading a corpus of real-world PDFs, beside poppler's `pdftotext` in the same run.
//!
//! ```text
//! python3 scripts/fetch-pdf-corpus            # the corpus, into ~/.cache/cairn/pdf-corpus
//! cargo bench -p cairn-ingest --bench pdf_corpus -- ~/.cache/cairn/pdf-corpus [--jobs 2] [--builtin]
//! ```
//!
//! Each file is read twice, each time by a process of its own under `/usr/bin/time` (for its peak
//! memory): `pdftotext -enc UTF-8 FILE -`, and this binary reading it the way a parse worker does
//! (`--one FILE`: PDFium, or with `--builtin` the built-in reader). `--jobs N` files are read at
//! once by each side in turn. Printed: files each side reads (at least one word), the files
//! `pdftotext` reads and Cairn does not, the words recovered against `pdftotext`'s (per file, the
//! multiset of words both give over `pdftotext`'s; summed over the corpus), pages per second over
//! the whole run, and peak memory.
//!
//! PDFium is `$CAIRN_PDFIUM` or `models/pdfium/libpdfium.so` (`scripts/fetch-models`); scanned
//! pages are read by `tesseract` from `PATH` (English), as `cairn add` reads them.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use unicode_normalization::UnicodeNormalization;
use wait_timeout::ChildExt;

const LIMIT: Duration = Duration::from_secs(120);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--one") {
        let file = args[1..].iter().find(|a| !a.starts_with("--"));
        let builtin = args.iter().any(|a| a == "--builtin");
        std::process::exit(read_one(Path::new(file.expect("--one FILE")), builtin));
    }
    let Some(dir) = args
        .iter()
        .find(|a| !a.starts_with("--") && Path::new(a).is_dir())
    else {
        eprintln!("usage: pdf_corpus DIR [--jobs N] [--builtin]");
        std::process::exit(2);
    };
    let jobs: usize = args
        .iter()
        .position(|a| a == "--jobs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    let builtin = args.iter().any(|a| a == "--builtin");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the corpus folder can be read")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")))
        .collect();
    files.sort();
    let me = std::env::current_exe().expect("this binary's path");
    let mut ours_cmd = vec![me.display().to_string(), "--one".into()];
    if builtin {
        ours_cmd.push("--builtin".into());
    }
    let peer_cmd = vec![
        "pdftotext".to_string(),
        "-enc".into(),
        "UTF-8".into(),
        "--".into(),
    ];
    eprintln!("{} files, {jobs} at a time", files.len());
    let (peer, peer_wall) = run_all(&files, &peer_cmd, jobs);
    let (ours, ours_wall) = run_all(&files, &ours_cmd, jobs);
    report(&files, &peer, peer_wall, &ours, ours_wall, builtin);
}

/// One file read by one side.
#[derive(Default, Clone)]
struct Reading {
    text: String,
    peak_kb: u64,
    seconds: f64,
    failed: Option<String>,
}

fn run_all(files: &[PathBuf], command: &[String], jobs: usize) -> (Vec<Reading>, f64) {
    let results = Mutex::new(vec![Reading::default(); files.len()]);
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let reading = run_one(command, file);
                    results.lock().unwrap()[i] = reading;
                }
            });
        }
    });
    (
        results.into_inner().unwrap(),
        started.elapsed().as_secs_f64(),
    )
}

fn run_one(command: &[String], file: &Path) -> Reading {
    let peak = tempfile::NamedTempFile::new().expect("a temporary file");
    let started = Instant::now();
    let mut child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(peak.path())
        .args(command)
        .arg(file)
        .args(if command[0] == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/time and the reader start");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut err = String::new();
        let _ = stderr.read_to_string(&mut err);
        err
    });
    let status = child.wait_timeout(LIMIT).ok().flatten();
    let timed_out = status.is_none();
    if timed_out {
        let _ = child.kill();
        let _ = child.wait();
    }
    let seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    let err = errors.join().unwrap();
    let peak_kb = std::fs::read_to_string(peak.path())
        .ok()
        .and_then(|s| s.lines().rev().find_map(|l| l.trim().parse().ok()))
        .unwrap_or(0);
    let failed = match status {
        None => Some(format!("took longer than {LIMIT:?}")),
        Some(s) if !s.success() => Some(
            err.lines()
                .rev()
                .find(|l| !l.trim().is_empty() && !l.starts_with("Command"))
                .unwrap_or("failed")
                .to_string(),
        ),
        Some(_) => None,
    };
    Reading {
        text,
        peak_kb,
        seconds,
        failed,
    }
}

/// `--one FILE`: reads a PDF as a parse worker does and prints its pages, a form feed after each.
fn read_one(file: &Path, builtin: bool) -> i32 {
    if !builtin {
        let library = std::env::var_os("CAIRN_PDFIUM")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/pdfium/libpdfium.so")
            });
        cairn_ingest::use_pdfium(&library);
        cairn_ingest::use_tesseract(Some(cairn_ingest::Tesseract {
            program: "tesseract".into(),
            languages: "eng".into(),
        }));
    }
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let limits = cairn_ingest::ParseLimits::default();
    match cairn_ingest::parse_bytes(cairn_ingest::DocumentKind::Pdf, bytes, &limits) {
        Ok(doc) => {
            let mut out = String::new();
            for section in &doc.sections {
                out.push_str(&section.text);
                out.push('\u{c}');
            }
            print!("{out}");
            for warning in doc.warnings.iter().filter(|w| !w.contains("built-in")) {
                eprintln!("warning: {warning}");
            }
            0
        }
        Err(e) => {
            eprintln!("{}: {e}", e.code());
            1
        }
    }
}

/// Words as both sides are compared: after NFKC (Arabic presentation forms and ligatures such as
/// "ﬁ" read as their letters), runs of letters and digits, lower-cased; each CJK character a word
/// of its own (neither side puts spaces between them).
fn words(text: &str) -> HashMap<String, u32> {
    let text: String = text.nfkc().collect();
    let mut counts = HashMap::new();
    let mut word = String::new();
    let mut flush = |word: &mut String| {
        if !word.is_empty() {
            *counts.entry(std::mem::take(word)).or_insert(0) += 1;
        }
    };
    for c in text.chars() {
        if is_cjk(c) {
            flush(&mut word);
            word.push(c);
            flush(&mut word);
        } else if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else {
            flush(&mut word);
        }
    }
    flush(&mut word);
    counts
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

fn report(
    files: &[PathBuf],
    peer: &[Reading],
    peer_wall: f64,
    ours: &[Reading],
    ours_wall: f64,
    builtin: bool,
) {
    let name = if builtin {
        "Cairn (built-in reader)"
    } else {
        "Cairn (PDFium)"
    };
    let mut peer_words = 0u64;
    let mut shared_words = 0u64;
    let mut below = Vec::new();
    let mut missed = Vec::new();
    let mut pages = 0usize;
    let (mut peer_read, mut ours_read) = (0, 0);
    for ((file, p), o) in files.iter().zip(peer).zip(ours) {
        let pw = words(&p.text);
        let ow = words(&o.text);
        let p_total: u64 = pw.values().map(|&n| n as u64).sum();
        let o_total: u64 = ow.values().map(|&n| n as u64).sum();
        let p_ok = p.failed.is_none() && p_total > 0;
        let o_ok = o.failed.is_none() && o_total > 0;
        peer_read += usize::from(p_ok);
        ours_read += usize::from(o_ok);
        pages += p
            .text
            .matches('\u{c}')
            .count()
            .max(o.text.matches('\u{c}').count());
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if p_ok && !o_ok {
            missed.push(format!(
                "{name}: {}",
                o.failed.clone().unwrap_or_else(|| "no text".into())
            ));
        }
        if p_ok {
            let shared: u64 = pw
                .iter()
                .map(|(w, &n)| n.min(ow.get(w).copied().unwrap_or(0)) as u64)
                .sum();
            peer_words += p_total;
            shared_words += shared;
            let ratio = shared as f64 / p_total as f64;
            if ratio < 0.98 {
                below.push((ratio, name, p_total));
            }
        }
    }
    below.sort_by(|a, b| a.0.total_cmp(&b.0));
    let peak = |r: &[Reading]| {
        let mut kb: Vec<u64> = r.iter().map(|r| r.peak_kb).collect();
        kb.sort_unstable();
        (
            kb[kb.len() / 2] as f64 / 1024.0,
            kb[kb.len() - 1] as f64 / 1024.0,
        )
    };
    let slowest = |r: &[Reading]| r.iter().map(|r| r.seconds).fold(0.0, f64::max);
    let (pp50, pmax) = peak(peer);
    let (op50, omax) = peak(ours);
    println!("files: {}, pages: {pages}", files.len());
    println!(
        "| reader | files read | words recovered | pages/s | slowest file (s) | peak MB p50 | peak MB max |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| pdftotext | {peer_read} | 1 (reference) | {:.0} | {:.2} | {pp50:.0} | {pmax:.0} |",
        pages as f64 / peer_wall,
        slowest(peer)
    );
    println!(
        "| {name} | {ours_read} | {:.4} | {:.0} | {:.2} | {op50:.0} | {omax:.0} |",
        shared_words as f64 / peer_words.max(1) as f64,
        pages as f64 / ours_wall,
        slowest(ours)
    );
    println!("\nread by pdftotext, not by {name} ({}):", missed.len());
    for m in &missed {
        println!("  {m}");
    }
    println!("\nfiles under 0.98 of pdftotext's words ({}):", below.len());
    for (ratio, name, total) in below.iter().take(40) {
        println!("  {ratio:.3}  {name} ({total} words)");
    }
}
