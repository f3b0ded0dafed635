//! Answers from the answer cache: an earlier answer served again while it still holds, and a new
//! answer kept when it may be. The matching itself (similarity and the word check) is
//! `crate::cache`'s.

use cairn_store::{DocState, Provenance, Tier};
use sha2::{Digest, Sha256};

use crate::answer::citation::Citation;
use crate::answer::events::Events;
use crate::answer::fixed::fixed;
use crate::answer::trace::{CacheKey, Draft};
use crate::answer::turn::Facts;
use crate::answer::value::{Answer, CacheHit, CachedAnswer, CachedSource};
use crate::cache::{CacheTrace, normalise};
use crate::error::Result;
use crate::library::Library;
use crate::prompts;
use crate::router::{Route, RouteDecision};

/// A question the cache is asked about.
pub(crate) struct Lookup<'a> {
    pub(crate) collection: &'a str,
    pub(crate) question: &'a str,
    pub(crate) embedder_id: &'a str,
    /// The question's embedding; `None` looks for the same words only.
    pub(crate) vector: Option<&'a [f32]>,
    pub(crate) thread_id: i64,
    pub(crate) input_check: &'a cairn_guard::InjectionReport,
}

impl Library {
    /// Serves an earlier answer when the cache holds one for this question (or one close enough
    /// in meaning) whose sources are unchanged and whose prompt version is still in use; an entry
    /// that fails either check is removed, and the trace says why.
    pub(crate) fn cached_answer(
        &self,
        lookup: &Lookup<'_>,
        draft: &mut Draft,
        events: &Events,
    ) -> Result<Option<Answer>> {
        let found = self.answer_cache.lookup(
            &self.store,
            &self.config.cache,
            lookup.collection,
            lookup.embedder_id,
            lookup.question,
            lookup.vector,
        )?;
        let trace = &mut draft.cache;
        trace.lookup = "miss";
        trace.nearest = found.nearest.as_ref().map(|n| n.question.clone());
        trace.similarity = found.nearest.as_ref().map(|n| n.similarity);
        let missed = found
            .refused
            .clone()
            .unwrap_or_else(|| "no earlier question in this collection".into());
        // An entry removed by the exact-words lookup stays the first reason.
        trace.reason = Some(match trace.reason.take() {
            Some(earlier) if !trace.invalidated.is_empty() => format!("{earlier}; then {missed}"),
            _ => missed,
        });
        let Some(candidate) = found.candidate else {
            return Ok(None);
        };
        let drop_entry = |trace: &mut CacheTrace, reason: String| -> Result<Option<Answer>> {
            self.store.cache_remove(&[candidate.id])?;
            self.answer_cache.forget(&[candidate.id]);
            trace.invalidated.push(candidate.id);
            trace.reason = Some(reason);
            Ok(None)
        };
        let Some(value) = self.store.cache_take(candidate.id)? else {
            return drop_entry(trace, "the nearest entry was evicted".into());
        };
        let (cached, sources) = match (
            serde_json::from_str::<CachedAnswer>(&value.answer),
            serde_json::from_str::<Vec<CachedSource>>(&value.sources),
        ) {
            (Ok(cached), Ok(sources)) => (cached, sources),
            (Err(e), _) | (_, Err(e)) => {
                return drop_entry(trace, format!("the nearest entry could not be read: {e}"));
            }
        };
        // Made with another version of its prompt (switched, or rolled back since): not served.
        let prompt = self.template(if cached.route == Route::Analytical {
            prompts::ANALYTICAL
        } else {
            prompts::GROUNDED
        });
        if cached.prompt_version != prompt.id() {
            return drop_entry(
                trace,
                format!(
                    "the earlier answer was made with {}, and {} is in use now",
                    cached.prompt_version,
                    prompt.id()
                ),
            );
        }
        for source in &sources {
            let now = self
                .store
                .document(lookup.collection, &source.doc_path)?
                .filter(|d| d.state == DocState::Indexed)
                .and_then(|d| d.content_hash);
            if now.is_none() || now != source.content_hash {
                return drop_entry(
                    trace,
                    format!(
                        "a source of the earlier answer changed since: {}",
                        source.doc_path
                    ),
                );
            }
        }
        trace.lookup = "hit";
        trace.reason = None;
        trace.entry = Some(candidate.id);
        trace.similarity = Some(candidate.similarity);
        trace.nearest = Some(candidate.question.clone());
        let decision = RouteDecision {
            route: cached.route,
            confidence: 1.0,
            reason: if candidate.similarity >= 1.0 {
                format!("asked before as \"{}\"", candidate.question)
            } else {
                format!(
                    "a question {:.3} similar was asked before: \"{}\"",
                    candidate.similarity, candidate.question
                )
            },
        };
        let citations: Vec<Citation> = cached.citations.into_iter().map(Citation::from).collect();
        events.route(&decision);
        events.sources(&citations);
        events.text(cached.answer.clone());
        draft.route = Some(decision.clone());
        let facts = Facts {
            thread_id: lookup.thread_id,
            decision,
            input_check: lookup.input_check.clone(),
            model_route: None,
        };
        Ok(Some(Answer {
            answer: cached.answer,
            passages_used: citations.len(),
            citations,
            tier: cached.tier,
            prompt_version: cached.prompt_version,
            model: cached.model.clone(),
            provenance: Provenance::Cache,
            cache: Some(CacheHit {
                entry: candidate.id,
                question: candidate.question,
                similarity: candidate.similarity,
                trace_id: value.trace_id,
                made_by: format!("{} {}", cached.provider, cached.model),
                made_at: value.created_at,
            }),
            ..fixed(&facts, self.template(prompts::NOT_FOUND), "", Vec::new())
        }))
    }

