//! `cairn audit list|verify`: the egress audit log.

use std::process::ExitCode;

use cairn_engine::Library;

use crate::args::AuditCommand;

/// `cairn audit list|verify`.
pub fn audit(library: &Library, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::List { last, json } => list(library, last, json),
        AuditCommand::Verify { json } => verify(library, json),
    }
}

/// The last `last` entries: when, where to, how many characters, what was redacted.
fn list(library: &Library, last: usize, json: bool) -> anyhow::Result<ExitCode> {
    let entries = library.audit(last)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else if entries.is_empty() {
        eprintln!("nothing has left this device");
    }
    for e in entries.iter().filter(|_| !json) {
        let redacted: Vec<String> = e
            .redacted
            .iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect();
        println!(
            "#{} {} → {}/{}: {} characters; redacted: {}",
            e.id,
            e.at,
            e.provider,
            e.model,
            e.chars,
            if redacted.is_empty() {
                "nothing".into()
            } else {
                redacted.join(", ")
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Recomputes the hash chain; exit code 1 when an entry was changed, removed or forged.
fn verify(library: &Library, json: bool) -> anyhow::Result<ExitCode> {
    let verdict = library.verify_audit()?;
    if json {
        println!("{}", serde_json::to_string(&verdict)?);
    }
    match &verdict.broken {
        None => {
            eprintln!("the audit log is intact ({} entries)", verdict.entries);
            Ok(ExitCode::SUCCESS)
        }
        Some((id, why)) => {
            eprintln!(
                "the audit log was tampered with at entry {id}: {why} ({} entries before it are intact)",
                verdict.entries
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
