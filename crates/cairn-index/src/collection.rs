//! The LanceDB database, its per-collection tables, and queries on them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::TryStreamExt;
use lancedb::database::CreateTableMode;
use lancedb::index::scalar::{FtsIndexBuilder, FullTextSearchQuery};
use lancedb::index::vector::IvfHnswSqIndexBuilder;
use lancedb::index::{Index as LanceIndex, IndexType};
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::table::OptimizeAction;
use lancedb::{Connection, DistanceType, Table};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fusion::fuse;
use crate::schema::{
    self, ChunkRow, DISTANCE, Hit, META_COLUMNS, Passage, RawHit, SCORE, SearchParams, TEXT, VECTOR,
};
use crate::shared::{ObjectStore, StoreCredentials};

/// The embedding model a collection's vectors come from, recorded in the table's schema metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderStamp {
    /// Model name.
    pub id: String,
    /// Hash of the model files.
    pub fingerprint: String,
    /// Vector dimension.
    pub dimension: usize,
}

impl EmbedderStamp {
    fn describe(&self) -> String {
        format!(
            "{} ({}, {} dimensions)",
            self.id, self.fingerprint, self.dimension
        )
    }

    fn metadata(&self) -> HashMap<String, String> {
        HashMap::from([
            (META_MODEL.to_string(), self.id.clone()),
            (META_FINGERPRINT.to_string(), self.fingerprint.clone()),
            (META_DIMENSION.to_string(), self.dimension.to_string()),
        ])
    }

    fn from_metadata(metadata: &HashMap<String, String>) -> Option<EmbedderStamp> {
        Some(EmbedderStamp {
            id: metadata.get(META_MODEL)?.clone(),
            fingerprint: metadata.get(META_FINGERPRINT)?.clone(),
            dimension: metadata.get(META_DIMENSION)?.parse().ok()?,
        })
    }
}

const META_MODEL: &str = "cairn.embedder.id";
const META_FINGERPRINT: &str = "cairn.embedder.fingerprint";
const META_DIMENSION: &str = "cairn.embedder.dimension";

/// A document as its collection's table knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDocument {
    /// Its id (drawn by the library that added it).
    pub doc_id: i64,
    /// The path it was added from, on the computer that added it.
    pub path: String,
    /// Its passages in the table.
    pub passages: usize,
}

/// When the index builds its secondary structures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IndexSettings {
    /// Below this many rows, vector search scans exactly (fast enough, and perfect recall); at or
    /// above it, an IVF-HNSW-SQ index is built.
    pub vector_index_min_rows: usize,
    /// Rows per IVF partition when the vector index is built.
    pub rows_per_partition: usize,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            vector_index_min_rows: 50_000,
            rows_per_partition: 100_000,
        }
    }
}

/// The LanceDB database directory.
#[derive(Clone)]
pub struct Index {
    db: Connection,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("uri", &self.db.uri())
            .finish()
    }
}

/// Refuses a collection name the index cannot hold: 1 to 64 letters, digits, `-` and `_`.
pub fn check_collection_name(collection: &str) -> Result<()> {
    table_name(collection).map(drop)
}

pub(crate) fn table_name(collection: &str) -> Result<String> {
    let valid = !collection.is_empty()
        && collection.len() <= 64
        && collection
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(format!("chunks_{collection}"))
    } else {
        Err(Error::InvalidName(collection.to_string()))
    }
}

impl Index {
    /// Opens (creating if needed) the database in `dir`.
    pub async fn open(dir: &Path) -> Result<Index> {
        let uri = dir
            .to_str()
            .ok_or_else(|| Error::Schema(format!("{} is not valid UTF-8", dir.display())))?;
        Ok(Index {
            db: lancedb::connect(uri).execute().await?,
        })
    }

