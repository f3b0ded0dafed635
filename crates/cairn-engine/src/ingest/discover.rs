//! What an add run looks at: the files under the paths it was given, the documents a stopped run
//! left half-written, and what is gone, missing, unreadable or on a folder that is not there.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use cairn_store::DocumentRecord;

use crate::paths::absolute;

/// The files an add run will look at.
pub(super) struct Discovery {
    /// Files to check, absolute, each once.
    pub(super) files: Vec<PathBuf>,
    /// Paths named on the command line that do not exist and were never indexed.
    pub(super) missing: Vec<(String, String)>,
    /// Indexed paths that no longer exist: under a folder being added, or named themselves.
    pub(super) gone: Vec<String>,
    /// Watched folders that are not there or cannot be read (an unmounted disk, a network share
    /// that is down), with why: their documents are kept, not taken for deleted.
    pub(super) unavailable: Vec<(String, String)>,
    /// Folders and files inside a folder being added that could not be read, with why: their
    /// documents are kept.
    pub(super) unreadable: Vec<(String, String)>,
}

/// The watched folder `path` lies in, when that folder is not there or cannot be read.
fn unavailable_root<'a>(path: &Path, watched: &'a [PathBuf]) -> Option<(&'a PathBuf, String)> {
    let root = watched.iter().find(|r| path.starts_with(r))?;
    match std::fs::read_dir(root) {
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some((
            root,
            "the folder is not there (a disk that is not mounted, or a share that is down?); \
             its documents are kept, and it is looked at again on the next sync"
                .to_string(),
        )),
        Err(e) => Some((
            root,
            format!("the folder cannot be read ({e}); its documents are kept"),
        )),
    }
}

/// Walks `paths` (folders recursively, links not followed, hidden entries skipped), adds the
/// documents a stopped run left `interrupted`, and sorts out what is gone, missing or unreadable.
pub(super) fn discover(
    paths: &[PathBuf],
    interrupted: &[DocumentRecord],
    known: &HashMap<String, DocumentRecord>,
    watched: &[PathBuf],
) -> Discovery {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let mut missing = Vec::new();
    let mut gone = Vec::new();
    let mut unavailable: Vec<(String, String)> = Vec::new();
    let mut unreadable = Vec::new();
    let mut push = |path: PathBuf, files: &mut Vec<PathBuf>| {
        if seen.insert(path.clone()) {
            files.push(path);
        }
    };
    let mut mark_unavailable = |root: &Path, reason: String| {
        let root = root.display().to_string();
        if !unavailable.iter().any(|(r, _)| *r == root) {
            unavailable.push((root, reason));
        }
    };
    for path in paths {
        let path = absolute(path);
        let path_str = path.display().to_string();
        if let Some((root, reason)) = unavailable_root(&path, watched) {
            mark_unavailable(root, reason);
        } else if path.is_dir() {
            let mut found = HashSet::new();
            // Folders under it that could not be read: what was indexed there stays.
            let mut blocked: Vec<PathBuf> = Vec::new();
            let mut root_failed = false;
            let walker = walkdir::WalkDir::new(&path)
                .follow_links(false)
                .sort_by_file_name()
                .into_iter()
                // Hidden files and folders (.git, .cache, editor swap files) are not documents.
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                });
            for entry in walker {
                match entry {
                    // Links are not followed: a link in a folder may point anywhere (a
                    // repository's link to a credentials file), and only what is in the
                    // folder is added.
                    Ok(entry) => {
                        if entry.file_type().is_file() && cairn_ingest::is_supported(entry.path()) {
                            found.insert(entry.path().display().to_string());
                            push(entry.into_path(), &mut files);
                        }
                    }
                    Err(e) => {
                        let at = e.path().map_or_else(|| path.clone(), Path::to_path_buf);
                        tracing::warn!(path = %at.display(), "cannot be read: {e}");
                        if e.depth() == 0 {
                            root_failed = true;
                            mark_unavailable(
                                &path,
                                format!("the folder cannot be read ({e}); its documents are kept"),
                            );
                        } else {
                            unreadable.push((
                                at.display().to_string(),
                                format!("cannot be read ({e}); what was indexed from it is kept"),
                            ));
                            blocked.push(at);
                        }
                    }
                }
            }
            if !root_failed {
                gone.extend(
                    known
                        .keys()
                        .filter(|k| {
                            let k = Path::new(k);
                            k.starts_with(&path) && !blocked.iter().any(|b| k.starts_with(b))
                        })
                        .filter(|k| !found.contains(*k))
                        .cloned(),
                );
            }
        } else if path.is_file() {
            push(path, &mut files);
        } else if known.contains_key(&path_str) {
            gone.push(path_str);
        } else {
            // A folder that is gone takes its documents with it.
            let under: Vec<String> = known
                .keys()
                .filter(|k| Path::new(k).starts_with(&path))
                .cloned()
                .collect();
            if under.is_empty() {
                missing.push((path_str, "no such file or folder".to_string()));
            }
            gone.extend(under);
        }
    }
    for doc in interrupted {
        let path = PathBuf::from(&doc.path);
        if path.is_file() {
            push(path, &mut files);
        } else if unavailable_root(&path, watched).is_none() && !gone.contains(&doc.path) {
            gone.push(doc.path.clone());
        }
    }
    gone.sort();
    gone.dedup();
    Discovery {
        files,
        missing,
        gone,
        unavailable,
        unreadable,
    }
}
