//! Watched folders: file-system events, gathered into one batch of changed paths per collection.
//!
//! A [`FolderWatcher`] listens to the folders it is given (recursively, through `notify`: inotify,
//! FSEvents or ReadDirectoryChangesW). [`FolderWatcher::next`] waits for a change, then keeps
//! gathering until the folders have been quiet for the debounce time (at most ten times that
//! while changes keep coming), and returns the changed paths of each collection. The caller hands
//! each batch to [`Library::sync`], which indexes what is there and removes what is gone. When
//! the system dropped events (its queue overflowed) or one batch holds more than `max_paths`
//! paths, the batch names the watched folders themselves, to be reconciled whole.
//!
//! Changes made while nothing watched are found by reconciling each folder when watching starts
//! (`Library::add` on the folder: new and changed files are indexed, missing ones removed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher, event::ModifyKind};
use tokio::sync::mpsc;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::ingest::{AddReport, Progress};
use crate::library::Library;
use crate::paths::absolute;

/// How often a wait looks at its cancel token.
const POLL: Duration = Duration::from_millis(100);

/// A folder a collection keeps in sync.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct WatchedFolder {
    /// The collection its files go to.
    pub collection: String,
    /// The folder, absolute.
    pub path: PathBuf,
}

/// The changes of one collection, ready for [`Library::sync`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeBatch {
    /// The collection.
    pub collection: String,
    /// Files and folders that were created, changed, renamed (both names) or deleted.
    pub paths: Vec<PathBuf>,
    /// Events were lost or too many: `paths` are the watched folders, to be reconciled whole.
    pub rescan: bool,
    /// Events gathered into this batch.
    pub events: usize,
}

/// Listens to watched folders. Folders can be added and dropped while a task waits in
/// [`FolderWatcher::next`].
pub struct FolderWatcher {
    watcher: Mutex<RecommendedWatcher>,
    folders: Mutex<Vec<WatchedFolder>>,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<notify::Result<notify::Event>>>,
    /// Paths whose changes are the library's own (its data directory).
    ignore: Vec<PathBuf>,
    max_paths: usize,
}

impl std::fmt::Debug for FolderWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderWatcher")
            .field("folders", &*lock(&self.folders))
            .finish()
    }
}

/// Changes gathered so far.
#[derive(Default)]
struct Pending {
    paths: BTreeMap<String, BTreeSet<PathBuf>>,
    rescan: BTreeSet<String>,
    events: BTreeMap<String, usize>,
}

impl FolderWatcher {
    /// A watcher of no folder yet. Changes under `ignore` are never reported; a pass with more
    /// than `max_paths` changed paths of one collection reconciles its folders whole.
    pub fn new(ignore: Vec<PathBuf>, max_paths: usize) -> Result<FolderWatcher> {
        let (tx, rx) = mpsc::unbounded_channel();
        let watcher = notify::recommended_watcher(move |event| {
            // The receiver is gone only when the watcher is being dropped.
            let _ = tx.send(event);
        })
        .map_err(|e| Error::Watch {
            path: String::new(),
            reason: e.to_string(),
        })?;
        Ok(FolderWatcher {
            watcher: Mutex::new(watcher),
            folders: Mutex::new(Vec::new()),
            events: tokio::sync::Mutex::new(rx),
            ignore: ignore.iter().map(|p| absolute(p)).collect(),
            max_paths: max_paths.max(1),
        })
    }

    /// Starts listening to `folder` (and everything under it). Watching a folder twice for the
    /// same collection does nothing.
    pub fn watch(&self, folder: WatchedFolder) -> Result<()> {
        let folder = WatchedFolder {
            path: absolute(&folder.path),
            ..folder
        };
        let mut folders = lock(&self.folders);
        if folders.contains(&folder) {
            return Ok(());
        }
        if !folders.iter().any(|f| f.path == folder.path) {
            lock(&self.watcher)
                .watch(&folder.path, RecursiveMode::Recursive)
                .map_err(|e| Error::Watch {
                    path: folder.path.display().to_string(),
                    reason: watch_reason(&e),
                })?;
        }
        folders.push(folder);
        Ok(())
    }

    /// Stops listening to `path` for `collection`. Returns false if it was not watched.
    pub fn unwatch(&self, collection: &str, path: &Path) -> bool {
        let path = absolute(path);
        let mut folders = lock(&self.folders);
        let before = folders.len();
        folders.retain(|f| !(f.collection == collection && f.path == path));
        let removed = folders.len() < before;
        if removed && !folders.iter().any(|f| f.path == path) {
            // The folder may be gone already, which ends its watch anyway.
            let _ = lock(&self.watcher).unwatch(&path);
        }
        removed
    }

