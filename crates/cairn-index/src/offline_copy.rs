//! A copy on this computer of a shared collection's table, to answer from when its store cannot
//! be reached.
//!
//! A LanceDB table is a folder of files that are written once and never changed (data, deletion
//! vectors, indices, transactions) and one manifest per version naming the files of that version.
//! A catch-up fetches the files the copy lacks and removes those the store no longer has.
//!
//! Invariants:
//! * A manifest is only ever in the copy once every file it names is. Manifests come from a
//!   listing made before the listing the other files come from: a version committed before the
//!   first listing wrote its files before it, so the second listing holds them. The other files
//!   are fetched first, the manifests after them, each under a temporary name renamed into place
//!   once whole. However a catch-up ends (killed, the network gone halfway), the copy opens at a
//!   whole version.
//! * The copy is only read: the [`CollectionIndex`] it opens refuses writes, so it never grows a
//!   version of its own that the store's next version would collide with.
//! * `copy.json` is written last, so the time it gives is that of a catch-up that finished.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path as StorePath;
use serde::{Deserialize, Serialize};

use crate::collection::{CollectionIndex, EmbedderStamp, Index, table_name};
use crate::error::{Error, Result};
use crate::shared::{ObjectStore, StoreCredentials};

/// Files fetched at once.
const PARALLEL_FETCHES: usize = 8;

/// Where the copy says when it last caught up.
const STATE_FILE: &str = "copy.json";

/// The copy's tables, in a LanceDB database folder of their own.
const DATABASE_DIR: &str = "lance";

/// A copy on this computer of one shared collection's table.
#[derive(Debug, Clone)]
pub struct OfflineCopy {
    dir: PathBuf,
}

/// What a copy holds: which store it copies and when it last caught up with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyState {
    /// The shared location it copies, `s3://bucket/prefix`.
    pub uri: String,
    /// The collection.
    pub collection: String,
    /// When the last catch-up finished, in milliseconds since the Unix epoch.
    pub synced_at_ms: i64,
    /// Files in the copy.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

impl CopyState {
    /// How long ago the last catch-up finished.
    pub fn age(&self) -> Duration {
        let now = now_ms();
        Duration::from_millis(now.saturating_sub(self.synced_at_ms).max(0) as u64)
    }
}

/// How far a catch-up is: files and bytes fetched of those it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CopyProgress {
    /// Files fetched so far.
    pub files_done: usize,
    /// Files this catch-up fetches.
    pub files: usize,
    /// Bytes fetched so far.
    pub bytes_done: u64,
    /// Bytes this catch-up fetches.
    pub bytes: u64,
}

/// What one catch-up did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatchUp {
    /// Files fetched from the store.
    pub fetched: usize,
    /// Their bytes.
    pub fetched_bytes: u64,
    /// Files removed because the store no longer has them.
    pub removed: usize,
    /// The copy as it is now.
    pub state: CopyState,
}

/// One file of the table in the store, by its path inside the table's folder.
#[derive(Clone)]
struct Listed {
    path: StorePath,
    relative: String,
    size: u64,
}

impl OfflineCopy {
    /// The copy kept in `dir` (made by the first catch-up).
    pub fn at(dir: impl Into<PathBuf>) -> OfflineCopy {
        OfflineCopy { dir: dir.into() }
    }