    /// Opens (creating if needed) the database in an object store: the tables of a shared
    /// collection. Every commit there is a conditional put, so writers on many machines add to it
    /// at once without losing or doubling a row; a reader looks for a newer version at most
    /// [`ObjectStore::fresh_within`] after the one it has.
    pub async fn open_shared(store: &ObjectStore, credentials: &StoreCredentials) -> Result<Index> {
        Ok(Index {
            db: lancedb::connect(store.uri())
                .storage_options(store.storage_options(credentials))
                .read_consistency_interval(store.read_consistency())
                .execute()
                .await?,
        })
    }

    /// Where the database is: a directory, or an object-store URI.
    pub fn uri(&self) -> &str {
        self.db.uri()
    }

    /// Opens the collection's table, creating it for `stamp` if it does not exist. A table built with
    /// another model is refused with [`Error::ModelMismatch`].
    pub async fn collection(
        &self,
        collection: &str,
        stamp: &EmbedderStamp,
    ) -> Result<CollectionIndex> {
        let name = table_name(collection)?;
        let table = match self.db.open_table(&name).execute().await {
            Ok(table) => table,
            Err(lancedb::Error::TableNotFound { .. }) => {
                let schema = schema::schema(stamp.dimension, stamp.metadata());
                self.db
                    .create_empty_table(&name, schema)
                    .mode(CreateTableMode::exist_ok(|r| r))
                    .execute()
                    .await?
            }
            Err(e) => return Err(e.into()),
        };
        let schema = table.schema().await?;
        match EmbedderStamp::from_metadata(schema.metadata()) {
            Some(found) if found == *stamp => {}
            found => {
                return Err(Error::ModelMismatch {
                    collection: collection.to_string(),
                    indexed: found.map_or_else(|| "an unknown model".to_string(), |f| f.describe()),
                    requested: stamp.describe(),
                });
            }
        }
        Ok(CollectionIndex {
            collection: collection.to_string(),
            table,
            schema,
            dimension: stamp.dimension,
            has_fts: Arc::new(AtomicBool::new(false)),
            read_only: false,
        })
    }

