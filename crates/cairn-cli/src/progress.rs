//! Progress of an add-like operation (add, retry, reindex): a progress bar on a terminal, or one
//! JSON line per file with `--json`; then a summary and the exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use cairn_engine::{AddReport, CancelToken, FileStatus, Progress};
use indicatif::{ProgressBar, ProgressStyle};

use crate::exit;
use crate::interrupt::cancel_on_ctrl_c;

/// Shows an add-like operation: a progress bar on a terminal, or one JSON line per file with `--json`.
struct Reporter {
    json: bool,
    bar: Option<ProgressBar>,
}

/// Runs an add-like operation (add, retry, reindex) with its progress shown and Ctrl-C as
/// cancellation; its exit code.
pub async fn reported(
    json: bool,
    run: impl AsyncFnOnce(&(dyn Fn(Progress) + Sync), &CancelToken) -> cairn_engine::Result<AddReport>,
) -> anyhow::Result<ExitCode> {
    let cancel = cancel_on_ctrl_c();
    let reporter = Reporter::new(json);
    let report = reporter.finish(run(&|e| reporter.event(e), &cancel).await)?;
    Ok(add_exit_code(&report, json))
}

impl Reporter {
    /// A reporter printing JSON lines, or drawing a bar when stderr is a terminal.
    fn new(json: bool) -> Reporter {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {pos}/{len} files  {elapsed_precise}  {wide_msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Reporter { json, bar }
    }

    /// Shows one progress event: files found, a file's stage, a file done (and why it failed).
    fn event(&self, event: Progress) {
        match &event {
            // The library's lock notice (`main::open`) says whom the command waits for.
            Progress::Waiting { .. } => {}
            Progress::Discovered { files, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(*files as u64);
                }
            }
            Progress::Stage { path, stage } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!(
                        "{}: {}",
                        format!("{stage:?}").to_lowercase(),
                        file_name(path)
                    ));
                }
            }
            Progress::Pages {
                path,
                done,
                total,
                ocr,
            } => {
                if let Some(bar) = &self.bar {
                    let how = if *ocr { "OCR" } else { "reading" };
                    bar.set_message(format!(
                        "{how}: {} (page {done} of {total})",
                        file_name(path)
                    ));
                }
            }
            Progress::Passages {
                path,
                done,
                total,
                eta_seconds,
            } => {
                if let Some(bar) = &self.bar {
                    let left = eta_seconds.map_or(String::new(), |s| {
                        format!(
                            ", {} left",
                            indicatif::HumanDuration(Duration::from_secs(s))
                        )
                    });
                    bar.set_message(format!(
                        "embedding: {} ({done} of {total} passages{left})",
                        file_name(path)
                    ));
                }
            }
            Progress::Finished(outcome) => {
                if self.json {
                    let line = serde_json::to_string(outcome).unwrap_or_default();
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                    return;
                }
                let failure = match &outcome.status {
                    FileStatus::Failed { reason, .. } => {
                        Some(format!("failed: {}: {reason}", outcome.path))
                    }
                    _ => None,
                };
                match (&self.bar, failure) {
                    (Some(bar), failure) => {
                        if !matches!(outcome.status, FileStatus::Removed) {
                            bar.inc(1);
                        }
                        if let Some(line) = failure {
                            bar.println(line);
                        }
                    }
                    (None, Some(line)) => eprintln!("{line}"),
                    (None, None) => {}
                }
            }
        }
    }

    /// Clears the bar and, without `--json`, prints the summary line of the finished operation.
    fn finish(&self, report: cairn_engine::Result<AddReport>) -> anyhow::Result<AddReport> {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let report = report?;
        if !self.json {
            eprintln!(
                "{} indexed, {} unchanged, {} removed, {} failed; {} chunks in {:.1}s{}",
                report.indexed(),
                report.unchanged(),
                report.removed(),
                report.failed(),
                report.chunks_written,
                report.elapsed.as_secs_f64(),
                if report.cancelled { " (cancelled)" } else { "" }
            );
        }
        Ok(report)
    }
}

/// The last part of a path, for a progress line.
fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The exit code of a finished add-like operation (see [`exit`]); with `--json`, first prints its
/// summary line.
fn add_exit_code(report: &AddReport, json: bool) -> ExitCode {
    if json {
        let summary = serde_json::json!({
            "summary": {
                "indexed": report.indexed(), "unchanged": report.unchanged(), "removed": report.removed(),
                "failed": report.failed(), "chunks": report.chunks_written, "cancelled": report.cancelled,
                "seconds": report.elapsed.as_secs_f64(),
            }
        });
        println!("{summary}");
    }
    if report.cancelled {
        ExitCode::from(exit::CANCELLED)
    } else if report.failed() > 0 && report.indexed() + report.unchanged() == 0 {
        ExitCode::from(exit::NONE_INDEXED)
    } else if report.failed() > 0 {
        ExitCode::from(exit::SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
