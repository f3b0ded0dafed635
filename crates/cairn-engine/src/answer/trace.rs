//! One trace per question: how its answer was made, or how it failed, collected while it is
//! answered ([`Draft`]) and written once, whatever path the question took.

use std::time::Instant;

use cairn_index::Hit;
use serde::Serialize;

use crate::answer::value::{Answer, AskRequest};
use crate::cache::CacheTrace;
use crate::config::CacheConfig;
use crate::error::Result;
use crate::library::Library;
use crate::router::RouteDecision;

/// What a trace collects while a question is answered.
#[derive(Debug)]
pub(crate) struct Draft {
    pub(crate) thread_id: Option<i64>,
    pub(crate) route: Option<RouteDecision>,
    pub(crate) candidates: Vec<CandidateTrace>,
    pub(crate) cache: CacheTrace,
    /// Set when the cache missed a question it could keep the answer to.
    pub(crate) cache_key: Option<CacheKey>,
}

impl Draft {
    /// A draft before anything happened: the cache's lookup not yet made (or off).
    pub(crate) fn new(config: &CacheConfig) -> Draft {
        Draft {
            thread_id: None,
            route: None,
            candidates: Vec::new(),
            cache: if config.enabled {
                CacheTrace::skipped("skipped", "the question was not answered", config.threshold)
            } else {
                CacheTrace::skipped("off", "cache.enabled is false", config.threshold)
            },
            cache_key: None,
        }
    }
}

/// What an answer is kept under in the cache.
#[derive(Debug)]
pub(crate) struct CacheKey {
    pub(crate) question: String,
    pub(crate) embedder_id: String,
    pub(crate) vector: Vec<f32>,
}

/// One question's trace: how its answer was made, or how it failed. Recorded once, by
/// [`Library::ask`], whatever path the question took.
#[derive(Debug, Clone, Serialize)]
pub struct Trace<'a> {
    /// The question as asked.
    pub question: String,
    /// The collection.
    pub collection: String,
    /// `answered` or `failed`.
    pub outcome: &'static str,
    /// Asked in a thread that already had questions.
    pub follow_up: bool,
    /// Why it failed.
    pub error: Option<TraceError>,
    /// The route and its reason.
    pub route: Option<RouteDecision>,
    /// The answer cache's lookup, and whether this answer was kept.
    pub cache: CacheTrace,
    /// Every retrieval candidate, best first, with each of its scores.
    pub candidates: Vec<CandidateTrace>,
    /// The answer: model route, guard results, passages used with their tokens, prompt version,
    /// provider and model, tokens, cost, timings, fallbacks, the final text.
    pub answer: Option<&'a Answer>,
}

/// A failure, in a trace.
#[derive(Debug, Clone, Serialize)]
pub struct TraceError {
    /// Stable code.
    pub code: String,
    /// What happened.
    pub message: String,
}

/// A retrieval candidate, in a trace.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateTrace {
    /// The chunk.
    pub chunk_id: String,
    /// Its document.
    pub doc_path: String,
    /// Its page.
    pub page: Option<u32>,
    /// Cosine similarity to the question.
    pub dense: Option<f32>,
    /// BM25 score.
    pub bm25: Option<f32>,
    /// The fused score.
    pub fused: Option<f32>,
    /// The reranker's score.
    pub rerank: Option<f32>,
}

impl From<&Hit> for CandidateTrace {
    fn from(h: &Hit) -> Self {
        CandidateTrace {
            chunk_id: h.passage.chunk_id.clone(),
            doc_path: h.passage.doc_path.clone(),
            page: h.passage.page,
            dense: h.dense_score,
            bm25: h.bm25_score,
            fused: h.fused_score,
            rerank: h.rerank_score,
        }
    }
}

impl Library {
    /// Writes the question's one trace; a trace that cannot be written is logged, never a failed
    /// answer.
    pub(crate) fn record_trace(
        &self,
        request: &AskRequest,
        draft: &Draft,
        result: &Result<Answer>,
        started: Instant,
    ) -> Option<i64> {
        let (answer, error) = match result {
            Ok(answer) => (Some(answer), None),
            Err(e) => (
                None,
                Some(TraceError {
                    code: e.code().into(),
                    message: e.to_string(),
                }),
            ),
        };
        let trace = Trace {
            question: request.question.clone(),
            collection: request.collection.clone(),
            outcome: if answer.is_some() {
                "answered"
            } else {
                "failed"
            },
            follow_up: request.thread.is_some(),
            error,
            route: draft.route.clone(),
            cache: draft.cache.clone(),
            candidates: draft.candidates.clone(),
            answer,
        };
        let data = match serde_json::to_string(&trace) {
            Ok(data) => data,
            Err(e) => {
                tracing::warn!("a trace could not be written: {e}");
                return None;
            }
        };
        let summary = cairn_store::TraceSummary {
            id: 0,
            created_at: 0,
            thread_id: answer.map(|a| a.thread_id).or(draft.thread_id),
            question: request.question.clone(),
            outcome: trace.outcome.into(),
            route: answer
                .map(|a| a.route)
                .or(draft.route.as_ref().map(|r| r.route))
                .map(|r| r.label().to_string()),
            tier: answer.map(|a| a.tier),
            provider: answer.map(|a| a.provenance.clone()),
            model: answer.map(|a| a.model.clone()),
            tokens_in: answer.map_or(0, |a| a.tokens_in as i64),
            tokens_out: answer.map_or(0, |a| a.tokens_out as i64),
            cost: answer.map_or(0.0, |a| a.cost),
            total_ms: started.elapsed().as_secs_f64() * 1e3,
        };
        match self
            .store
            .record_trace(&cairn_store::NewTrace { summary, data })
        {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!("a trace could not be written: {e}");
                None
            }
        }
    }
}
