//! Parsing in a worker process.
//!
//! A parser that overflows its stack, runs out of memory or never ends takes down the process it
//! runs in: `catch_unwind` and a thread stop panics, not aborts. So where the program allows it,
//! each file is parsed by a child process of the same executable, started as a parse worker: every
//! binary that may serve as one calls [`serve_if_asked`] first thing in `main`. The child caps its
//! own memory (Linux) and CPU time (Unix), reads the file's bytes from stdin (the bytes the parent
//! hashed, so a file that changes while it is read is parsed as it was hashed), parses them as
//! [`crate::parse_bytes`] does, and writes JSON to stdout: a [`Reply::Progress`] for each stretch
//! of pages read, then one final [`Reply`]. The parent kills it at
//! the wall-clock limit and turns however it ended into a [`ParseError`]: "needed more than
//! 2048 MB", "took longer than 120 s", "the parser crashed (stack overflow)". The file fails alone;
//! the process and the rest of the batch go on.
//!
//! A program that never called [`serve_if_asked`] (a test binary, a library user) parses in its
//! own process, on a thread, as before.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wait_timeout::ChildExt;

use crate::document::{Document, DocumentKind};
use crate::error::ParseError;
use crate::parse::{
    PARSER_STACK_BYTES, ParseLimits, RenderedPage, parse_bytes_reporting, render_page,
};
use crate::progress::{OnParseProgress, ParseProgress};

/// The first argument that makes a Cairn binary a parse worker.
pub const WORKER_ARG: &str = "--cairn-parse-worker";

/// The executable started as a parse worker, once a binary offered itself.
static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// The last bytes of a worker's stderr kept to tell how it ended.
const STDERR_TAIL: usize = 8 * 1024;

/// The most of a passage a render request carries.
const MAX_PASSAGE_CHARS: usize = 8 * 1024;

/// Grace beyond the parse's own time limit, for the worker to start and write its reply.
const START_GRACE: Duration = Duration::from_secs(10);

/// Call first in `main`. Started as a parse worker, the process serves one file and exits here;
/// otherwise this executable becomes the program later parses run in.
pub fn serve_if_asked() {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() == Some(OsStr::new(WORKER_ARG)) {
        let request = args.next().unwrap_or_default();
        std::process::exit(serve(&request.to_string_lossy()));
    }
    if let Ok(exe) = std::env::current_exe() {
        let _ = PROGRAM.set(exe);
    }
}

/// Parses in worker processes of `program` (which must call [`serve_if_asked`]) from now on: for
/// a host whose own executable cannot serve. The first program set stays.
pub fn use_program(program: &Path) {
    let _ = PROGRAM.set(program.to_path_buf());
}

/// The worker-only program's name (`src/bin/cairn-parse-worker.rs`), installed beside the app.
const WORKER_PROGRAM: &str = "cairn-parse-worker";

/// Parses in worker processes of `cairn-parse-worker` where it lies beside this executable (same
/// folder, same build), and returns its path; `None` leaves the choice to [`serve_if_asked`]. Call
/// it before that, which otherwise makes this executable the worker program.
pub fn use_worker_beside_this_program() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let worker = exe.with_file_name(format!("{WORKER_PROGRAM}{}", std::env::consts::EXE_SUFFIX));
    if !worker.is_file() {
        return None;
    }
    PROGRAM.set(worker.clone()).ok()?;
    Some(worker)
}

/// Whether parses run in a worker process.
pub fn isolated() -> bool {
    PROGRAM.get().is_some()
}

/// What the parent asks of a worker, as its second argument.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    kind: DocumentKind,
    limits: ParseLimits,
    /// The PDFium library the parent reads PDFs with ([`crate::use_pdfium`]).
    #[serde(default)]
    pdfium: Option<PathBuf>,
    /// The Tesseract the parent reads scanned pages with ([`crate::use_tesseract`]).
    #[serde(default)]
    tesseract: Option<crate::Tesseract>,
    /// What to do with the bytes.
    #[serde(default)]
    job: Job,
}

/// What a worker does with the bytes it reads.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
enum Job {
    /// Parse them as a document of the request's kind.
    #[default]
    Parse,
    /// Draw a page of a PDF with a passage highlighted ([`crate::render_page`]).
    Render {
        page: u32,
        width: u32,
        passage: String,
    },
}

