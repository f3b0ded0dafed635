//! `cairn review list|approve|edit|reject`: answers waiting for a person.

use std::process::ExitCode;

use cairn_engine::{Library, ReviewAction};

use crate::args::ReviewCommand;

/// `cairn review list|approve|edit|reject`.
pub fn review(library: &Library, command: ReviewCommand) -> anyhow::Result<ExitCode> {
    let (id, action, cache) = match command {
        ReviewCommand::List { all, json } => return list(library, all, json),
        ReviewCommand::Approve { id, cache } => (id, ReviewAction::Approve, cache),
        ReviewCommand::Edit { id, text, cache } => (id, ReviewAction::Edit(text), cache),
        ReviewCommand::Reject { id } => (id, ReviewAction::Reject, false),
    };
    let item = library.review(id, &action, cache)?;
    eprintln!(
        "answer {} {}{}",
        item.id,
        item.status,
        item.cached_as.map_or(String::new(), |e| format!(
            ", kept in the cache as entry {e}"
        ))
    );
    Ok(ExitCode::SUCCESS)
}

/// The answers waiting (with `all`, decided ones too), newest first.
fn list(library: &Library, all: bool, json: bool) -> anyhow::Result<ExitCode> {
    let items = library.reviews(all)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else if items.is_empty() {
        eprintln!("no answer is waiting for review");
    }
    for r in items.iter().filter(|_| !json) {
        println!(
            "#{} {} · {} · {} · trace {}\n  Q: {}\n  A: {}\n",
            r.id,
            r.status,
            r.mode,
            r.reason,
            r.trace_id.map_or("-".into(), |t| t.to_string()),
            r.question,
            r.final_text
                .as_deref()
                .unwrap_or(&r.answer)
                .replace('\n', "\n     ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
