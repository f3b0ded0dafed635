//! What the library holds: `add`, `retry`, `reindex`, `rm`, `failed`, `docs`, `check` and
//! `collections`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use cairn_engine::Library;

use crate::progress::reported;

/// `cairn add`: indexes files and folders into a collection.
pub async fn add(
    library: &Library,
    paths: &[PathBuf],
    collection: &str,
    json: bool,
    reread: bool,
) -> anyhow::Result<ExitCode> {
    reported(json, async |progress, cancel| {
        if reread {
            library.reread(paths, collection, progress, cancel).await
        } else {
            library.add(paths, collection, progress, cancel).await
        }
    })
    .await
}

/// `cairn retry`: reads failed files again, those named or every one of the collection.
pub async fn retry(
    library: &Library,
    paths: &[PathBuf],
    collection: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    reported(json, async |progress, cancel| {
        library.retry(paths, collection, progress, cancel).await
    })
    .await
}

/// `cairn reindex`: rebuilds a collection's index with the current embedding model.
pub async fn reindex(library: &Library, collection: &str, json: bool) -> anyhow::Result<ExitCode> {
    reported(json, async |progress, cancel| {
        library.reindex(collection, progress, cancel).await
    })
    .await
}

/// `cairn failed`: the files that could not be indexed, with their reasons.
pub fn failed(library: &Library, collection: &str, json: bool) -> anyhow::Result<ExitCode> {
    let failed = library.failed(collection)?;
    let rows: Vec<serde_json::Value> = failed
        .iter()
        .map(|(d, quarantined)| {
            serde_json::json!({"path": d.path, "state": d.state, "code": d.error_code,
                               "reason": d.error_message, "quarantined": quarantined})
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if failed.is_empty() {
        eprintln!("every file of {collection} was indexed");
    }
    for (d, quarantined) in failed.iter().filter(|_| !json) {
        println!(
            "{}\n  {}: {}{}",
            d.path,
            d.error_code.as_deref().unwrap_or("-"),
            d.error_message.as_deref().unwrap_or("-"),
            if *quarantined {
                " (quarantined: `cairn retry` reads it again)"
            } else {
                ""
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `cairn docs`: the indexed documents with their state, of one collection or all.
pub async fn docs(
    library: &Library,
    collection: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let docs = library.documents(collection)?;
    // A shared collection also lists what the other libraries added, from its store.
    let others: Vec<cairn_engine::SharedDocument> = match collection {
        Some(c) if library.is_shared(c)? => match library.shared_documents(c).await {
            Ok(all) => all.into_iter().filter(|d| !d.mine).collect(),
            Err(e) => {
                eprintln!("(the documents other libraries added to '{c}' are not listed: {e})");
                Vec::new()
            }
        },
        _ => Vec::new(),
    };
    if json {
        let mut listed = Vec::new();
        for d in &docs {
            listed.push(serde_json::to_value(d)?);
        }
        for d in &others {
            listed.push(serde_json::json!({
                "id": d.doc_id,
                "collection": collection,
                "path": d.path,
                "state": "shared",
                "chunk_count": d.passages,
                "added_by_another_library": true,
            }));
        }
        println!("{}", serde_json::to_string_pretty(&listed)?);
    } else {
        for d in &docs {
            let state = serde_json::to_value(d.state)?
                .as_str()
                .unwrap_or_default()
                .to_string();
            let error = d
                .error_message
                .as_deref()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default();
            println!(
                "{:<8} {:>5} chunks  {:<10} {}{error}",
                state, d.chunk_count, d.collection, d.path
            );
        }
        for d in &others {
            println!(
                "{:<8} {:>5} chunks  {:<10} {}  (added by another library)",
                "shared",
                d.passages,
                collection.unwrap_or_default(),
                d.path
            );
        }
        println!("{} document(s)", docs.len() + others.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// `cairn rm`: removes files, or everything under folders, from a collection.
pub async fn rm(
    library: &Library,
    paths: &[PathBuf],
    collection: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let report = library.remove(paths, collection).await?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for path in &report.removed {
            println!("removed {path}");
        }
        println!(
            "{} document(s), {} chunk(s) removed",
            report.removed.len(),
            report.chunks
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `cairn check`: whether the index holds exactly the chunks the database records; exit code 1
/// when it does not.
pub async fn check(library: &Library, collection: &str, json: bool) -> anyhow::Result<ExitCode> {
    let report = library.check(collection).await?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} documents, {} chunks recorded, {} rows in the index, {} orphan rows",
            report.indexed_documents,
            report.chunks_in_store,
            report.rows_in_index,
            report.orphan_rows
        );
        if report.rows_of_other_libraries > 0 {
            println!(
                "{} rows of documents other libraries added to this shared collection",
                report.rows_of_other_libraries
            );
        }
        for (path, store, index) in &report.mismatched {
            println!("mismatch: {path}: {store} recorded, {index} in the index");
        }
    }
    Ok(if report.is_consistent() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `cairn collections`: each collection with its embedding model.
pub fn collections(library: &Library, json: bool) -> anyhow::Result<ExitCode> {
    let collections = library.collections()?;
    if json {
        // Each record; a shared collection kept offline also has `offline_copy` (null until its
        // first catch-up finished).
        let mut listed = Vec::new();
        for c in &collections {
            let mut value = serde_json::to_value(c)?;
            if let Some(copy) = library.offline_copy(&c.name)? {
                value["offline_copy"] = serde_json::to_value(copy)?;
            }
            listed.push(value);
        }
        println!("{}", serde_json::to_string_pretty(&listed)?);
    } else {
        for c in &collections {
            let shared = c
                .shared
                .as_ref()
                .map(|s| format!(", shared at {}", s.uri))
                .unwrap_or_default();
            let copy = match library.offline_copy(&c.name)? {
                None => String::new(),
                Some(None) => ", offline copy not made yet".to_string(),
                Some(Some(state)) => format!(
                    ", offline copy as of {} ago",
                    crate::text::age(state.age().as_secs())
                ),
            };
            println!(
                "{:<20} {} ({}, {} dimensions){shared}{copy}",
                c.name, c.embedder_id, c.embedder_fingerprint, c.dimension
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where `cairn share-collection` puts a collection, and the key id to reach it.
pub struct ShareArgs {
    pub at: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: String,
    pub offline_copy: bool,
}

/// `cairn share-collection NAME --at s3://bucket/prefix`, the secret access key on stdin.
pub async fn share_collection(
    library: &Library,
    name: &str,
    share: ShareArgs,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut secret = String::new();
    std::io::stdin().read_line(&mut secret)?;
    if secret.trim().is_empty() {
        anyhow::bail!(
            "no secret access key on stdin: pipe it in, e.g. `cairn share-collection {name} --at {} < secret.txt`",
            share.at
        );
    }
    let spec = cairn_engine::ShareSpec {
        uri: share.at,
        endpoint: share.endpoint,
        region: share.region,
        access_key_id: share.access_key_id,
        secret_access_key: secret.trim().to_string(),
    };
    secret.clear();
    let joined = library.create_shared_collection(name, &spec).await?;
    if json {
        println!("{}", serde_json::to_string(&joined)?);
    } else if joined.joined {
        eprintln!(
            "joined shared collection '{name}' at {} ({} passages)",
            spec.uri, joined.passages
        );
    } else {
        eprintln!("made shared collection '{name}' at {}", spec.uri);
    }
    if share.offline_copy {
        let done = keep_offline_copy(library, name, json).await?;
        if !json {
            eprintln!("{}", caught_up(name, &done));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cairn offline-copy NAME [--drop]`: keeps (and brings up to date) or deletes the copy.
pub async fn offline_copy(
    library: &Library,
    name: &str,
    drop: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if drop {
        let dropped = library.drop_offline_copy(name)?;
        if json {
            println!("{}", serde_json::json!({ "dropped": dropped }));
        } else if dropped {
            eprintln!("deleted the offline copy of '{name}'");
        } else {
            eprintln!("there was no offline copy of '{name}'");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let done = keep_offline_copy(library, name, json).await?;
    if json {
        println!("{}", serde_json::to_string(&done)?);
    } else {
        eprintln!("{}", caught_up(name, &done));
    }
    Ok(ExitCode::SUCCESS)
}

/// Keeps and catches up the copy, with a bar of the bytes fetched on a terminal.
async fn keep_offline_copy(
    library: &Library,
    name: &str,
    json: bool,
) -> anyhow::Result<cairn_engine::CatchUp> {
    let bar = (!json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {bytes}/{total_bytes}  {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    });
    let shown = bar.clone();
    let progress = std::sync::Arc::new(move |p: cairn_engine::CopyProgress| {
        if let Some(bar) = &shown {
            bar.set_length(p.bytes);
            bar.set_position(p.bytes_done);
            bar.set_message(format!("{} of {} files", p.files_done, p.files));
        }
    });
    let done = library.keep_offline_copy(name, progress).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(done?)
}

fn caught_up(name: &str, done: &cairn_engine::CatchUp) -> String {
    format!(
        "offline copy of '{name}' up to date: {} files fetched ({:.1} MB), {} removed; {} files, \
         {:.1} MB on this computer",
        done.fetched,
        done.fetched_bytes as f64 / 1e6,
        done.removed,
        done.state.files,
        done.state.bytes as f64 / 1e6
    )
}

/// `cairn delete-collection NAME`.
pub async fn delete_collection(library: &Library, name: &str) -> anyhow::Result<ExitCode> {
    library.delete_collection(name).await?;
    eprintln!("deleted collection '{name}'");
    Ok(ExitCode::SUCCESS)
}
