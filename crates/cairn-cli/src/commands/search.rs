//! `cairn search`: cited passages for a query.

use std::process::ExitCode;

use cairn_engine::{Library, SearchMode, SearchRequest};

use crate::args::Mode;
use crate::text::{offline_copy_note, one_line};

/// `cairn search`: the `k` best passages of a collection, as a numbered list or a JSON array.
pub async fn search(
    library: &Library,
    query: String,
    k: Option<usize>,
    collection: String,
    mode: Mode,
    no_rerank: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mode = match mode {
        Mode::Hybrid => SearchMode::Hybrid,
        Mode::Dense => SearchMode::Dense,
        Mode::Bm25 => SearchMode::Bm25,
    };
    let request = SearchRequest {
        query,
        collection,
        k,
        mode,
        rerank: no_rerank.then_some(false),
    };
    let found = library.search_with_source(&request).await?;
    let hits = &found.hits;
    if json {
        // The passages as an array, as always; where the offline copy answered, an object that
        // says so around them.
        match &found.offline_copy {
            None => println!("{}", serde_json::to_string_pretty(hits)?),
            Some(_) => println!("{}", serde_json::to_string_pretty(&found)?),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(copy) = &found.offline_copy {
        eprintln!("{}", offline_copy_note(copy));
    }
    if hits.is_empty() {
        println!("No passages found.");
    } else {
        for (i, hit) in hits.iter().enumerate() {
            let page = hit
                .passage
                .page
                .map(|p| format!(", page {p}"))
                .unwrap_or_default();
            let heading = if hit.passage.heading.is_empty() {
                String::new()
            } else {
                format!(" — {}", hit.passage.heading)
            };
            println!(
                "[{}] {}{page}{heading}  (score {:.3})",
                i + 1,
                hit.passage.doc_path,
                hit.score
            );
            println!("    {}\n", one_line(&hit.passage.text, 320));
        }
    }
    Ok(ExitCode::SUCCESS)
}