    /// The model a collection's table was built with, without opening it for use.
    pub async fn stamp(&self, collection: &str) -> Result<Option<EmbedderStamp>> {
        match self.db.open_table(table_name(collection)?).execute().await {
            Ok(table) => Ok(EmbedderStamp::from_metadata(
                table.schema().await?.metadata(),
            )),
            Err(lancedb::Error::TableNotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The collections that have a table, by name.
    pub async fn collections(&self) -> Result<Vec<String>> {
        Ok(self
            .db
            .table_names()
            .execute()
            .await?
            .into_iter()
            .filter_map(|t| t.strip_prefix("chunks_").map(str::to_string))
            .collect())
    }

    /// Deletes a collection's table and all its vectors.
    pub async fn drop_collection(&self, collection: &str) -> Result<()> {
        match self.db.drop_table(table_name(collection)?, &[]).await {
            Ok(()) | Err(lancedb::Error::TableNotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// One collection's table.
#[derive(Clone)]
pub struct CollectionIndex {
    collection: String,
    table: Table,
    schema: SchemaRef,
    dimension: usize,
    /// Set once the full-text index is known to exist, to skip the check on every query.
    has_fts: Arc<AtomicBool>,
    /// Refuses every write (an offline copy's table: see `offline_copy`).
    read_only: bool,
}

impl std::fmt::Debug for CollectionIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectionIndex")
            .field("collection", &self.collection)
            .finish()
    }
}

impl CollectionIndex {
    /// The collection's name.
    pub fn name(&self) -> &str {
        &self.collection
    }

    /// The same table, refusing writes from here on.
    pub(crate) fn read_only(mut self) -> CollectionIndex {
        self.read_only = true;
        self
    }

    /// Whether writes are refused (an offline copy's table).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn refuse_if_read_only(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::ReadOnly(self.collection.clone()));
        }
        Ok(())
    }

    /// Appends rows in one write (one LanceDB version). Callers batch: a write per row is slow.
    pub async fn add(&self, rows: &[ChunkRow]) -> Result<()> {
        self.refuse_if_read_only()?;
        if rows.is_empty() {
            return Ok(());
        }
        let batch = schema::to_batch(self.schema.clone(), self.dimension, rows)?;
        self.table.add(batch).execute().await?;
        Ok(())
    }

    /// Deletes every row of these documents; returns how many rows went.
    pub async fn delete_documents(&self, doc_ids: &[i64]) -> Result<u64> {
        self.refuse_if_read_only()?;
        let mut deleted = 0;
        for ids in doc_ids.chunks(1000) {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            deleted += self
                .table
                .delete(&format!("doc_id IN ({})", list.join(",")))
                .await?
                .num_deleted_rows;
        }
        Ok(deleted)
    }

    /// Rows in the table, optionally only those matching an SQL filter.
    pub async fn count(&self, filter: Option<String>) -> Result<usize> {
        Ok(self.table.count_rows(filter).await?)
    }

    /// Rows per document id.
    pub async fn rows_per_document(&self) -> Result<HashMap<i64, usize>> {
        let batches: Vec<RecordBatch> = self
            .table
            .query()
            .select(Select::columns(&["doc_id"]))
            .execute()
            .await?
            .try_collect()
            .await?;
        let mut counts = HashMap::new();
        for batch in &batches {
            let ids = batch
                .column(0)
                .as_any()
                .downcast_ref::<arrow_array::Int64Array>()
                .ok_or_else(|| Error::Schema("doc_id is not Int64".into()))?;
            for id in ids.values() {
                *counts.entry(*id).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    /// The documents the table holds, whoever added them: each one's id, the path it was added
    /// from and its passages, by path. A shared collection's per-document facts live here, beside
    /// its data, for every library that adds to it.
    pub async fn documents(&self) -> Result<Vec<TableDocument>> {
        let batches: Vec<RecordBatch> = self
            .table
            .query()
            .select(Select::columns(&["doc_id", "doc_path"]))
            .execute()
            .await?
            .try_collect()
            .await?;
        let mut documents: HashMap<i64, TableDocument> = HashMap::new();
        for batch in &batches {
            let ids = batch
                .column_by_name("doc_id")
                .and_then(|c| c.as_any().downcast_ref::<arrow_array::Int64Array>())
                .ok_or_else(|| Error::Schema("doc_id is not Int64".into()))?;
            let paths = batch
                .column_by_name("doc_path")
                .and_then(|c| c.as_any().downcast_ref::<arrow_array::StringArray>())
                .ok_or_else(|| Error::Schema("doc_path is not Utf8".into()))?;
            for (id, path) in ids.values().iter().zip(paths.iter()) {
                documents
                    .entry(*id)
                    .or_insert_with(|| TableDocument {
                        doc_id: *id,
                        path: path.unwrap_or_default().to_string(),
                        passages: 0,
                    })
                    .passages += 1;
            }
        }
        let mut documents: Vec<TableDocument> = documents.into_values().collect();
        documents.sort_by(|a, b| a.path.cmp(&b.path).then(a.doc_id.cmp(&b.doc_id)));
        Ok(documents)
    }

    /// Every passage of one document with its vector, in document order: what a question about
    /// the whole document reads.
    pub async fn document_rows(&self, doc_id: i64) -> Result<Vec<ChunkRow>> {
        let mut columns: Vec<&str> = META_COLUMNS.to_vec();
        columns.push(VECTOR);
        let batches: Vec<RecordBatch> = self
            .table
            .query()
            .only_if(format!("doc_id = {doc_id}"))
            .select(Select::columns(&columns))
            .execute()
            .await?
            .try_collect()
            .await?;
        let mut rows: Vec<ChunkRow> = schema::read_hits(&batches)?
            .into_iter()
            .map(|raw| ChunkRow {
                passage: raw.passage,
                vector: raw.vector.unwrap_or_default(),
            })
            .collect();
        rows.sort_by_key(|r| r.passage.ordinal);
        Ok(rows)
    }

    /// Brings the indices up to date: creates the full-text index if missing, builds the vector index
    /// once the table reaches `settings.vector_index_min_rows`, folds new rows into existing indices,
    /// and compacts the small fragments that batched appends leave.
    pub async fn optimize(&self, settings: &IndexSettings) -> Result<()> {
        self.refuse_if_read_only()?;
        let rows = self.table.count_rows(None).await?;
        if rows == 0 {
            return Ok(());
        }
        let indices = self.table.list_indices().await?;
        let has = |column: &str| {
            indices
                .iter()
                .any(|i| i.columns.iter().any(|c| c == column))
        };
        if !has(TEXT) {
            self.create_fts().await?;
        }
        if !has(VECTOR) && rows >= settings.vector_index_min_rows {
            let partitions = rows.div_ceil(settings.rows_per_partition.max(1)).max(1) as u32;
            let builder = IvfHnswSqIndexBuilder::default()
                .distance_type(DistanceType::Cosine)
                .num_partitions(partitions);
            self.table
                .create_index(&[VECTOR], LanceIndex::IvfHnswSq(builder))
                .execute()
                .await?;
        }
        self.table.optimize(OptimizeAction::All).await?;
        Ok(())
    }

    /// Whether a vector index exists (otherwise dense search scans every row).
    pub async fn has_vector_index(&self) -> Result<bool> {
        let indices = self.table.list_indices().await?;
        Ok(indices
            .iter()
            .any(|i| i.index_type == IndexType::IvfHnswSq || i.columns.iter().any(|c| c == VECTOR)))
    }

    async fn create_fts(&self) -> Result<()> {
        let fts = FtsIndexBuilder::default()
            .base_tokenizer("simple".to_string())
            .lower_case(true)
            .stem(true)
            .remove_stop_words(true)
            .ascii_folding(true);
        self.table
            .create_index(&[TEXT], LanceIndex::FTS(fts))
            .execute()
            .await?;
        self.has_fts.store(true, Ordering::Relaxed);
        Ok(())
    }

    async fn ensure_fts(&self) -> Result<bool> {
        if self.has_fts.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let indices = self.table.list_indices().await?;
        if indices.iter().any(|i| i.columns.iter().any(|c| c == TEXT)) {
            self.has_fts.store(true, Ordering::Relaxed);
            return Ok(true);
        }
        if self.read_only || self.table.count_rows(None).await? == 0 {
            return Ok(false);
        }
        // Rows were written but the run that wrote them stopped before indexing: index now.
        self.create_fts().await?;
        Ok(true)
    }

    /// Nearest passages by cosine similarity, best first; `score` and `dense_score` hold the similarity.
    pub async fn dense(&self, query: &[f32], k: usize, params: &SearchParams) -> Result<Vec<Hit>> {
        if query.len() != self.dimension {
            return Err(Error::Dimension {
                want: self.dimension,
                got: query.len(),
            });
        }
        let mut columns: Vec<&str> = META_COLUMNS.to_vec();
        columns.push(DISTANCE);
        let mut search = self
            .table
            .query()
            .nearest_to(query)?
            .distance_type(DistanceType::Cosine)
            .limit(k);
        search = search
            .nprobes(params.nprobes.max(1))?
            .refine_factor(params.refine_factor.max(1));
        let batches: Vec<RecordBatch> = search
            .select(Select::columns(&columns))
            .execute()
            .await?
            .try_collect()
            .await?;
        let mut hits: Vec<Hit> = schema::read_hits(&batches)?
            .into_iter()
            .map(|raw| {
                let similarity = 1.0 - raw.raw_score.unwrap_or(1.0);
                Hit::new(raw.passage, similarity, Some(similarity), None)
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(hits)
    }

    /// Passages matching the query's terms, by BM25, best first. Each carries its vector, so hybrid
    /// search can give BM25-only hits a dense score too.
    async fn bm25_raw(&self, query: &str, k: usize) -> Result<Vec<RawHit>> {
        if query.trim().is_empty() || !self.ensure_fts().await? {
            return Ok(Vec::new());
        }
        let mut columns: Vec<&str> = META_COLUMNS.to_vec();
        columns.extend([VECTOR, SCORE]);
        let fts = FullTextSearchQuery::new(query.to_string())
            .with_column(TEXT.to_string())
            .map_err(lancedb::Error::from)?;
        let batches: Vec<RecordBatch> = self
            .table
            .query()
            .full_text_search(fts)
            .select(Select::columns(&columns))
            .limit(k)
            .execute()
            .await?
            .try_collect()
            .await?;
        schema::read_hits(&batches)
    }

    /// Passages by BM25, best first; `score` and `bm25_score` hold the BM25 score.
    pub async fn bm25(&self, query: &str, k: usize) -> Result<Vec<Hit>> {
        Ok(self
            .bm25_raw(query, k)
            .await?
            .into_iter()
            .map(|raw| {
                let score = raw.raw_score.unwrap_or(0.0);
                Hit::new(raw.passage, score, None, Some(score))
            })
            .collect())
    }

    /// Dense and BM25 candidates fused by `params.fusion`; the top `params.k`, best first.
    pub async fn hybrid(
        &self,
        query: &str,
        vector: &[f32],
        params: &SearchParams,
    ) -> Result<Vec<Hit>> {
        let (dense, sparse) = futures::try_join!(
            self.dense(vector, params.candidates, params),
            self.bm25_raw(query, params.candidates)
        )?;
        let mut by_id: HashMap<String, Passage> = HashMap::new();
        let dense_list: Vec<(String, f32)> = dense
            .iter()
            .map(|h| (h.passage.chunk_id.clone(), h.dense_score.unwrap_or(0.0)))
            .collect();
        // BM25-only hits get their cosine similarity from their stored vector; they take no dense rank.
        let mut similarities = dense_list.clone();
        let mut sparse_list = Vec::with_capacity(sparse.len());
        for raw in sparse {
            let id = raw.passage.chunk_id.clone();
            if let Some(v) = raw
                .vector
                .as_ref()
                .filter(|_| !dense_list.iter().any(|(d, _)| *d == id))
            {
                similarities.push((id.clone(), dot(vector, v)));
            }
            sparse_list.push((id.clone(), raw.raw_score.unwrap_or(0.0)));
            by_id.entry(id).or_insert(raw.passage);
        }
        for hit in dense {
            by_id
                .entry(hit.passage.chunk_id.clone())
                .or_insert(hit.passage);
        }
        let fused = fuse_with_similarities(&dense_list, &similarities, &sparse_list, params);
        Ok(fused
            .into_iter()
            .take(params.k)
            .filter_map(|(id, s)| {
                by_id.remove(&id).map(|passage| Hit {
                    fused_score: Some(s.fused),
                    ..Hit::new(passage, s.fused, s.dense, s.bm25)
                })
            })
            .collect())
    }
}

/// Fuses by rank over `dense_ranked`, but reports (and, for the weighted blend, uses) the similarity
/// of every candidate, including those only BM25 found.
fn fuse_with_similarities(
    dense_ranked: &[(String, f32)],
    similarities: &[(String, f32)],
    sparse: &[(String, f32)],
    params: &SearchParams,
) -> Vec<(String, crate::fusion::FusedScore)> {
    let similarity: HashMap<&str, f32> = similarities
        .iter()
        .map(|(id, s)| (id.as_str(), *s))
        .collect();
    let mut fused = match params.fusion {
        crate::fusion::Fusion::Rrf { .. } => fuse(dense_ranked, sparse, params.fusion),
        crate::fusion::Fusion::Weighted { .. } => fuse(similarities, sparse, params.fusion),
    };
    for (id, score) in &mut fused {
        score.dense = similarity.get(id.as_str()).copied();
    }
    fused
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
