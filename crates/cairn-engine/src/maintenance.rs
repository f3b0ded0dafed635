//! Keeping a collection whole: the files that failed and reading them again, rebuilding with
//! another embedding model, and checking that the store and the index agree.

use std::path::PathBuf;

use cairn_store::{CollectionRecord, DocState, DocumentRecord};
use serde::Serialize;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::ingest::{AddReport, Progress};
use crate::library::Library;
use crate::paths::absolute;

impl Library {
    /// Files of `collection` that could not be indexed, with their reasons: `(document, quarantined)`
    /// (quarantined: the same content is not read again until it changes or is retried).
    pub fn failed(&self, collection: &str) -> Result<Vec<(DocumentRecord, bool)>> {
        let quarantined = self.store.quarantined(collection)?;
        Ok(self
            .store
            .documents(Some(collection))?
            .into_iter()
            .filter(|d| d.error_code.is_some())
            .map(|d| {
                let q = quarantined.contains_key(&d.path);
                (d, q)
            })
            .collect())
    }

    /// Reads failed files again, quarantined ones included: those at `paths`, or every failed file
    /// of the collection.
    pub async fn retry(
        &self,
        paths: &[PathBuf],
        collection: &str,
        progress: &(dyn Fn(Progress) + Sync),
        cancel: &CancelToken,
    ) -> Result<AddReport> {
        let wanted: Vec<String> = paths
            .iter()
            .map(|p| absolute(p).display().to_string())
            .collect();
        let failed: Vec<String> = self
            .failed(collection)?
            .into_iter()
            .map(|(d, _)| d.path)
            .filter(|p| wanted.is_empty() || wanted.contains(p))
            .collect();
        self.store.release_quarantine(collection, Some(&failed))?;
        let targets: Vec<PathBuf> = failed.into_iter().map(PathBuf::from).collect();
        if targets.is_empty() {
            return Ok(AddReport::default());
        }
        self.add(&targets, collection, progress, cancel).await
    }
}

impl Library {
    /// Rebuilds a collection from its files with the current embedding model: the way out of a
    /// model change. The old vectors are dropped first; a run cut short is completed by running it
    /// again (or by `add`), since every document is then marked for indexing.
    pub async fn reindex(
        &self,
        collection: &str,
        progress: &(dyn Fn(Progress) + Sync),
        cancel: &CancelToken,
    ) -> Result<AddReport> {
        if self.store.collection(collection)?.is_none() {
            return Err(Error::NoSuchCollection(collection.to_string()));
        }
        let stamp = self.stamp()?;
        let paths: Vec<PathBuf> = self
            .store
            .documents(Some(collection))?
            .into_iter()
            .map(|d| PathBuf::from(d.path))
            .collect();
        self.index.drop_collection(collection).await?;
        let record = CollectionRecord::new(
            collection,
            &stamp.id,
            &stamp.fingerprint,
            stamp.dimension as u32,
        );
        self.store.replace_embedder(&record)?;
        self.add(&paths, collection, progress, cancel).await
    }
}

/// What [`Library::check`] found: whether the store and the index agree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Documents the store holds as indexed.
    pub indexed_documents: usize,
    /// Chunks the store says are indexed.
    pub chunks_in_store: u64,
    /// Rows in the index.
    pub rows_in_index: u64,
    /// Documents whose row count differs from the store's chunk count: `(path, store, index)`.
    pub mismatched: Vec<(String, u64, u64)>,
    /// Rows whose document the store does not hold as indexed.
    pub orphan_rows: u64,
}

impl CheckReport {
    /// True when every indexed document has exactly its chunks in the index, and nothing else is there.
    pub fn is_consistent(&self) -> bool {
        self.mismatched.is_empty() && self.orphan_rows == 0
    }
}

impl Library {
    /// Compares the store with the index, row by row, for one collection.
    pub async fn check(&self, collection: &str) -> Result<CheckReport> {
        if self.store.collection(collection)?.is_none() {
            return Err(Error::NoSuchCollection(collection.to_string()));
        }
        let mut rows = match self.index.stamp(collection).await? {
            Some(stamp) => {
                self.index
                    .collection(collection, &stamp)
                    .await?
                    .rows_per_document()
                    .await?
            }
            None => Default::default(),
        };
        let mut report = CheckReport {
            rows_in_index: rows.values().map(|&n| n as u64).sum(),
            ..Default::default()
        };
        for doc in self.store.documents(Some(collection))? {
            let in_index = rows.remove(&doc.id).unwrap_or(0) as u64;
            let in_store = if doc.state == DocState::Indexed {
                doc.chunk_count as u64
            } else {
                0
            };
            if doc.state == DocState::Indexed {
                report.indexed_documents += 1;
                report.chunks_in_store += in_store;
            }
            if in_index != in_store {
                report.mismatched.push((doc.path, in_store, in_index));
            }
        }
        report.orphan_rows = rows.values().map(|&n| n as u64).sum();
        Ok(report)
    }
}
