//! Folders kept in sync: `cairn watch` and `cairn unwatch`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cairn_engine::{AddReport, FileStatus, Library};

use crate::interrupt::cancel_on_ctrl_c;

/// `cairn watch`: registers the folders named, reconciles every watched folder, then syncs each
/// batch of changes until Ctrl-C.
pub async fn watch(
    library: &Library,
    folders: Vec<PathBuf>,
    collection: Option<String>,
    list: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !folders.is_empty() {
        let collection = collection
            .as_deref()
            .unwrap_or(cairn_engine::DEFAULT_COLLECTION);
        for folder in &folders {
            library.watch_folder(collection, folder)?;
        }
    }
    let watched = library.watched(collection.as_deref())?;
    if list {
        for f in &watched {
            println!("{}\t{}", f.collection, f.path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if watched.is_empty() {
        anyhow::bail!("no folder is watched: name one, as in `cairn watch ~/Documents/notes`");
    }
    let cancel = cancel_on_ctrl_c();
    let watcher = library.folder_watcher()?;
    let mut roots: std::collections::BTreeMap<String, Vec<PathBuf>> = Default::default();
    for folder in watched {
        // A folder that cannot be watched (gone, or over the system's limit) is reported; the
        // others are watched.
        match watcher.watch(folder.clone()) {
            Ok(()) => roots
                .entry(folder.collection)
                .or_default()
                .push(folder.path),
            Err(e) => eprintln!("{e}"),
        }
    }
    if roots.is_empty() {
        anyhow::bail!("none of the watched folders can be watched");
    }
    let debounce = library.config().watch.debounce();
    for (collection, paths) in &roots {
        eprintln!(
            "watching {} for {collection}: {}",
            paths.len(),
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let report = library.add(paths, collection, &|_| {}, &cancel).await?;
        print_pass(json, collection, "reconcile", paths.len(), &report);
    }
    while let Some(batches) = watcher.next(debounce, &cancel).await {
        for batch in batches {
            let report = library
                .sync(&batch.paths, &batch.collection, &|_| {}, &cancel)
                .await?;
            let kind = if batch.rescan { "rescan" } else { "changes" };
            print_pass(json, &batch.collection, kind, batch.events, &report);
        }
    }
    eprintln!("stopped watching");
    Ok(ExitCode::SUCCESS)
}

/// One line for a watch pass: a summary, or JSON with each file's outcome.
fn print_pass(json: bool, collection: &str, kind: &str, changes: usize, report: &AddReport) {
    if json {
        let line = serde_json::json!({
            "collection": collection, "pass": kind, "changes": changes,
            "indexed": report.indexed(), "unchanged": report.unchanged(),
            "removed": report.removed(), "failed": report.failed(),
            "seconds": report.elapsed.as_secs_f64(), "files": report.outcomes,
        });
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        return;
    }
    for outcome in &report.outcomes {
        if let FileStatus::Failed { reason, .. } = &outcome.status {
            eprintln!("failed: {}: {reason}", outcome.path);
        }
    }
    eprintln!(
        "{collection}: {kind} ({changes}): {} indexed, {} removed, {} failed, {} unchanged in {:.1}s",
        report.indexed(),
        report.removed(),
        report.failed(),
        report.unchanged(),
        report.elapsed.as_secs_f64()
    );
}

/// `cairn unwatch`: stops keeping a folder in sync; its documents stay.
pub fn unwatch(library: &Library, folder: &Path, collection: &str) -> anyhow::Result<ExitCode> {
    if library.unwatch_folder(collection, folder)? {
        eprintln!(
            "{} is no longer watched; its documents stay",
            folder.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        anyhow::bail!("{} is not watched for {collection}", folder.display())
    }
}
