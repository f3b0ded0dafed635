//! Shared collections: a collection whose index lives in an S3-compatible object store, which
//! many libraries (a team's machines) add to and search at once.
//!
//! What is shared is the index only: passages, vectors and the name of the document each came
//! from. Each library keeps its own records of the documents *it* added (the ingest journal), and
//! its conversations, traces and answer cache stay in its own `cairn.sqlite`. Access keys are in
//! the OS keychain, one entry per collection and library, never in `config.toml` or the store.
//!
//! Invariants: a document of a shared collection has an id drawn at random from 62 bits (see
//! `Store::ensure_document`), so two libraries never write rows under one id; a library only ever
//! deletes rows under ids of its own records, and never drops a shared table: deleting a shared
//! collection forgets it here and leaves it to the others.

use std::collections::HashSet;

use cairn_index::{ChunkRow, Index, ObjectStore, StoreCredentials};
use cairn_providers::{ApiKey, Keychain};
use cairn_store::{CollectionRecord, SharedLocation};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::library::Library;

/// How the egress audit log names a shared collection's store: this, then its URI.
pub const SHARED_AUDIT_PREFIX: &str = "shared-collection:";

/// Where to find a shared collection and the key to reach it.
#[derive(Clone)]
pub struct ShareSpec {
    /// `s3://bucket/prefix`: the folder that holds the team's shared collections.
    pub uri: String,
    /// The S3 endpoint of a store that is not Amazon's (MinIO, Ceph, R2, a NAS): `https://`, or
    /// `http://` on loopback only.
    pub endpoint: Option<String>,
    /// The region, where the store needs one.
    pub region: Option<String>,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for ShareSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareSpec")
            .field("uri", &self.uri)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// What [`Library::create_shared_collection`] found at the location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedJoin {
    /// The collection already had passages (another library made it): this one joined it.
    pub joined: bool,
    /// Passages it holds now.
    pub passages: usize,
}

/// A document of a shared collection, whoever added it, as its table in the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedDocument {
    /// Its id.
    pub doc_id: i64,
    /// The path it was added from, on the computer that added it.
    pub path: String,
    /// Its passages.
    pub passages: usize,
    /// Added by this library: only these can be removed from here.
    pub mine: bool,
}

/// The credentials as the keychain keeps them: one JSON entry per collection.
#[derive(Serialize, Deserialize)]
struct StoredKey {
    access_key_id: String,
    secret_access_key: String,
}

/// The keychain account of a shared collection's key: per library, so that leaving a shared
/// collection in one library keeps the key of another on the same computer.
fn keychain_account(library: &std::path::Path, collection: &str) -> String {
    format!("shared-collection:{collection}:{}", library.display())
}

fn keychain_error(collection: &str, e: impl std::fmt::Display) -> Error {
    Error::SharedCollection(format!(
        "the keychain could not be used for shared collection '{collection}': {e}"
    ))
}

impl Library {
    /// The index that holds `collection`'s table: this library's own, or the shared store's.
    pub(crate) async fn index_of(&self, collection: &str) -> Result<Index> {
        match self.store.collection(collection)? {
            Some(CollectionRecord {
                shared: Some(_), ..
            }) => self.shared_index(collection).await,
            _ => Ok(self.index.clone()),
        }
    }

    /// Whether `collection` is a shared one.
    pub fn is_shared(&self, collection: &str) -> Result<bool> {
        Ok(self
            .store
            .collection(collection)?
            .is_some_and(|c| c.shared.is_some()))
    }

    async fn shared_index(&self, collection: &str) -> Result<Index> {
        if let Some(index) = self.shared_indexes.get(collection) {
            return Ok(index);
        }
        let (store, credentials) = self.shared_access(collection)?;
        let index = Index::open_shared(&store, &credentials).await?;
        self.shared_indexes.insert(collection, index.clone());
        Ok(index)
    }

    /// Where a shared collection lives and the key to reach it, from this library's records and
    /// the OS keychain.
    pub(crate) fn shared_access(
        &self,
        collection: &str,
    ) -> Result<(ObjectStore, StoreCredentials)> {
        let Some(CollectionRecord {
            shared: Some(location),
            ..
        }) = self.store.collection(collection)?
        else {
            return Err(Error::SharedCollection(format!(
                "collection '{collection}' is not a shared collection"
            )));
        };
        let key = self
            .keychain()
            .get(&keychain_account(&self.data_dir, collection))
            .map_err(|e| keychain_error(collection, e))?
            .ok_or_else(|| {
                Error::SharedCollection(format!(
                    "the access key of shared collection '{collection}' is not in this \
                     computer's keychain; delete the collection here and share it again \
                     (`cairn share-collection {collection} --at {}`)",
                    location.uri
                ))
            })?;
        let stored: StoredKey = serde_json::from_str(key.expose())?;
        let store = ObjectStore::new(
            &location.uri,
            location.endpoint.as_deref(),
            location.region.as_deref(),
        )?;
        let credentials = StoreCredentials {
            access_key_id: stored.access_key_id,
            secret_access_key: stored.secret_access_key,
            session_token: None,
        };
        Ok((store, credentials))
    }