    /// The folders being watched.
    pub fn folders(&self) -> Vec<WatchedFolder> {
        lock(&self.folders).clone()
    }

    /// Waits for changes and returns them once the folders have been quiet for `debounce`
    /// (or after ten times `debounce` of steady changes), one batch per collection. `None` when
    /// `cancel` fired.
    pub async fn next(&self, debounce: Duration, cancel: &CancelToken) -> Option<Vec<ChangeBatch>> {
        let mut events = self.events.lock().await;
        let mut pending = Pending::default();
        // The first change.
        loop {
            if cancel.is_cancelled() {
                return None;
            }
            match tokio::time::timeout(POLL, events.recv()).await {
                Ok(Some(event)) => {
                    if self.absorb(event, &mut pending) {
                        break;
                    }
                }
                // The sender lives in the watcher, which lives as long as `self`.
                Ok(None) => return None,
                Err(_) => {}
            }
        }
        // The rest of the burst.
        let started = Instant::now();
        let mut last = started;
        loop {
            if cancel.is_cancelled() {
                return None;
            }
            let end = (last + debounce).min(started + debounce * 10);
            let now = Instant::now();
            if now >= end {
                break;
            }
            match tokio::time::timeout((end - now).min(POLL), events.recv()).await {
                Ok(Some(event)) => {
                    if self.absorb(event, &mut pending) {
                        last = Instant::now();
                    }
                }
                Ok(None) => break,
                Err(_) => {}
            }
        }
        Some(self.batches(pending))
    }