    /// The documents `citations` come from, with their content hashes as they are now.
    pub(crate) fn sources_of(
        &self,
        collection: &str,
        citations: &[Citation],
    ) -> Result<Vec<CachedSource>> {
        let mut sources: Vec<CachedSource> = Vec::new();
        for c in citations {
            if sources.iter().any(|s| s.chunk_id == c.chunk_id) {
                continue;
            }
            let content_hash = self
                .store
                .document(collection, &c.doc_path)?
                .and_then(|d| d.content_hash);
            sources.push(CachedSource {
                doc_path: c.doc_path.clone(),
                content_hash,
                chunk_id: c.chunk_id.clone(),
                chunk_hash: format!("sha256:{:x}", Sha256::digest(c.text.as_bytes())),
            });
        }
        Ok(sources)
    }

    /// Keeps `answer` under `key` when it may be kept, and says in the trace what became of it.
    pub(crate) fn keep_in_cache(
        &self,
        collection: &str,
        key: &CacheKey,
        answer: &Answer,
        trace: &mut CacheTrace,
    ) {
        trace.store = Some(match cache_refusal(answer) {
            Some(why) => why.into(),
            None => match self.keep_answer(collection, key, answer) {
                Ok((Some(id), evicted)) => {
                    trace.entry_stored = Some(id);
                    trace.evicted = evicted;
                    "stored".into()
                }
                Ok((None, _)) => "larger than cache.max_bytes".into(),
                Err(e) => {
                    tracing::warn!("an answer could not be cached: {e}");
                    format!("could not be stored: {e}")
                }
            },
        });
    }

    /// Keeps an answer in the cache with its sources as they are now; returns the entry (none when
    /// it is larger than the whole cache) and how many entries were evicted for it.
    fn keep_answer(
        &self,
        collection: &str,
        key: &CacheKey,
        answer: &Answer,
    ) -> Result<(Option<i64>, usize)> {
        let sources = self.sources_of(collection, &answer.citations)?;
        let entry = cairn_store::NewCacheEntry {
            collection: collection.into(),
            question: key.question.clone(),
            normalised: normalise(&key.question),
            embedder_id: key.embedder_id.clone(),
            vector: key.vector.clone(),
            answer: serde_json::to_string(&answer.kept())?,
            sources: serde_json::to_string(&sources)?,
            trace_id: None,
        };
        let (id, evicted) = self
            .store
            .cache_insert(&entry, self.config.cache.max_bytes)?;
        self.answer_cache.forget(&evicted);
        Ok((id, evicted.len()))
    }
}

/// Why an answer must not be kept in the cache; `None` when it may. Only a grounded, cited,
/// complete answer by the routed model to a question about the library is kept.
fn cache_refusal(answer: &Answer) -> Option<&'static str> {
    let checked = answer
        .output_check
        .as_ref()
        .is_some_and(|c| c.grounded && c.policy_hits.is_empty());
    if answer.cache.is_some() {
        Some("served from the cache")
    } else if answer.review.is_some() {
        Some("waiting for review")
    } else if !matches!(answer.route, Route::Factual | Route::Analytical) {
        Some("not a question about the library")
    } else if answer.tier != Tier::Primary {
        Some("not written by the routed model")
    } else if answer.truncated {
        Some("cut short")
    } else if answer.citations.is_empty() {
        Some("cites no passage")
    } else if !checked {
        Some("did not pass the output checks")
    } else {
        None
    }
}
