//! One writer per library: an exclusive OS file lock on `<data dir>/write.lock`.
//!
//! Every operation that changes the index (adding, removing, re-indexing, deleting a collection,
//! and the crash recovery that starts an add) runs holding the lock, so the app, `cairn watch` and
//! a `cairn add` in a terminal take turns instead of deleting each other's work in flight. Readers
//! (search, ask) never take it. The lock is `flock(2)` on Unix and `LockFileEx` on Windows: the
//! system releases it when its holder exits, however it exits, so a killed writer never leaves the
//! library locked.
//!
//! The holder writes who it is (program, process id, since when) into the lock file, so a process
//! that must wait can say whom it is waiting for. The lock is per open file, so two writers inside
//! one process (the app's indexing queue and its folder watcher) also take turns.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "write.lock";

/// How often a waiting writer tries the lock again.
const RETRY: Duration = Duration::from_millis(100);

/// Who holds a library's write lock, as its holder wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// The program (`cairn`, `cairn-desktop`).
    pub program: String,
    /// Its process id.
    pub pid: u32,
    /// What it is doing (`adding files to 'default'`).
    pub doing: String,
    /// Since when it holds the lock, in seconds since the Unix epoch.
    pub since: u64,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|now| now.as_secs().saturating_sub(self.since))
            .unwrap_or(0);
        write!(
            f,
            "{} (process {}) is {}, for {} s now",
            self.program, self.pid, self.doing, held
        )
    }
}

/// Called while a writer waits, with the holder (`None` when it has not said who it is yet).
pub type OnLockWait = dyn Fn(Option<&LockHolder>) + Send + Sync;

/// The held write lock of one library; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct WriteLock {
    file: File,
    path: PathBuf,
}

impl WriteLock {
    /// Takes the lock of the library in `data_dir` if no one holds it.
    pub fn try_acquire(data_dir: &Path, doing: &str) -> Result<Option<WriteLock>> {
        let path = data_dir.join(LOCK_FILE);
        let file = open(&path)?;
        match file.try_lock() {
            Ok(()) => {
                let mut lock = WriteLock { file, path };
                lock.announce(doing)?;
                Ok(Some(lock))
            }
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(source)) => Err(io(&path, source)),
        }
    }

    /// Takes the lock, waiting for its holder to finish; `on_wait` is told who that is when the
    /// wait begins and again whenever the holder changes.
    pub async fn acquire(
        data_dir: &Path,
        doing: &str,
        on_wait: &(dyn Fn(Option<&LockHolder>) + Sync),
    ) -> Result<WriteLock> {
        let mut told: Option<Option<LockHolder>> = None;
        loop {
            if let Some(lock) = WriteLock::try_acquire(data_dir, doing)? {
                if told.is_some() {
                    tracing::info!(doing, "took the library's write lock after waiting");
                }
                return Ok(lock);
            }
            let holder = holder(data_dir);
            if told.as_ref() != Some(&holder) {
                tracing::info!(holder = ?holder, "waiting for the library's write lock");
                on_wait(holder.as_ref());
                told = Some(holder);
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    /// Writes who holds the lock into the lock file.
    fn announce(&mut self, doing: &str) -> Result<()> {
        let me = LockHolder {
            program: program_name(),
            pid: std::process::id(),
            doing: doing.to_string(),
            since: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        };
        let json = serde_json::to_vec(&me).expect("a holder serializes");
        let path = self.path.clone();
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)).map(drop))
            .and_then(|()| self.file.write_all(&json))
            .map_err(|e| io(&path, e))
    }
}

/// Who holds the write lock of the library in `data_dir` now, if anyone says so.
pub fn holder(data_dir: &Path) -> Option<LockHolder> {
    let path = data_dir.join(LOCK_FILE);
    let mut file = File::open(&path).ok()?;
    // Held if we cannot take it; a shared lock is enough to ask, and is dropped at once.
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            return None;
        }
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Error(_)) => return None,
    }
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

fn open(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| io(path, e))
}

fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "another program".to_string())
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_second_writer_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriteLock::try_acquire(dir.path(), "adding files").unwrap();
        assert!(first.is_some());
        assert!(
            WriteLock::try_acquire(dir.path(), "removing files")
                .unwrap()
                .is_none(),
            "a second handle, even in the same process, must wait"
        );
        let who = holder(dir.path()).expect("the holder says who it is");
        assert_eq!(who.pid, std::process::id());
        assert_eq!(who.doing, "adding files");
        drop(first);
        assert_eq!(holder(dir.path()), None, "nobody holds it now");
        assert!(WriteLock::try_acquire(dir.path(), "x").unwrap().is_some());
    }

    #[tokio::test]
    async fn a_waiting_writer_is_told_who_holds_the_lock_and_then_gets_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriteLock::try_acquire(dir.path(), "re-indexing 'notes'")
            .unwrap()
            .unwrap();
        let seen: Arc<Mutex<Vec<Option<LockHolder>>>> = Arc::default();
        let log = seen.clone();
        let path = dir.path().to_path_buf();
        let waiter = tokio::spawn(async move {
            WriteLock::acquire(&path, "adding files", &move |h| {
                log.lock().unwrap().push(h.cloned())
            })
            .await
        });
        while seen.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!waiter.is_finished(), "it waits while the lock is held");
        drop(first);
        let second = waiter.await.unwrap().unwrap();
        let told = seen.lock().unwrap().clone();
        assert_eq!(told.len(), 1, "told once while the holder stayed the same");
        assert_eq!(told[0].as_ref().unwrap().doing, "re-indexing 'notes'");
        assert_eq!(holder(dir.path()).unwrap().doing, "adding files");
        drop(second);
    }
}
