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
        if failed.is_empty() {
            return Ok(AddReport::default());
        }
        let _lock = self
            .write_lock_reporting(
                &format!("reading failed files of '{collection}' again"),
                progress,
            )
            .await?;
        self.store.release_quarantine(collection, Some(&failed))?;
        let targets: Vec<PathBuf> = failed.into_iter().map(PathBuf::from).collect();
        self.add_locked(&targets, collection, progress, cancel)
            .await
    }
}

impl Library {
    /// Rebuilds a collection from its files with the current embedding model: the way out of a
    /// model change.
    ///
    /// Journalled, records first: every document is marked for indexing (hash forgotten) and the
    /// collection's model recorded in one transaction, and only then are the old vectors dropped.
    /// A kill before the drop leaves a table of the old model under a record of the new one, which
    /// the next add or re-index recognises and drops ([`Library::collection_index`]); a kill after
    /// it, documents marked for indexing that the next run reads. Either way none stays marked
    /// indexed without its passages. A file that now fails is recorded as failed with its reason.
    pub async fn reindex(
        &self,
        collection: &str,
        progress: &(dyn Fn(Progress) + Sync),
        cancel: &CancelToken,
    ) -> Result<AddReport> {
        match self.store.collection(collection)? {
            None => return Err(Error::NoSuchCollection(collection.to_string())),
            Some(record) if record.shared.is_some() => {
                return Err(Error::SharedCollection(format!(
                    "'{collection}' is shared: re-indexing it would drop the passages other \
                     libraries added. Make a new shared collection with the new model instead"
                )));
            }
            Some(_) => {}
        }
        let stamp = self.stamp()?;
        let _lock = self
            .write_lock_reporting(&format!("re-indexing '{collection}'"), progress)
            .await?;
        let paths: Vec<PathBuf> = self
            .store
            .documents(Some(collection))?
            .into_iter()
            .map(|d| PathBuf::from(d.path))
            .collect();
        let record = CollectionRecord::new(
            collection,
            &stamp.id,
            &stamp.fingerprint,
            stamp.dimension as u32,
        );
        self.store.replace_embedder(&record)?;
        crate::fault::point("reindex.records_replaced");
        self.index.drop_collection(collection).await?;
        crate::fault::point("reindex.table_dropped");
        self.add_locked(&paths, collection, progress, cancel).await
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
    /// In a shared collection: rows of the documents other libraries added (never orphans here).
    pub rows_of_other_libraries: u64,
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
        let index = self.index_of(collection).await?;
        let mut rows = match index.stamp(collection).await? {
            Some(stamp) => {
                index
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
        let left: u64 = rows.values().map(|&n| n as u64).sum();
        if self.is_shared(collection)? {
            report.rows_of_other_libraries = left;
        } else {
            report.orphan_rows = left;
        }
        Ok(report)
    }
}

impl Library {
    /// Repairs what a writer that stopped (killed, crashed, powered off) left, holding the write
    /// lock, so no live writer's work in flight is taken for debris: the passages of documents
    /// left half-written are deleted (they stay marked `writing`, and the next add of their
    /// collection reads them again), removals under way are finished, tables of deleted collections are dropped, and cloud reservations left open are settled at their
    /// reserved cost. Traces older than `traces.retention_days` are pruned. Runs when the library
    /// is opened and no other process is writing.
    pub(crate) async fn recover(&self, _lock: &crate::write_lock::WriteLock) -> Result<()> {
        let pruned = self.store.prune_traces(self.config.traces.retention_days)?;
        if pruned > 0 {
            tracing::info!(
                pruned,
                days = self.config.traces.retention_days,
                "deleted traces older than the retention period"
            );
        }
        let settled = self.store.settle_stale_reservations()?;
        if settled > 0 {
            tracing::info!(
                settled,
                "settled cloud reservations a stopped process left open"
            );
        }
        // Tables no record names: left by a delete stopped between its two steps.
        let known: Vec<String> = self
            .store
            .collections()?
            .into_iter()
            .map(|c| c.name)
            .collect();
        for table in self.index.collections().await? {
            if !known.contains(&table) {
                tracing::info!(collection = table, "dropping a table a stopped delete left");
                self.index.drop_collection(&table).await?;
            }
        }
        for record in self.store.collections()? {
            let writing = self
                .store
                .documents_in_state(&record.name, DocState::Writing)?;
            let removing = self
                .store
                .documents_in_state(&record.name, DocState::Removing)?;
            if writing.is_empty() && removing.is_empty() {
                continue;
            }
            let ids: Vec<i64> = writing.iter().chain(&removing).map(|d| d.id).collect();
            match self.delete_rows_of(&record.name, &ids).await {
                Ok(rows) => tracing::info!(
                    collection = record.name,
                    half_written = writing.len(),
                    leaving = removing.len(),
                    rows,
                    "deleted the passages a stopped writer left"
                ),
                // A shared collection's store out of reach (offline) must not keep the library
                // closed: its documents stay journalled and are repaired on a later start.
                Err(e) if record.shared.is_some() => {
                    tracing::warn!(collection = record.name, error = %e, "cannot reach a shared collection to repair it now");
                    continue;
                }
                Err(e) => return Err(e),
            }
            for doc in removing {
                self.store.remove_document(doc.id)?;
            }
        }
        Ok(())
    }

    /// Deletes the rows of these documents from a collection's table, if it has one.
    async fn delete_rows_of(&self, collection: &str, ids: &[i64]) -> Result<u64> {
        let index = self.index_of(collection).await?;
        match index.stamp(collection).await? {
            Some(stamp) => Ok(index
                .collection(collection, &stamp)
                .await?
                .delete_documents(ids)
                .await?),
            None => Ok(0),
        }
    }
}