    /// Adds an event's relevant paths; true if there was one.
    fn absorb(&self, event: notify::Result<notify::Event>, pending: &mut Pending) -> bool {
        let folders = lock(&self.folders);
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                // Lost events (an overflowed queue) or a failing watch: reconcile whole.
                tracing::warn!("watching folders: {e}; reconciling them whole");
                for f in folders.iter() {
                    pending.rescan.insert(f.collection.clone());
                }
                return !folders.is_empty();
            }
        };
        if event.need_rescan() {
            for f in folders.iter() {
                pending.rescan.insert(f.collection.clone());
            }
            return !folders.is_empty();
        }
        match event.kind {
            // Reading a file (the library does, to index it) and metadata (times, permissions)
            // change no content.
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => return false,
            _ => {}
        }
        let mut relevant = false;
        for path in &event.paths {
            if self.ignore.iter().any(|i| path.starts_with(i)) {
                continue;
            }
            for f in folders.iter() {
                if let Ok(inner) = path.strip_prefix(&f.path)
                    && !inner.as_os_str().is_empty()
                    && !is_noise(inner)
                {
                    pending
                        .paths
                        .entry(f.collection.clone())
                        .or_default()
                        .insert(path.clone());
                    *pending.events.entry(f.collection.clone()).or_default() += 1;
                    relevant = true;
                }
            }
        }
        relevant
    }

    fn batches(&self, pending: Pending) -> Vec<ChangeBatch> {
        let folders = self.folders();
        let roots = |collection: &str| -> Vec<PathBuf> {
            folders
                .iter()
                .filter(|f| f.collection == collection)
                .map(|f| f.path.clone())
                .collect()
        };
        let mut collections: BTreeSet<&String> = pending.paths.keys().collect();
        collections.extend(pending.rescan.iter());
        collections
            .into_iter()
            .map(|collection| {
                let paths = pending.paths.get(collection);
                let count = paths.map_or(0, BTreeSet::len);
                let rescan = pending.rescan.contains(collection) || count > self.max_paths;
                ChangeBatch {
                    collection: collection.clone(),
                    paths: match (rescan, paths) {
                        (false, Some(paths)) => paths.iter().cloned().collect(),
                        _ => roots(collection),
                    },
                    rescan,
                    events: pending.events.get(collection).copied().unwrap_or(0),
                }
            })
            .filter(|b| !b.paths.is_empty())
            .collect()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind, still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why a folder cannot be watched, in words a person can act on.
fn watch_reason(e: &notify::Error) -> String {
    match &e.kind {
        notify::ErrorKind::PathNotFound => "no such folder".into(),
        notify::ErrorKind::MaxFilesWatch => {
            "the system's limit on watched folders is reached (on Linux, raise \
             fs.inotify.max_user_watches)"
                .into()
        }
        _ => e.to_string(),
    }
}

/// Files no one means as documents: hidden files and folders, editor backups and swap files,
/// office lock files and partial downloads.
fn is_noise(inner: &Path) -> bool {
    let hidden = inner
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    let name = inner
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    hidden
        || name.ends_with('~')
        || name.starts_with("~$")
        || name.starts_with(".#")
        || [".swp", ".swx", ".tmp", ".part", ".crdownload", ".download"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

impl Library {
    /// The folders kept in sync: those of `collection`, or of every collection.
    pub fn watched(&self, collection: Option<&str>) -> Result<Vec<WatchedFolder>> {
        Ok(self
            .store
            .watched_folders(collection)?
            .into_iter()
            .map(|w| WatchedFolder {
                collection: w.collection,
                path: PathBuf::from(w.path),
            })
            .collect())
    }

    /// Records that `folder` is kept in sync with `collection` (it must be a folder). Returns false
    /// if it already was. Watching starts where a [`FolderWatcher`] is told.
    pub fn watch_folder(&self, collection: &str, folder: &Path) -> Result<bool> {
        let path = absolute(folder);
        if !path.is_dir() {
            return Err(Error::Watch {
                path: path.display().to_string(),
                reason: "not a folder".into(),
            });
        }
        cairn_index::check_collection_name(collection)?;
        Ok(self
            .store
            .watch_folder(collection, &path.display().to_string())?)
    }

    /// Stops keeping `folder` in sync; its documents stay. Returns false if it was not watched.
    pub fn unwatch_folder(&self, collection: &str, folder: &Path) -> Result<bool> {
        Ok(self
            .store
            .unwatch_folder(collection, &absolute(folder).display().to_string())?)
    }

    /// Brings the collection in line with changed `paths` (what [`FolderWatcher::next`] returns):
    /// files there are indexed (unchanged ones skipped by their content), folders reconciled,
    /// and documents at or under a path that no longer exists removed. Paths that are neither a
    /// document nor a supported file (a deleted temporary file) are passed over.
    pub async fn sync(
        &self,
        paths: &[PathBuf],
        collection: &str,
        progress: &(dyn Fn(Progress) + Sync),
        cancel: &CancelToken,
    ) -> Result<AddReport> {
        let known: Vec<PathBuf> = self
            .store
            .documents(Some(collection))?
            .into_iter()
            .map(|d| PathBuf::from(d.path))
            .collect();
        let roots: Vec<PathBuf> = self
            .store
            .watched_folders(Some(collection))?
            .into_iter()
            .map(|w| PathBuf::from(w.path))
            .collect();
        let mut targets: Vec<PathBuf> = paths
            .iter()
            // A link in a watched folder is not followed, as a folder's walk does not follow
            // one: it may point anywhere (a repository's link to a credentials file).
            .filter(|p| {
                let linked = crate::paths::linked_within(p, &roots);
                if linked {
                    tracing::info!(path = %p.display(), "not followed: a link in a watched folder");
                }
                !linked
            })
            .map(|p| absolute(p))
            .filter(|p| {
                if p.is_dir() {
                    true
                } else if p.is_file() {
                    cairn_ingest::is_supported(p)
                } else {
                    known.iter().any(|k| k.starts_with(p))
                }
            })
            .collect();
        targets.sort();
        targets.dedup();
        if targets.is_empty() {
            return Ok(AddReport::default());
        }
        self.add(&targets, collection, progress, cancel).await
    }

    /// A watcher that ignores the library's own files, with the configured batch size.
    pub fn folder_watcher(&self) -> Result<FolderWatcher> {
        FolderWatcher::new(
            vec![self.data_dir().to_path_buf()],
            self.config.watch.max_paths,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_hidden_files_and_editor_leftovers() {
        for noise in [
            ".git/index",
            "notes/.draft.md",
            "report.md~",
            "~$report.docx",
            "notes/.#todo.md",
            ".todo.md.swp",
            "download.pdf.part",
            "a.pdf.crdownload",
        ] {
            assert!(is_noise(Path::new(noise)), "{noise}");
        }
        for doc in [
            "report.md",
            "notes/sub/plan.pdf",
            "tilde~in/the.md",
            "a.b.txt",
        ] {
            assert!(!is_noise(Path::new(doc)), "{doc}");
        }
    }
}