    /// The folder it lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// When it last caught up; `None` before its first catch-up finished.
    pub fn state(&self) -> Result<Option<CopyState>> {
        match std::fs::read(self.dir.join(STATE_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Error::OfflineCopy(format!(
                    "{} is damaged: {e}",
                    self.dir.join(STATE_FILE).display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&self.dir.join(STATE_FILE), e)),
        }
    }

    /// Brings the copy up to the store's latest version of `collection`'s table: fetches what it
    /// lacks, removes what the store no longer has.
    pub async fn catch_up(
        &self,
        store: &ObjectStore,
        credentials: &StoreCredentials,
        collection: &str,
    ) -> Result<CatchUp> {
        self.catch_up_showing(store, credentials, collection, Arc::new(|_| {}))
            .await
    }

    /// [`OfflineCopy::catch_up`], telling `progress` once the files to fetch are known and after
    /// each one. Stopped at any point (the process killed, the network gone), the copy still opens
    /// at a whole version; the next catch-up fetches only what is still missing.
    pub async fn catch_up_showing(
        &self,
        store: &ObjectStore,
        credentials: &StoreCredentials,
        collection: &str,
        progress: Arc<dyn Fn(CopyProgress) + Send + Sync>,
    ) -> Result<CatchUp> {
        let dir = &self.dir;
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let lock_path = dir.join("copy.lock");
        let lock = std::fs::File::create(&lock_path).map_err(|e| io_error(&lock_path, e))?;
        // One catch-up at a time, across processes: another's removals would take files this
        // one just fetched.
        lock.try_lock().map_err(|_| {
            Error::OfflineCopy(format!("another catch-up of {} is running", dir.display()))
        })?;
        let (client, root) = store.client(credentials)?;
        let table = match root.as_str() {
            "" => format!("{}.lance", table_name(collection)?),
            root => format!("{root}/{}.lance", table_name(collection)?),
        };
        let table = StorePath::from(table.as_str());
        let local = self
            .dir
            .join(DATABASE_DIR)
            .join(format!("{}.lance", table_name(collection)?));

        let first = list(client.as_ref(), &table).await?;
        let second = list(client.as_ref(), &table).await?;
        let manifests: Vec<&Listed> = first.values().filter(|f| is_manifest(f)).collect();
        let others: Vec<&Listed> = second.values().filter(|f| !is_manifest(f)).collect();

        let wanted = |batch: Vec<&Listed>| -> Vec<Listed> {
            batch
                .into_iter()
                .filter(|f| !is_whole(&local.join(&f.relative), f.size) || is_mutable(f))
                .cloned()
                .collect()
        };
        let batches = [wanted(others), wanted(manifests)];
        let fetched = batches.iter().map(Vec::len).sum();
        let fetched_bytes = batches.iter().flatten().map(|f| f.size).sum();
        let done = Arc::new((AtomicUsize::new(0), AtomicU64::new(0)));
        progress(CopyProgress {
            files_done: 0,
            files: fetched,
            bytes_done: 0,
            bytes: fetched_bytes,
        });
        for batch in batches {
            // Owned in each future: the stream is sent between threads (a catch-up runs in a
            // spawned task), which borrowed items would not allow.
            futures::stream::iter(batch)
                .map(|file| {
                    let client = client.clone();
                    let local = local.clone();
                    let done = done.clone();
                    let progress = progress.clone();
                    async move {
                        fetch(client.as_ref(), &file, &local).await?;
                        progress(CopyProgress {
                            files_done: done.0.fetch_add(1, Ordering::Relaxed) + 1,
                            files: fetched,
                            bytes_done: done.1.fetch_add(file.size, Ordering::Relaxed) + file.size,
                            bytes: fetched_bytes,
                        });
                        Ok::<(), Error>(())
                    }
                })
                .buffer_unordered(PARALLEL_FETCHES)
                .try_collect::<Vec<()>>()
                .await?;
        }

        // What the store no longer has goes: manifests first, so that none is left naming a
        // file removed after it.
        let kept: HashSet<&str> = first
            .keys()
            .chain(second.keys())
            .map(String::as_str)
            .collect();
        let mut stale: Vec<String> = local_files(&local)?
            .into_iter()
            .filter(|f| !kept.contains(f.as_str()))
            .collect();
        stale.sort_by_key(|f| !f.starts_with("_versions/") && f.as_str() != "_latest.manifest");
        for file in &stale {
            let path = local.join(file);
            std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
        }

        let (files, bytes) = local_files(&local)?.iter().try_fold(
            (0usize, 0u64),
            |(n, b), f| -> Result<(usize, u64)> {
                let path = local.join(f);
                let len = std::fs::metadata(&path)
                    .map_err(|e| io_error(&path, e))?
                    .len();
                Ok((n + 1, b + len))
            },
        )?;
        let state = CopyState {
            uri: store.uri().to_string(),
            collection: collection.to_string(),
            synced_at_ms: now_ms(),
            files,
            bytes,
        };
        write_whole(
            &self.dir.join(STATE_FILE),
            &serde_json::to_vec_pretty(&state).map_err(|e| Error::OfflineCopy(e.to_string()))?,
        )?;
        Ok(CatchUp {
            fetched,
            fetched_bytes,
            removed: stale.len(),
            state,
        })
    }

    /// Opens the copy of `collection`'s table for reading, at the version it last caught up to;
    /// `None` when no catch-up has fetched it yet. Its writes are refused.
    pub async fn collection(
        &self,
        collection: &str,
        stamp: &EmbedderStamp,
    ) -> Result<Option<CollectionIndex>> {
        if self.state()?.is_none() {
            return Ok(None);
        }
        let index = Index::open(&self.dir.join(DATABASE_DIR)).await?;
        if index.stamp(collection).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(index.collection(collection, stamp).await?.read_only()))
    }

    /// Deletes the copy.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&self.dir, e)),
        }
    }
}

