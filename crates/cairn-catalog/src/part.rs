//! A download in progress on disk: `<file>.part` holds the bytes received, and `<file>.part.json`
//! the ETag and size of the file they belong to. A later download resumes the part only while the
//! server still states that ETag and size; otherwise it starts over.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CatalogError, Result};

/// What a part belongs to, as the server stated it when the part was started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    /// The file's ETag (its SHA-256, for a large file on Hugging Face).
    pub etag: String,
    /// The file's size.
    pub size: u64,
}

/// The part and sidecar files of one destination.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// `<file>.part`.
    pub path: PathBuf,
    sidecar: PathBuf,
}

impl Part {
    /// The part files of a download to `dest`.
    pub(crate) fn of(dest: &Path) -> Part {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Part {
            path: dest.with_file_name(format!("{name}.part")),
            sidecar: dest.with_file_name(format!("{name}.part.json")),
        }
    }

    /// Bytes of the part that can be resumed for a file of `identity`: its length when the sidecar
    /// records the same identity and the part is no longer than the file, else 0.
    pub(crate) fn resumable(&self, identity: &Identity) -> u64 {
        let recorded = std::fs::read(&self.sidecar)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Identity>(&bytes).ok());
        let len = std::fs::metadata(&self.path).map(|m| m.len()).ok();
        match (recorded, len) {
            (Some(r), Some(len)) if r == *identity && len <= identity.size => len,
            _ => 0,
        }
    }

    /// Starts the part over for a file of `identity`: an empty part and a sidecar naming it.
    pub(crate) fn start_over(&self, identity: &Identity) -> Result<()> {
        std::fs::write(&self.path, b"").map_err(|e| CatalogError::io(&self.path, e))?;
        let json = serde_json::to_vec(identity).expect("an identity serialises");
        std::fs::write(&self.sidecar, json).map_err(|e| CatalogError::io(&self.sidecar, e))
    }

    /// Bytes on disk now.
    pub(crate) fn len(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }

    /// The SHA-256 state after the part's first `len` bytes (read on a blocking thread: a resumed
    /// part may hold gigabytes).
    pub(crate) async fn hash_prefix(&self, len: u64) -> Result<Sha256> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path).map_err(|e| CatalogError::io(&path, e))?;
            let mut reader = std::io::BufReader::with_capacity(1 << 20, file.take(len));
            let mut hasher = Sha256::new();
            std::io::copy(&mut reader, &mut hasher).map_err(|e| CatalogError::io(&path, e))?;
            Ok(hasher)
        })
        .await
        .map_err(|e| CatalogError::io(&self.path, std::io::Error::other(e.to_string())))?
    }

    /// Deletes the part and its sidecar (what is gone already is no error).
    pub(crate) fn discard(&self) {
        for path in [&self.path, &self.sidecar] {
            if let Err(e) = std::fs::remove_file(path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("{}: {e}", path.display());
            }
        }
    }

    /// Puts the verified part in place as `dest` and removes the sidecar.
    pub(crate) fn finish(&self, dest: &Path) -> Result<()> {
        std::fs::rename(&self.path, dest).map_err(|e| CatalogError::io(dest, e))?;
        let _ = std::fs::remove_file(&self.sidecar);
        Ok(())
    }
}
