//! Watched folders while the app runs: one [`FolderWatcher`] for the open library, whose batches
//! of changes become sync jobs in the indexing queue (so they never write the index at the same
//! time as another job, and show their progress like one). On start-up every watched folder is
//! reconciled, which finds what changed while the app was closed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cairn_engine::{CancelToken, FolderWatcher, Library, WatchedFolder};

use crate::api::{ApiError, JobKind, WatchedFolderView};
use crate::ingest::Ingest;
use crate::lock;

struct Running {
    watcher: Arc<FolderWatcher>,
    cancel: CancelToken,
}

/// The watcher of the open library, and the folders it could not watch.
#[derive(Default)]
pub(crate) struct Watch {
    running: Mutex<Option<Running>>,
    /// Why a folder is not watched, by (collection, path).
    problems: Arc<Mutex<HashMap<(String, PathBuf), String>>>,
}

/// Why a watched folder that is not there is not watched.
const UNAVAILABLE: &str = "the folder is not there (a disk that is not mounted, or a share that is \
                           down?); its documents are kept, and it is looked for again";

impl Watch {
    /// Watches `library`'s folders (ending any earlier watch), queues a reconcile of each, and
    /// turns their changes into sync jobs until [`Watch::stop`].
    pub(crate) fn start(&self, library: &Arc<Library>, ingest: &Arc<Ingest>) {
        self.stop();
        lock(&self.problems).clear();
        let watcher = match library.folder_watcher() {
            Ok(w) => Arc::new(w),
            Err(e) => {
                tracing::error!("folders cannot be watched: {e}");
                return;
            }
        };
        let folders = match library.watched(None) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("the watched folders cannot be read: {e}");
                Vec::new()
            }
        };
        let mut roots: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for folder in folders {
            if self.listen(&watcher, folder.clone()) {
                roots
                    .entry(folder.collection)
                    .or_default()
                    .push(folder.path.display().to_string());
            }
        }
        // Changes made while the app was closed.
        for (collection, paths) in roots {
            ingest.submit(JobKind::Sync, paths, collection);
        }
        let cancel = CancelToken::new();
        let debounce = library.config().watch.debounce();
        tokio::spawn({
            let watcher = watcher.clone();
            let cancel = cancel.clone();
            let ingest = ingest.clone();
            async move {
                while let Some(batches) = watcher.next(debounce, &cancel).await {
                    let folders = watcher.folders();
                    for batch in batches {
                        let within: Vec<String> = folders
                            .iter()
                            .filter(|f| {
                                f.collection == batch.collection
                                    && batch.paths.iter().any(|p| p.starts_with(&f.path))
                            })
                            .map(|f| f.path.display().to_string())
                            .collect();
                        let changed = batch
                            .paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect();
                        ingest.submit_sync(within, changed, batch.collection);
                    }
                }
            }
        });
        tokio::spawn(look_again(
            watcher.clone(),
            self.problems.clone(),
            ingest.clone(),
            cancel.clone(),
            std::time::Duration::from_secs(library.config().watch.unavailable_retry_secs.max(1)),
        ));
        *lock(&self.running) = Some(Running { watcher, cancel });
    }

    /// Stops listening (the app closes, or another library is opened).
    pub(crate) fn stop(&self) {
        if let Some(running) = lock(&self.running).take() {
            running.cancel.cancel();
        }
    }

    /// Starts listening to a folder just recorded as watched; when it cannot be, the reason is
    /// kept for the Library screen.
    pub(crate) fn add(&self, folder: WatchedFolder) {
        let watcher = lock(&self.running).as_ref().map(|r| r.watcher.clone());
        if let Some(watcher) = watcher {
            self.listen(&watcher, folder);
        }
    }

    /// Stops listening to a folder.
    pub(crate) fn remove(&self, collection: &str, path: &Path) {
        lock(&self.problems).remove(&(collection.to_string(), path.to_path_buf()));
        if let Some(running) = lock(&self.running).as_ref() {
            running.watcher.unwatch(collection, path);
        }
    }

    fn listen(&self, watcher: &FolderWatcher, folder: WatchedFolder) -> bool {
        let key = (folder.collection.clone(), folder.path.clone());
        match watcher.watch(folder) {
            Ok(()) => {
                lock(&self.problems).remove(&key);
                true
            }
            Err(e) => {
                tracing::warn!("{e}");
                let reason = match e {
                    _ if !key.1.exists() => UNAVAILABLE.to_string(),
                    cairn_engine::Error::Watch { reason, .. } => reason,
                    other => other.to_string(),
                };
                lock(&self.problems).insert(key, reason);
                false
            }
        }
    }

    /// The library's watched folders, with whether each is listened to.
    pub(crate) fn view(&self, library: &Library) -> Result<Vec<WatchedFolderView>, ApiError> {
        let listening = lock(&self.running)
            .as_ref()
            .map(|r| r.watcher.folders())
            .unwrap_or_default();
        let problems = lock(&self.problems);
        Ok(library
            .watched(None)?
            .into_iter()
            .map(|f| {
                let watching = listening.contains(&f);
                let problem = problems
                    .get(&(f.collection.clone(), f.path.clone()))
                    .cloned()
                    .or_else(|| (!watching).then(|| "not being watched".to_string()));
                WatchedFolderView {
                    collection: f.collection,
                    path: f.path.display().to_string(),
                    watching,
                    problem,
                }
            })
            .collect())
    }
}

/// Every `every`, until `cancel`: a watched folder that has gone (its disk unmounted) stops being
/// listened to and is shown as not there, its documents kept; a folder that was not there and is
/// back is listened to again and reconciled by a sync job.
async fn look_again(
    watcher: Arc<FolderWatcher>,
    problems: Arc<Mutex<HashMap<(String, PathBuf), String>>>,
    ingest: Arc<Ingest>,
    cancel: CancelToken,
    every: std::time::Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if cancel.is_cancelled() {
            return;
        }
        for folder in watcher.folders() {
            if !folder.path.is_dir() {
                tracing::warn!(path = %folder.path.display(), "a watched folder is not there any more");
                watcher.unwatch(&folder.collection, &folder.path);
                lock(&problems).insert((folder.collection, folder.path), UNAVAILABLE.to_string());
            }
        }
        let away: Vec<(String, PathBuf)> = lock(&problems)
            .iter()
            .filter(|(_, reason)| reason.as_str() == UNAVAILABLE)
            .map(|(key, _)| key.clone())
            .collect();
        for (collection, path) in away {
            if !path.is_dir() {
                continue;
            }
            let folder = WatchedFolder {
                collection: collection.clone(),
                path: path.clone(),
            };
            if watcher.watch(folder).is_ok() {
                tracing::info!(path = %path.display(), "a watched folder is back");
                lock(&problems).remove(&(collection.clone(), path.clone()));
                ingest.submit(JobKind::Sync, vec![path.display().to_string()], collection);
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop();
    }
}
