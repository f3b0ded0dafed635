//! Hybrid retrieval over a collection: embed the query, search dense and BM25, fuse, rerank.

use std::collections::HashSet;

use cairn_index::{Hit, SearchParams};
use cairn_models::Embedder;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::library::{DEFAULT_COLLECTION, Library};

/// Which retrieval to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Dense and BM25, fused, then reranked if a reranker is configured.
    #[default]
    Hybrid,
    /// Vector similarity only.
    Dense,
    /// BM25 only.
    Bm25,
}

/// A search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The query text.
    pub query: String,
    /// The collection to search.
    pub collection: String,
    /// Results wanted; `None` takes the configured default.
    pub k: Option<usize>,
    /// Retrieval mode.
    pub mode: SearchMode,
    /// Override the configured reranking: `Some(false)` skips it.
    pub rerank: Option<bool>,
}

impl SearchRequest {
    /// A hybrid search of the default collection.
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            collection: DEFAULT_COLLECTION.into(),
            k: None,
            mode: SearchMode::Hybrid,
            rerank: None,
        }
    }
}

impl Library {
    /// Runs a search. Passages with identical text (the same file in two places) appear once.
    /// Results are cached by normalised query, collection and the collection's version, which
    /// every change to its documents bumps (in any process): a cached result is never served after
    /// the index changed.
    pub async fn search(&self, request: &SearchRequest) -> Result<Vec<Hit>> {
        self.searches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some((version, created)) = self.store.collection_version(&request.collection)? else {
            return Err(Error::NoSuchCollection(request.collection.clone()));
        };
        let key = CacheKey {
            query: normalise(&request.query),
            collection: request.collection.clone(),
            version: (version, created),
            k: request.k,
            mode: request.mode,
            rerank: request.rerank,
        };
        if let Some(hits) = self.retrieval_cache.get(&key) {
            return Ok(hits);
        }
        let hits = self.retrieve(request).await?;
        self.retrieval_cache.put(key, hits.clone());
        Ok(hits)
    }

    async fn retrieve(&self, request: &SearchRequest) -> Result<Vec<Hit>> {
        let index = self.collection_index(&request.collection, false).await?;
        let k = request.k.unwrap_or(self.config.search.k).max(1);
        let reranker = match (request.mode, request.rerank) {
            (SearchMode::Hybrid, None | Some(true)) if self.config.search.rerank_depth > 0 => {
                self.reranker()?
            }
            _ => None,
        };
        // Ask for spare candidates: duplicates are dropped, and the reranker needs its depth.
        let depth = if reranker.is_some() {
            self.config.search.rerank_depth.max(k)
        } else {
            k
        };
        let params = SearchParams {
            k: depth + depth / 2 + 2,
            ..self.config.search.params()
        };
        let hits = match request.mode {
            SearchMode::Bm25 => index.bm25(&request.query, params.k).await?,
            mode => {
                let embedder = self.embedder()?;
                let query = request.query.clone();
                let vector = tokio::task::spawn_blocking(move || embedder.embed(&[query.as_str()]))
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))??
                    .remove(0);
                match mode {
                    SearchMode::Dense => index.dense(&vector, params.k, &params).await?,
                    _ => index.hybrid(&request.query, &vector, &params).await?,
                }
            }
        };
        let mut hits = dedup(hits);
        hits.truncate(depth);
        if let Some(reranker) = reranker {
            let query = request.query.clone();
            let texts: Vec<String> = hits.iter().map(|h| h.passage.text.clone()).collect();
            let scores = tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                reranker.score(&query, &refs)
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
            for (hit, score) in hits.iter_mut().zip(scores) {
                hit.fused_score = hit.fused_score.or(Some(hit.score));
                hit.rerank_score = Some(score);
                hit.score = score;
            }
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        }
        hits.truncate(k);
        Ok(hits)
    }
}

/// What a cached retrieval is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    query: String,
    collection: String,
    version: (i64, i64),
    k: Option<usize>,
    mode: SearchMode,
    rerank: Option<bool>,
}

/// `What is X?` and `  what is   x ` are one query: lower case, single spaces, no closing
/// punctuation.
fn normalise(query: &str) -> String {
    query
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_end_matches(['?', '!', '.', ' '])
        .to_string()
}

/// A use clock, and each entry with the tick it was last used.
type Entries = (u64, std::collections::HashMap<CacheKey, (u64, Vec<Hit>)>);

/// Recent retrievals, least recently used dropped first, at most `capacity`.
#[derive(Debug)]
pub(crate) struct RetrievalCache {
    capacity: usize,
    entries: std::sync::Mutex<Entries>,
    hits: std::sync::atomic::AtomicU64,
}

impl RetrievalCache {
    pub(crate) fn new(capacity: usize) -> Self {
        RetrievalCache {
            capacity,
            entries: Default::default(),
            hits: Default::default(),
        }
    }

    fn get(&self, key: &CacheKey) -> Option<Vec<Hit>> {
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, map) = &mut *guard;
        *clock += 1;
        let (used, hits) = map.get_mut(key)?;
        *used = *clock;
        self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(hits.clone())
    }

    fn put(&self, key: CacheKey, hits: Vec<Hit>) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, map) = &mut *guard;
        *clock += 1;
        if map.len() >= self.capacity && !map.contains_key(&key) {
            // Entries of an older version of a collection are never used again: they go first.
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(k, (used, _))| (k.version == key.version, *used))
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(key, (*clock, hits));
    }

    /// Searches answered from the cache since the library opened.
    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn dedup(hits: Vec<Hit>) -> Vec<Hit> {
    let mut seen = HashSet::new();
    hits.into_iter()
        .filter(|h| seen.insert(h.passage.text.trim().to_string()))
        .collect()
}
