//! Offline copies of shared collections: a shared collection's table kept on this computer too,
//! answered from when its store cannot be reached, saying how old it is, and caught up when the
//! store answers again.
//!
//! A copy is kept where its folder exists (`offline-copies/NAME` in the library), made by
//! [`Library::keep_offline_copy`] and removed by [`Library::drop_offline_copy`] or by leaving the
//! collection. A search of a shared collection asks the store first; where the store fails or
//! does not answer within [`STORE_WAIT`], the copy answers and the results say so
//! ([`FromOfflineCopy`]). A search the store answered starts a catch-up in the background when
//! the copy is older than [`REFRESH_AFTER`] (one at a time per collection in this process; the
//! copy's own lock keeps two processes from catching up at once).
//!
//! Only searches fall back: adding to, removing from or checking a shared collection needs the
//! store, and fails with its error while it cannot be reached.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cairn_index::{CatchUp, CollectionIndex, CopyProgress, CopyState, Hit, OfflineCopy};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::library::Library;

/// How long a search waits for a shared collection's store before the offline copy answers.
pub const STORE_WAIT: Duration = Duration::from_secs(10);

/// A copy older than this is brought up to date after a search that reached the store.
pub const REFRESH_AFTER: Duration = Duration::from_secs(10 * 60);

/// The folder, inside the library, that holds the offline copies.
const COPIES_DIR: &str = "offline-copies";

/// Said of results that came from the offline copy because the store could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FromOfflineCopy {
    /// The shared collection.
    pub collection: String,
    /// When the copy last caught up with the store, in milliseconds since the Unix epoch.
    pub synced_at_ms: i64,
    /// How old the copy was when it answered, in seconds.
    pub age_secs: u64,
    /// Why the store was not used.
    pub reason: String,
}

/// One index query, run against the store's table or against the copy's.
pub(crate) enum IndexQuery<'a> {
    Dense(&'a [f32]),
    Bm25(&'a str),
    Hybrid(&'a str, &'a [f32]),
}

impl IndexQuery<'_> {
    async fn run(
        &self,
        index: &CollectionIndex,
        params: &cairn_index::SearchParams,
    ) -> Result<Vec<Hit>> {
        Ok(match self {
            IndexQuery::Dense(vector) => index.dense(vector, params.k, params).await?,
            IndexQuery::Bm25(text) => index.bm25(text, params.k).await?,
            IndexQuery::Hybrid(text, vector) => index.hybrid(text, vector, params).await?,
        })
    }
}

impl Library {
    fn offline_copy_at(&self, collection: &str) -> Result<OfflineCopy> {
        cairn_index::check_collection_name(collection)?;
        Ok(OfflineCopy::at(self.copies_dir().join(collection)))
    }

    fn copies_dir(&self) -> PathBuf {
        self.data_dir.join(COPIES_DIR)
    }

    /// Whether this library keeps an offline copy of `collection`.
    fn keeps_offline_copy(&self, collection: &str) -> Result<bool> {
        Ok(self.is_shared(collection)? && self.offline_copy_at(collection)?.dir().is_dir())
    }

    /// The offline copy of a shared collection: `None` when none is kept; a kept copy whose first
    /// catch-up has not finished has no state yet (`Some(None)`).
    pub fn offline_copy(&self, collection: &str) -> Result<Option<Option<CopyState>>> {
        if !self.keeps_offline_copy(collection)? {
            return Ok(None);
        }
        Ok(Some(self.offline_copy_at(collection)?.state()?))
    }

    /// Keeps an offline copy of a shared collection from now on, and brings it up to date with
    /// the store now (making it, the first time), telling `progress` how far it is.
    pub async fn keep_offline_copy(
        &self,
        collection: &str,
        progress: Arc<dyn Fn(CopyProgress) + Send + Sync>,
    ) -> Result<CatchUp> {
        if !self.is_shared(collection)? {
            return Err(match self.store.collection(collection)? {
                None => Error::NoSuchCollection(collection.to_string()),
                Some(_) => Error::InvalidInput(format!(
                    "collection '{collection}' is not shared: it is on this computer already"
                )),
            });
        }
        crate::private::make_private_dir(&self.copies_dir())?;
        let copy = self.offline_copy_at(collection)?;
        let (store, credentials) = self.shared_access(collection)?;
        Ok(copy
            .catch_up_showing(&store, &credentials, collection, progress)
            .await?)
    }

    /// Stops keeping the offline copy of `collection` and deletes it; false if none was kept.
    pub fn drop_offline_copy(&self, collection: &str) -> Result<bool> {
        let copy = self.offline_copy_at(collection)?;
        let kept = copy.dir().is_dir();
        copy.remove()?;
        Ok(kept)
    }

    /// Runs `query` on `collection`: on its own table, or for a shared collection with an
    /// offline copy, on the store's and, where that fails or is slow, on the copy's.
    pub(crate) async fn query_collection(
        &self,
        collection: &str,
        query: &IndexQuery<'_>,
        params: &cairn_index::SearchParams,
    ) -> Result<(Vec<Hit>, Option<FromOfflineCopy>)> {
        if !self.keeps_offline_copy(collection)? {
            let index = self.collection_index(collection, false).await?;
            return Ok((query.run(&index, params).await?, None));
        }
        let from_store = async {
            let index = self.collection_index(collection, false).await?;
            query.run(&index, params).await
        };
        let reason = match tokio::time::timeout(STORE_WAIT, from_store).await {
            Ok(Ok(hits)) => {
                self.refresh_offline_copy(collection);
                return Ok((hits, None));
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("it did not answer within {} seconds", STORE_WAIT.as_secs()),
        };
        let copy = self.offline_copy_at(collection)?;
        let stamp = self.stamp()?;
        let (Some(state), Some(index)) =
            (copy.state()?, copy.collection(collection, &stamp).await?)
        else {
            return Err(Error::SharedCollection(format!(
                "the store of shared collection '{collection}' could not be used ({reason}), and \
                 its offline copy has not been made yet"
            )));
        };
        tracing::warn!(
            collection,
            reason,
            age_secs = state.age().as_secs(),
            "answering from the offline copy"
        );
        let hits = query.run(&index, params).await?;
        Ok((
            hits,
            Some(FromOfflineCopy {
                collection: collection.to_string(),
                synced_at_ms: state.synced_at_ms,
                age_secs: state.age().as_secs(),
                reason,
            }),
        ))
    }

    /// Starts a catch-up in the background when the copy is older than [`REFRESH_AFTER`] and
    /// none is running; its failure is logged, never a search's error.
    fn refresh_offline_copy(&self, collection: &str) {
        let Ok(copy) = self.offline_copy_at(collection) else {
            return;
        };
        if copy
            .state()
            .ok()
            .flatten()
            .is_some_and(|state| state.age() < REFRESH_AFTER)
        {
            return;
        }
        let access = match self.shared_access(collection) {
            Ok(access) => access,
            Err(e) => {
                tracing::warn!(collection, error = %e, "the offline copy cannot catch up");
                return;
            }
        };
        if !self.catching_up.start(collection) {
            return;
        }
        let catching_up = self.catching_up.clone();
        let collection = collection.to_string();
        tokio::spawn(async move {
            let (store, credentials) = access;
            match copy.catch_up(&store, &credentials, &collection).await {
                Ok(done) => tracing::info!(
                    collection,
                    fetched = done.fetched,
                    removed = done.removed,
                    "the offline copy caught up"
                ),
                Err(e) => {
                    tracing::warn!(collection, error = %e, "the offline copy could not catch up")
                }
            }
            catching_up.finish(&collection);
        });
    }
}