    fn keychain(&self) -> Keychain {
        Keychain::default()
    }

    /// Makes `collection` a shared collection kept at `spec.uri`, or joins it there when another
    /// library already made it: its key goes to the OS keychain, its location to this library's
    /// records. A collection of that name must not exist here yet, and the shared one, if it has
    /// passages, must have been built with this library's embedding model.
    pub async fn create_shared_collection(
        &self,
        collection: &str,
        spec: &ShareSpec,
    ) -> Result<SharedJoin> {
        cairn_index::check_collection_name(collection)?;
        let store = ObjectStore::new(&spec.uri, spec.endpoint.as_deref(), spec.region.as_deref())?;
        let _lock = self
            .write_lock(&format!("sharing collection '{collection}'"))
            .await?;
        if self.store.collection(collection)?.is_some() {
            return Err(Error::InvalidInput(format!(
                "there is already a collection named '{collection}' in this library; a shared \
                 collection needs a name of its own here"
            )));
        }
        let credentials = StoreCredentials {
            access_key_id: spec.access_key_id.trim().to_string(),
            secret_access_key: spec.secret_access_key.trim().to_string(),
            session_token: None,
        };
        if credentials.access_key_id.is_empty() || credentials.secret_access_key.is_empty() {
            return Err(Error::InvalidInput(
                "a shared collection needs an access key id and a secret access key".into(),
            ));
        }
        // Reach the store before anything is recorded: a wrong key or endpoint fails here.
        let index = Index::open_shared(&store, &credentials).await?;
        let stamp = self.stamp()?;
        let existing = index.stamp(collection).await?;
        let table = index.collection(collection, &stamp).await?;
        let passages = table.count(None).await?;

        let key = serde_json::to_string(&StoredKey {
            access_key_id: credentials.access_key_id.clone(),
            secret_access_key: credentials.secret_access_key.clone(),
        })?;
        let key = ApiKey::new(&key).ok_or_else(|| Error::Internal("empty key".into()))?;
        self.keychain()
            .set(&keychain_account(&self.data_dir, collection), &key)
            .map_err(|e| keychain_error(collection, e))?;
        let mut record = CollectionRecord::new(
            collection,
            &stamp.id,
            &stamp.fingerprint,
            stamp.dimension as u32,
        );
        record.shared = Some(SharedLocation {
            uri: store.uri().to_string(),
            endpoint: store.endpoint().map(str::to_string),
            region: store.region().map(str::to_string),
        });
        self.store.create_collection(&record)?;
        self.shared_indexes.insert(collection, index);
        Ok(SharedJoin {
            joined: existing.is_some(),
            passages,
        })
    }

    /// Every document in a shared collection, whoever added it, from its store; this library's
    /// own are marked `mine`.
    pub async fn shared_documents(&self, collection: &str) -> Result<Vec<SharedDocument>> {
        if !self.is_shared(collection)? {
            return Err(Error::InvalidInput(format!(
                "collection '{collection}' is not a shared collection"
            )));
        }
        let index = self.collection_index(collection, false).await?;
        let mine: HashSet<i64> = self
            .store
            .documents(Some(collection))?
            .iter()
            .map(|d| d.id)
            .collect();
        Ok(index
            .documents()
            .await?
            .into_iter()
            .map(|d| SharedDocument {
                mine: mine.contains(&d.doc_id),
                doc_id: d.doc_id,
                path: d.path,
                passages: d.passages,
            })
            .collect())
    }

    /// Writes to the egress audit log what is about to leave for a shared collection's store: the
    /// store, the collection and the characters of the passages (never their text). Passages go
    /// as they are, unredacted: a shared collection exists to share its documents. Nothing is
    /// logged for a local collection.
    pub(crate) fn audit_shared_write(&self, collection: &str, rows: &[ChunkRow]) -> Result<()> {
        let Some(location) = self.store.collection(collection)?.and_then(|c| c.shared) else {
            return Ok(());
        };
        let chars = rows
            .iter()
            .map(|r| r.passage.text.chars().count() as u64)
            .sum();
        self.store.append_audit(
            &format!("{SHARED_AUDIT_PREFIX}{}", location.uri),
            collection,
            chars,
            &Default::default(),
        )?;
        Ok(())
    }

    /// Forgets a shared collection's key and deletes its offline copy (on delete); a key or copy
    /// that is not there is no error.
    pub(crate) fn forget_shared_key(&self, collection: &str) -> Result<()> {
        self.shared_indexes.forget(collection);
        self.drop_offline_copy(collection)?;
        self.keychain()
            .remove(&keychain_account(&self.data_dir, collection))
            .map_err(|e| keychain_error(collection, e))?;
        Ok(())
    }
}
