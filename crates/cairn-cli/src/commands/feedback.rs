//! Ratings of answers: `cairn feedback` records one, `cairn export feedback` writes them all out.

use std::io::Write;
use std::process::ExitCode;

use cairn_engine::Library;

use crate::args::ExportCommand;

/// `cairn feedback`: records `up` or `down` for the answer of a trace, with an optional
/// correction.
pub fn feedback(
    library: &Library,
    trace: i64,
    verdict: &str,
    correction: Option<&str>,
) -> anyhow::Result<ExitCode> {
    library.feedback(trace, verdict == "up", correction)?;
    eprintln!("recorded {verdict} for trace {trace}");
    Ok(ExitCode::SUCCESS)
}

/// `cairn export feedback`: every rated answer as one JSON line.
pub fn export(library: &Library, command: ExportCommand) -> anyhow::Result<ExitCode> {
    match command {
        ExportCommand::Feedback => {
            let mut out = std::io::stdout().lock();
            for example in library.feedback_examples()? {
                writeln!(out, "{}", serde_json::to_string(&example)?)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
