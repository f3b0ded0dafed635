//! `cairn cache show|clear`: the semantic answer cache.

use std::process::ExitCode;

use cairn_engine::Library;

use crate::args::CacheCommand;

/// `cairn cache show|clear`.
pub fn cache(library: &Library, command: CacheCommand) -> anyhow::Result<ExitCode> {
    match command {
        CacheCommand::Show { json } => show(library, json),
        CacheCommand::Clear { collection } => {
            let removed = library.clear_answer_cache(collection.as_deref())?;
            eprintln!("removed {removed} cached answers");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Entries, bytes and hits, against the configured bound.
fn show(library: &Library, json: bool) -> anyhow::Result<ExitCode> {
    let usage = library.answer_cache_usage()?;
    let cfg = &library.config().cache;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "enabled": cfg.enabled, "threshold": cfg.threshold,
                "max_bytes": cfg.max_bytes, "ttl_secs": cfg.ttl_secs,
                "entries": usage.entries, "bytes": usage.bytes, "hits": usage.hits,
            })
        );
    } else {
        println!(
            "{} · {} entries, {:.1} of {:.1} MB, served {} times · threshold {} · kept {} days",
            if cfg.enabled { "on" } else { "off" },
            usage.entries,
            usage.bytes as f64 / 1e6,
            cfg.max_bytes as f64 / 1e6,
            usage.hits,
            cfg.threshold,
            cfg.ttl_secs / 86_400
        );
    }
    Ok(ExitCode::SUCCESS)
}
