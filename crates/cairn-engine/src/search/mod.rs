//! Hybrid retrieval over a collection: embed the query, search dense and BM25, fuse, rerank.

pub(crate) mod cache;
pub(crate) mod request;

use std::collections::HashSet;

use cairn_index::{Hit, SearchParams};
use cairn_models::Embedder;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::library::Library;
use crate::offline_copy::{FromOfflineCopy, IndexQuery};
use crate::search::cache::{CacheKey, normalise};
use crate::search::request::{SearchMode, SearchRequest};

/// A search's passages, and where they came from when not from the collection's own index.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// The passages, best first.
    pub hits: Vec<Hit>,
    /// Set when a shared collection's store could not be used and its offline copy answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_copy: Option<FromOfflineCopy>,
}

impl Library {
    /// Runs a search: [`Library::search_with_source`]'s passages.
    pub async fn search(&self, request: &SearchRequest) -> Result<Vec<Hit>> {
        Ok(self.search_with_source(request).await?.hits)
    }

    /// Runs a search. Passages with identical text (the same file in two places) appear once.
    /// Results are cached by normalised query, collection and the collection's version, which
    /// every change to its documents bumps (in any process): a cached result is never served after
    /// the index changed. A shared collection's results are not cached: other libraries change it
    /// without bumping this one's version.
    ///
    /// A shared collection with an offline copy is searched in its copy when its store cannot be
    /// used; the results say so, and how old the copy is.
    pub async fn search_with_source(&self, request: &SearchRequest) -> Result<SearchResults> {
        self.searches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some((version, created)) = self.store.collection_version(&request.collection)? else {
            return Err(Error::NoSuchCollection(request.collection.clone()));
        };
        if self.is_shared(&request.collection)? {
            return self.retrieve(request).await;
        }
        let key = CacheKey {
            query: normalise(&request.query),
            collection: request.collection.clone(),
            version: (version, created),
            k: request.k,
            mode: request.mode,
            rerank: request.rerank,
        };
        if let Some(hits) = self.retrieval_cache.get(&key) {
            return Ok(SearchResults {
                hits,
                offline_copy: None,
            });
        }
        let results = self.retrieve(request).await?;
        self.retrieval_cache.put(key, results.hits.clone());
        Ok(results)
    }

    async fn retrieve(&self, request: &SearchRequest) -> Result<SearchResults> {
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
        let vector = match request.mode {
            SearchMode::Bm25 => None,
            _ => {
                let embedder = self.embedder()?;
                let query = request.query.clone();
                let vector = tokio::task::spawn_blocking(move || embedder.embed(&[query.as_str()]))
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))??
                    .remove(0);
                Some(vector)
            }
        };
        let query = match (request.mode, vector.as_deref()) {
            (SearchMode::Dense, Some(vector)) => IndexQuery::Dense(vector),
            (SearchMode::Hybrid, Some(vector)) => IndexQuery::Hybrid(&request.query, vector),
            _ => IndexQuery::Bm25(&request.query),
        };
        let (hits, offline_copy) = self
            .query_collection(&request.collection, &query, &params)
            .await?;
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
        Ok(SearchResults { hits, offline_copy })
    }
}

fn dedup(hits: Vec<Hit>) -> Vec<Hit> {
    let mut seen = HashSet::new();
    hits.into_iter()
        .filter(|h| seen.insert(h.passage.text.trim().to_string()))
        .collect()
}
