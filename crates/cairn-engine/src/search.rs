//! Hybrid retrieval over a collection: embed the query, search dense and BM25, fuse, rerank.

use std::collections::HashSet;

use cairn_index::{Hit, SearchParams};
use cairn_models::Embedder;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::library::{DEFAULT_COLLECTION, Library};

/// Which retrieval to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
    pub async fn search(&self, request: &SearchRequest) -> Result<Vec<Hit>> {
        self.searches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.store.collection(&request.collection)?.is_none() {
            return Err(Error::NoSuchCollection(request.collection.clone()));
        }
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

fn dedup(hits: Vec<Hit>) -> Vec<Hit> {
    let mut seen = HashSet::new();
    hits.into_iter()
        .filter(|h| seen.insert(h.passage.text.trim().to_string()))
        .collect()
}
