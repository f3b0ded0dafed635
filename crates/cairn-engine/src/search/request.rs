//! What a search asks for.

use serde::{Deserialize, Serialize};

use crate::config::DEFAULT_COLLECTION;

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
