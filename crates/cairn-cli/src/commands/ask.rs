//! Questions: `cairn ask` (one, streamed or as JSON) and `cairn chat` (one thread, a question a
//! line), with the sources and provenance printed after each answer.

use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use cairn_engine::{
    Answer, AnswerEvent, AskRequest, CancelToken, Library, Policy, Provenance, ReviewMode, Tier,
};

use crate::interrupt::cancel_on_ctrl_c;
use crate::text::offline_copy_note;

/// `cairn ask`: answers one question, streamed with its sources, or printed as one JSON object
/// with `--json`.
pub async fn ask(
    library: &Library,
    question: &OsStr,
    collection: String,
    thread: Option<i64>,
    json: bool,
    policy: Option<Policy>,
    document: Option<String>,
) -> anyhow::Result<ExitCode> {
    // Arguments that are not valid UTF-8 are read with replacement characters, not refused.
    let request = AskRequest {
        question: question.to_string_lossy().into_owned(),
        collection,
        thread,
        policy,
        document,
    };
    let cancel = cancel_on_ctrl_c();
    let answer = answer(library, &request, !json, &cancel).await?;
    if json {
        println!("{}", serde_json::to_string(&answer_json(&answer))?);
    }
    Ok(ExitCode::SUCCESS)
}

/// `cairn chat`: each line of stdin is a question, answered in one thread, until end of input.
pub async fn chat(
    library: &Library,
    collection: String,
    mut thread: Option<i64>,
) -> anyhow::Result<ExitCode> {
    // Ctrl-C stops the answer being written, not the session.
    let current = std::sync::Arc::new(std::sync::Mutex::new(CancelToken::new()));
    let watched = current.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            watched.lock().unwrap_or_else(|p| p.into_inner()).cancel();
        }
    });
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    loop {
        if interactive {
            print!("\n› ");
            let _ = std::io::stdout().flush();
        }
        let mut line = String::new();
        if stdin.read_line(&mut line)? == 0 {
            return Ok(ExitCode::SUCCESS);
        }
        if line.trim().is_empty() {
            continue;
        }
        let cancel = CancelToken::new();
        *current.lock().unwrap_or_else(|p| p.into_inner()) = cancel.clone();
        let request = AskRequest {
            question: line,
            collection: collection.clone(),
            thread,
            policy: None,
            document: None,
        };
        match answer(library, &request, true, &cancel).await {
            Ok(answer) => thread = Some(answer.thread_id),
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
}

/// Asks one question; with `stream`, writes the answer as it is generated, then its sources.
async fn answer(
    library: &Library,
    request: &AskRequest,
    stream: bool,
    cancel: &CancelToken,
) -> anyhow::Result<Answer> {
    let on_event: cairn_engine::OnAnswerEvent =
        std::sync::Arc::new(move |event| match (stream, event) {
            (true, AnswerEvent::Text { text }) => {
                print!("{text}");
                let _ = std::io::stdout().flush();
            }
            (true, AnswerEvent::Retracted { reason }) => {
                println!("\n\n[withdrawn: {reason}]\n");
            }
            (_, AnswerEvent::Progress { stage, .. }) => {
                eprintln!("{stage}");
            }
            _ => {}
        });
    let answer = library.ask(request, on_event, cancel).await?;
    if stream {
        println!();
        print_sources(&answer);
    }
    Ok(answer)
}

/// Writes to stderr, after a streamed answer: its sources, whether it waits for review, the
/// fallbacks taken, and a line on how it was made (route, tier, where, thread).
fn print_sources(answer: &Answer) {
    let mut err = std::io::stderr();
    if !answer.citations.is_empty() {
        let _ = writeln!(err, "\nSources:");
        for c in &answer.citations {
            let page = c.page.map(|p| format!(", page {p}")).unwrap_or_default();
            let heading = if c.heading.is_empty() {
                String::new()
            } else {
                format!(" — {}", c.heading)
            };
            let how = if c.cited_by == "overlap" {
                " (closest match; the model cited nothing)"
            } else {
                ""
            };
            let _ = writeln!(err, "  [{}] {}{page}{heading}{how}", c.n, c.doc_path);
        }
    }
    if let Some(review) = &answer.review {
        let _ = writeln!(
            err,
            "  ({} for review as #{}: {}; see `cairn review list`)",
            if review.mode == ReviewMode::Hold {
                "held"
            } else {
                "shown, and queued"
            },
            review.id.unwrap_or_default(),
            review.reason
        );
    }
    if let Some(copy) = &answer.offline_copy {
        let _ = writeln!(err, "  {}", offline_copy_note(copy));
    }
    for step in &answer.fallbacks {
        let _ = writeln!(
            err,
            "  (fell back: {} failed with {}: {})",
            step.target, step.code, step.reason
        );
    }
    let tier = match answer.tier {
        Tier::Primary => answer.model.clone(),
        Tier::Secondary => format!("{} (fallback)", answer.model),
        Tier::Deterministic => "fixed answer".into(),
    };
    let place = match &answer.provenance {
        Provenance::Local | Provenance::Fixed => "on this device".to_string(),
        Provenance::Cache => match &answer.cache {
            Some(hit) if hit.similarity >= 1.0 => {
                format!("from the answer cache (asked before, entry {})", hit.entry)
            }
            Some(hit) => format!(
                "from the answer cache (\"{}\", {:.3} similar, entry {})",
                hit.question, hit.similarity, hit.entry
            ),
            None => "from the answer cache".to_string(),
        },
        Provenance::Cloud { provider } => format!(
            "sent to {provider} ({} redacted first) · ${:.4}",
            answer.redacted, answer.cost
        ),
    };
    let _ = writeln!(
        err,
        "\n{} · {} · {place} · thread {}{}",
        answer.route.label(),
        tier,
        answer.thread_id,
        if answer.truncated {
            " · cut short"
        } else {
            ""
        }
    );
}

/// The `--json` shape of an answer.
fn answer_json(a: &Answer) -> serde_json::Value {
    serde_json::json!({
        "answer": a.answer,
        "citations": a.citations.iter().map(|c| serde_json::json!({
            "n": c.n,
            "doc_path": c.doc_path,
            "page": c.page,
            "chunk_id": c.chunk_id,
            "heading": c.heading,
            "cited_by": c.cited_by,
        })).collect::<Vec<_>>(),
        "route": a.route,
        "route_reason": a.route_reason,
        "tier": a.tier,
        "prompt_version": a.prompt_version,
        "tokens_in": a.tokens_in,
        "tokens_out": a.tokens_out,
        "thread_id": a.thread_id,
        "model": a.model,
        "closest": a.closest.iter().map(|c| serde_json::json!({
            "doc_path": c.doc_path, "page": c.page, "chunk_id": c.chunk_id,
        })).collect::<Vec<_>>(),
        "truncated": a.truncated,
        "timings_ms": a.timings_ms,
        "input_check": a.input_check,
        "passages_flagged": a.passages_flagged,
        "output_check": a.output_check,
        "provider": a.provenance.label(),
        "cost": a.cost,
        "model_route": a.model_route,
        "fallbacks": a.fallbacks,
        "redacted": a.redacted,
        "trace_id": a.trace_id,
        "cache": a.cache,
        "review": a.review,
        "offline_copy": a.offline_copy,
    })
}