/// What a worker writes on stdout: any number of `Progress`, then one of the others.
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    Progress(ParseProgress),
    Parsed(Document),
    Rendered(RenderedPage),
    Failed { code: String, message: String },
}

/// Parses `bytes` of a document of `kind` within `limits`: in a worker process where the program
/// offered one ([`serve_if_asked`]), else in this process as [`parse_bytes`] does.
pub fn parse_isolated(
    kind: DocumentKind,
    bytes: Vec<u8>,
    limits: &ParseLimits,
) -> Result<Document, ParseError> {
    parse_isolated_reporting(kind, bytes, limits, crate::ignore_progress())
}

/// [`parse_isolated`], telling `on_progress` of the pages read as it goes (from a worker, as it
/// reports them).
pub fn parse_isolated_reporting(
    kind: DocumentKind,
    bytes: Vec<u8>,
    limits: &ParseLimits,
    on_progress: OnParseProgress,
) -> Result<Document, ParseError> {
    let Some(program) = PROGRAM.get() else {
        return parse_bytes_reporting(kind, bytes, limits, on_progress);
    };
    match run_in_worker(
        program,
        kind,
        Job::Parse,
        bytes,
        limits,
        on_progress.as_ref(),
    )? {
        Reply::Parsed(doc) => Ok(doc),
        other => Err(unexpected(other)),
    }
}

/// Draws page `page` (1-based) of a PDF at `width` pixels with `passage` highlighted, in a worker
/// process where the program offered one (a hostile file then cannot take the caller down), else
/// here. Needs PDFium ([`crate::use_pdfium`]).
pub fn render_isolated(
    bytes: Vec<u8>,
    page: u32,
    width: u32,
    passage: &str,
    limits: &ParseLimits,
) -> Result<RenderedPage, ParseError> {
    let Some(program) = PROGRAM.get() else {
        return render_page(&bytes, page, width, passage);
    };
    // The request travels as an argument, which the OS caps (128 KiB on Linux): a passage is
    // found by its words, and its first few thousand are plenty.
    let passage: String = passage.chars().take(MAX_PASSAGE_CHARS).collect();
    let job = Job::Render {
        page,
        width,
        passage,
    };
    match run_in_worker(program, DocumentKind::Pdf, job, bytes, limits, &|_| {})? {
        Reply::Rendered(page) => Ok(page),
        other => Err(unexpected(other)),
    }
}

fn unexpected(reply: Reply) -> ParseError {
    let what = match reply {
        Reply::Progress(_) => "progress alone",
        Reply::Parsed(_) => "a parsed document",
        Reply::Rendered(_) => "a drawn page",
        Reply::Failed { .. } => "a failure",
    };
    ParseError::ParserCrashed(format!(
        "the worker answered with {what}, not what was asked"
    ))
}

/// Runs `job` on `bytes` in a worker process, passing the progress it reports to `on_progress`;
/// a failure the worker reports is returned as its error.
fn run_in_worker(
    program: &Path,
    kind: DocumentKind,
    job: Job,
    bytes: Vec<u8>,
    limits: &ParseLimits,
    on_progress: &(dyn Fn(ParseProgress) + Sync),
) -> Result<Reply, ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    let request = serde_json::to_string(&Request {
        kind,
        limits: *limits,
        pdfium: crate::pdfium_library().map(Path::to_path_buf),
        tesseract: crate::tesseract(),
        job,
    })
    .map_err(|e| ParseError::ParserCrashed(format!("the request could not be written: {e}")))?;
    let mut child = Command::new(program)
        .arg(WORKER_ARG)
        .arg(request)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // mimalloc (the binaries' allocator) reserves a 1 GiB arena up front, which the address
        // space the worker starts with would count and the parse could then fill beyond its
        // limit. Reserving nothing ahead, the worker's address space is what it uses.
        .env("MIMALLOC_ARENA_RESERVE", "0")
        .spawn()
        .map_err(|e| ParseError::ParserCrashed(format!("the parse worker did not start: {e}")))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    // Each pipe on its own thread: a worker blocked writing its reply must not wait on us writing.
    std::thread::scope(|scope| {
        let feeder = scope.spawn(move || {
            // A worker that died early closes the pipe; how it ended is read from its status.
            let _ = stdin.write_all(&bytes);
        });
        // The reply is read as it streams: progress as it comes, and the document decoded from
        // the pipe without first holding its whole JSON.
        let reader = scope.spawn(move || read_replies(stdout, on_progress));
        let errors = scope.spawn(move || {
            let mut err = Vec::new();
            let _ = stderr.read_to_end(&mut err);
            let from = err.len().saturating_sub(STDERR_TAIL);
            String::from_utf8_lossy(&err[from..]).into_owned()
        });
        let status = match child.wait_timeout(limits.timeout + START_GRACE) {
            Ok(Some(status)) => status,
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ParseError::Timeout(limits.timeout));
            }
        };
        let _ = feeder.join();
        let reply = reader
            .join()
            .map_err(|_| ParseError::ParserCrashed("the worker's reply was lost".into()))?;
        let stderr = errors.join().unwrap_or_default();
        if !status.success() {
            return Err(ended_badly(status, &stderr, limits));
        }
        match reply {
            Ok(Reply::Failed { code, message }) => Err(ParseError::reported(&code, message)),
            Ok(reply) => Ok(reply),
            Err(e) => Err(ParseError::ParserCrashed(format!(
                "the parse worker's reply could not be read: {e}"
            ))),
        }
    })
}