/// Every file under the table's folder in the store, by its path relative to that folder.
async fn list(
    client: &dyn object_store::ObjectStore,
    table: &StorePath,
) -> Result<BTreeMap<String, Listed>> {
    let prefix = format!("{table}/");
    let mut listing = client.list(Some(table));
    let mut files = BTreeMap::new();
    while let Some(meta) = listing.next().await {
        let meta = meta.map_err(store_error)?;
        let Some(relative) = meta.location.as_ref().strip_prefix(&prefix) else {
            continue;
        };
        let relative = safe_relative(relative)?;
        files.insert(
            relative.clone(),
            Listed {
                path: meta.location,
                relative,
                size: meta.size,
            },
        );
    }
    Ok(files)
}

/// A path from the store, checked to stay inside the copy's folder.
fn safe_relative(relative: &str) -> Result<String> {
    let safe = !relative.is_empty()
        && relative
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    if safe {
        Ok(relative.to_string())
    } else {
        Err(Error::OfflineCopy(format!(
            "the store lists a file '{relative}' that would land outside the copy's folder"
        )))
    }
}

/// A version's manifest: fetched after every other file.
fn is_manifest(file: &Listed) -> bool {
    file.relative.starts_with("_versions/") || is_mutable(file)
}

/// The one file a table rewrites in place (older layouts): always fetched again.
fn is_mutable(file: &Listed) -> bool {
    file.relative == "_latest.manifest"
}

/// Whether the copy already has this file whole (files are never rewritten: size tells).
fn is_whole(path: &Path, size: u64) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() == size)
}

/// Fetches one file, streaming it to a temporary name and renaming it into place once whole.
async fn fetch(client: &dyn object_store::ObjectStore, file: &Listed, local: &Path) -> Result<()> {
    let path = local.join(&file.relative);
    let parent = path.parent().unwrap_or(local);
    std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    let partial = partial_name(&path);
    let mut out = std::fs::File::create(&partial).map_err(|e| io_error(&partial, e))?;
    let mut body = client
        .get(&file.path)
        .await
        .map_err(store_error)?
        .into_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(store_error)?;
        out.write_all(&chunk).map_err(|e| io_error(&partial, e))?;
    }
    out.sync_all().map_err(|e| io_error(&partial, e))?;
    drop(out);
    std::fs::rename(&partial, &path).map_err(|e| io_error(&path, e))
}

/// The files under the copy's table folder, relative to it (temporary files of a catch-up that
/// stopped included, so that they are removed).
fn local_files(table: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut folders = vec![table.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(&folder, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&folder, e))?;
            let path = entry.path();
            if entry.file_type().map_err(|e| io_error(&path, e))?.is_dir() {
                folders.push(path);
            } else if let Ok(relative) = path.strip_prefix(table) {
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.push(parts.join("/"));
            }
        }
    }
    Ok(files)
}

/// Writes a small file through a temporary name, so that it is either old or new, never half.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = partial_name(path);
    std::fs::write(&partial, bytes).map_err(|e| io_error(&partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| io_error(path, e))
}

/// `FILE.partial`: where a file is written until it is whole.
fn partial_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::OfflineCopy(format!("{}: {e}", path.display()))
}

fn store_error(e: object_store::Error) -> Error {
    Error::OfflineCopy(format!("the store could not be read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_path_cannot_climb_out_of_the_copy() {
        for bad in ["../x", "data/../../x", "", "data//x", "./x", "a\\..\\b"] {
            assert!(safe_relative(bad).is_err(), "{bad:?}");
        }
        for good in ["data/abc.lance", "_versions/1.manifest", "_latest.manifest"] {
            assert_eq!(safe_relative(good).unwrap(), good);
        }
    }

    #[test]
    fn manifests_come_after_the_files_they_name() {
        let listed = |relative: &str| Listed {
            path: StorePath::from(relative),
            relative: relative.to_string(),
            size: 1,
        };
        assert!(is_manifest(&listed(
            "_versions/18446744073709551614.manifest"
        )));
        assert!(is_manifest(&listed("_latest.manifest")));
        assert!(!is_manifest(&listed("data/0a1b.lance")));
        assert!(!is_manifest(&listed("_indices/0a1b/index.idx")));
        assert!(!is_manifest(&listed("_transactions/3-0a1b.txn")));
    }

    #[test]
    fn the_age_of_a_copy_counts_from_its_last_catch_up() {
        let state = CopyState {
            uri: "s3://b/p".into(),
            collection: "team".into(),
            synced_at_ms: now_ms() - 90_000,
            files: 0,
            bytes: 0,
        };
        let age = state.age().as_secs();
        assert!((89..=95).contains(&age), "{age}");
    }
}