/// Reads a worker's replies to the end of its stdout: progress is passed on, the last other reply
/// returned.
fn read_replies(
    stdout: impl Read,
    on_progress: &(dyn Fn(ParseProgress) + Sync),
) -> Result<Reply, String> {
    let replies =
        serde_json::Deserializer::from_reader(std::io::BufReader::new(stdout)).into_iter::<Reply>();
    let mut last = None;
    for reply in replies {
        match reply.map_err(|e| e.to_string())? {
            Reply::Progress(progress) => on_progress(progress),
            other => last = Some(other),
        }
    }
    last.ok_or_else(|| "it ended without one".to_string())
}

/// Why a worker that exited without its reply ended, from its status and the end of its stderr.
fn ended_badly(status: ExitStatus, stderr: &str, limits: &ParseLimits) -> ParseError {
    if stderr.contains("memory allocation of") || stderr.contains("out of memory") {
        return ParseError::MemoryLimit {
            limit: limits.max_memory_bytes,
        };
    }
    if stderr.contains("has overflowed its stack") {
        return ParseError::ParserCrashed(
            "stack overflow (the file nests or refers to itself too deeply)".into(),
        );
    }
    if cpu_limit(status) {
        return ParseError::Timeout(limits.timeout);
    }
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    ParseError::ParserCrashed(match last {
        Some(line) => format!("the parse worker {} ({})", describe(status), line.trim()),
        None => format!("the parse worker {}", describe(status)),
    })
}

#[cfg(unix)]
fn cpu_limit(status: ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    // SIGXCPU: the soft CPU-time limit was reached.
    status.signal() == Some(24)
}

#[cfg(not(unix))]
fn cpu_limit(_: ExitStatus) -> bool {
    false
}

fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "ended".into(),
    }
}

/// The worker's side: limits, then the file from stdin, then one reply on stdout. The exit status
/// is 0 whenever a reply was written, failed parse or not.
fn serve(request: &str) -> i32 {
    let request: Request = match serde_json::from_str(request) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("a parse worker was started with a request it cannot read: {e}");
            return 2;
        }
    };
    if let Some(library) = &request.pdfium {
        crate::use_pdfium(library);
    }
    crate::use_tesseract(request.tesseract.clone());
    limit_self(&request.limits);
    #[cfg(target_os = "linux")]
    say_when_memory_ran_out();
    let mut bytes = Vec::new();
    let read = std::io::stdin()
        .take(request.limits.max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes);
    let reply = match read {
        Err(e) => Reply::Failed {
            code: "io".into(),
            message: ParseError::Io(e).to_string(),
        },
        Ok(_) => {
            let done = match request.job {
                Job::Parse => {
                    parse_bytes_reporting(request.kind, bytes, &request.limits, Arc::new(tell))
                        .map(Reply::Parsed)
                }
                Job::Render {
                    page,
                    width,
                    passage,
                } => render_page(&bytes, page, width, &passage).map(Reply::Rendered),
            };
            done.unwrap_or_else(|e| Reply::Failed {
                code: e.code().into(),
                message: e.to_string(),
            })
        }
    };
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &reply)
        .map_err(std::io::Error::from)
        .and_then(|()| out.flush());
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("the parse worker could not write its reply: {e}");
            3
        }
    }
}

/// Writes a worker's progress to the parent, one line at a time.
fn tell(progress: ParseProgress) {
    let mut out = std::io::stdout().lock();
    // A parent that stopped reading is told nothing; the final reply says how it went.
    if serde_json::to_writer(&mut out, &Reply::Progress(progress)).is_ok() {
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }
}

/// Caps this worker's address space at what it holds now, plus the parser thread's stack, plus
/// the memory limit (Linux, where the kernel enforces it), and its CPU time at the time limit
/// (Unix).
fn limit_self(limits: &ParseLimits) {
    #[cfg(target_os = "linux")]
    if let Some(now) = address_space_now() {
        let cap = now
            .saturating_add(PARSER_STACK_BYTES as u64)
            .saturating_add(limits.max_memory_bytes);
        if let Err(e) = rlimit::setrlimit(rlimit::Resource::AS, cap, cap) {
            eprintln!("the parse worker could not cap its memory: {e}");
        }
    }
    #[cfg(unix)]
    {
        let seconds = limits.timeout.as_secs().max(1) + 1;
        if let Err(e) = rlimit::setrlimit(rlimit::Resource::CPU, seconds, seconds + 5) {
            eprintln!("the parse worker could not cap its CPU time: {e}");
        }
    }
    #[cfg(not(unix))]
    let _ = limits;
}

/// Native code (PDFium) that cannot allocate calls `abort()` without a word, where Rust code says
/// "memory allocation of N bytes failed". On SIGABRT with `errno` ENOMEM (the failed `mmap`/`brk`
/// just before) this handler writes "out of memory" to stderr, which the parent reads as the memory
/// limit, then aborts as before.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn say_when_memory_ran_out() {
    extern "C" fn on_abort(_: libc::c_int) {
        const SAID: &[u8] = b"\nout of memory: an allocation failed at the parse worker's cap\n";
        // SAFETY: only async-signal-safe calls (reading errno, write(2), signal(2), raise(3)), on
        // a static buffer. The default action is restored first, so the raise ends the process.
        unsafe {
            if *libc::__errno_location() == libc::ENOMEM {
                libc::write(2, SAID.as_ptr().cast(), SAID.len());
            }
            libc::signal(libc::SIGABRT, libc::SIG_DFL);
            libc::raise(libc::SIGABRT);
        }
    }
    // SAFETY: installs a handler that is itself async-signal-safe (above); nothing else in the
    // worker handles SIGABRT.
    unsafe {
        libc::signal(
            libc::SIGABRT,
            on_abort as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

/// This process's address space in bytes (`VmSize`), on Linux.
#[cfg(target_os = "linux")]
fn address_space_now() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_and_a_reply_survive_the_pipe() {
        let request = Request {
            kind: DocumentKind::Pdf,
            limits: ParseLimits::default(),
            pdfium: Some("/opt/cairn/libpdfium.so".into()),
            tesseract: Some(crate::Tesseract {
                program: "/usr/bin/tesseract".into(),
                languages: "eng+deu".into(),
            }),
            job: Job::Render {
                page: 2,
                width: 900,
                passage: "x".into(),
            },
        };
        let text = serde_json::to_string(&request).unwrap();
        let back: Request = serde_json::from_str(&text).unwrap();
        assert_eq!(back.kind, DocumentKind::Pdf);
        assert_eq!(back.limits, ParseLimits::default());
        assert_eq!(back.pdfium, request.pdfium);
        assert_eq!(back.job, request.job);
        assert_eq!(back.tesseract, request.tesseract);
        let old: Request = serde_json::from_str(r#"{"kind":"pdf","limits":{}}"#).unwrap();
        assert_eq!(old.job, Job::Parse, "a request without a job parses");
        let doc =
            Document::from_sections(vec![crate::Section::new(Some(3), vec!["H".into()], "x")]);
        let reply = serde_json::to_vec(&Reply::Parsed(doc.clone())).unwrap();
        match serde_json::from_slice::<Reply>(&reply).unwrap() {
            Reply::Parsed(back) => assert_eq!(back, doc),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn progress_is_passed_on_as_it_streams_and_the_final_reply_returned() {
        let mut out = Vec::new();
        for done in 1..=3 {
            serde_json::to_writer(
                &mut out,
                &Reply::Progress(ParseProgress {
                    done,
                    total: 3,
                    ocr: done == 2,
                }),
            )
            .unwrap();
            out.push(b'\n');
        }
        let doc =
            Document::from_sections(vec![crate::Section::new(Some(1), vec![], "Tides turn.")]);
        serde_json::to_writer(&mut out, &Reply::Parsed(doc.clone())).unwrap();
        let told = std::sync::Mutex::new(Vec::new());
        let reply = read_replies(&out[..], &|p| told.lock().unwrap().push(p)).unwrap();
        assert!(matches!(reply, Reply::Parsed(back) if back == doc));
        let told = told.into_inner().unwrap();
        assert_eq!(told.len(), 3);
        assert_eq!((told[1].done, told[1].ocr), (2, true));

        // Progress alone, then the pipe closes (the worker died): no reply.
        let cut = &out[..out.iter().position(|&b| b == b'\n').unwrap() + 1];
        assert!(read_replies(cut, &|_| {}).is_err());
        // A reply cut off mid-way is an error, not a document.
        assert!(read_replies(&out[..out.len() - 5], &|_| {}).is_err());
    }

    #[test]
    fn a_worker_that_died_is_named_by_how_it_died() {
        let limits = ParseLimits::default();
        let status = Command::new("sh")
            .args(["-c", "exit 134"])
            .status()
            .unwrap();
        let oom = ended_badly(
            status,
            "memory allocation of 4294967296 bytes failed\n",
            &limits,
        );
        assert_eq!(oom.code(), "memory_limit");
        assert!(oom.to_string().contains("2048 MB"), "{oom}");
        let deep = ended_badly(
            status,
            "\nthread 'cairn-parser' has overflowed its stack\nfatal runtime error: stack overflow",
            &limits,
        );
        assert_eq!(deep.code(), "parser_crashed");
        assert!(deep.to_string().contains("stack overflow"), "{deep}");
        let other = ended_badly(status, "something broke\n", &limits);
        assert!(
            other.to_string().contains("exited with status 134"),
            "{other}"
        );
        assert!(other.to_string().contains("something broke"), "{other}");
    }

    #[cfg(unix)]
    #[test]
    fn a_worker_past_its_cpu_time_reads_as_a_timeout() {
        let status = Command::new("sh")
            .args(["-c", "kill -XCPU $$"])
            .status()
            .unwrap();
        let err = ended_badly(status, "", &ParseLimits::default());
        assert_eq!(err.code(), "timeout", "{err}");
    }

    #[test]
    fn every_failure_keeps_its_code_across_the_process_boundary() {
        // The codes a worker may send are listed apart from `ParseError::code`: one of each.
        let every = [
            ParseError::Empty,
            ParseError::TooLarge { size: 2, limit: 1 },
            ParseError::Unsupported("png".into()),
            ParseError::WrongFormat {
                expected: "a PDF",
                detail: "x".into(),
            },
            ParseError::Encrypted,
            ParseError::Corrupt("x".into()),
            ParseError::ArchiveTooLarge { limit: 1 },
            ParseError::Timeout(Duration::from_secs(1)),
            ParseError::ParserCrashed("x".into()),
            ParseError::MemoryLimit { limit: 1 },
            ParseError::NoPdfEngine,
            ParseError::NeedsOcr {
                pages: "page 1 is".into(),
                why: "OCR is turned off (ingest.ocr)",
            },
            ParseError::Io(std::io::Error::other("x")),
        ];
        for error in every {
            let back = ParseError::reported(error.code(), error.to_string());
            assert_eq!(back.code(), error.code());
            assert_eq!(back.to_string(), error.to_string());
        }
    }

    #[test]
    fn an_unknown_code_from_a_worker_reads_as_a_crash() {
        assert_eq!(
            ParseError::reported("encrypted", "x".into()).code(),
            "encrypted"
        );
        assert_eq!(
            ParseError::reported("from-the-future", "x".into()).code(),
            "parser_crashed"
        );
    }
}
