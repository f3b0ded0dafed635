//! The semantic answer cache: a question close enough in meaning to an earlier one, in the same
//! collection, whose sources are unchanged, gets the earlier answer without retrieval or a model.
//!
//! Closeness alone is not enough: "how do I enable sync" and "how do I disable sync" are nearer
//! than most true paraphrases. A candidate above the similarity threshold is therefore also read
//! word by word, and refused when the two questions differ in a number, a negation, a pair of
//! opposites, a name, the kind of thing asked for, or a single swapped word ([`conflict`]). Entries
//! live in SQLite (shared by every process on the library, bounded in bytes, least recently used
//! evicted, expired after a time to live); this module keeps their keys in memory.

mod lexicon;
mod words;

use std::sync::Mutex;

use cairn_store::{CacheKeyRow, Store};
use serde::Serialize;

pub use crate::config::CacheConfig;
use crate::error::Result;
pub use words::{conflict, normalise};

/// The cache's part of a trace: the lookup and whether the answer was kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheTrace {
    /// `off` (disabled in the config), `skipped` (not a question the cache answers), `hit` or
    /// `miss`.
    pub lookup: &'static str,
    /// Why it was skipped or missed.
    pub reason: Option<String>,
    /// The nearest earlier question.
    pub nearest: Option<String>,
    /// Its similarity.
    pub similarity: Option<f32>,
    /// The threshold in force.
    pub threshold: f32,
    /// The entry served.
    pub entry: Option<i64>,
    /// Entries removed because one of their sources changed.
    pub invalidated: Vec<i64>,
    /// `stored` (entry id in `entry_stored`), or why the answer was not kept.
    pub store: Option<String>,
    /// The entry this answer was stored as.
    pub entry_stored: Option<i64>,
    /// Entries evicted to make room for it.
    pub evicted: usize,
}

impl CacheTrace {
    /// A trace for a lookup that did not happen.
    pub fn skipped(lookup: &'static str, reason: &str, threshold: f32) -> Self {
        CacheTrace {
            lookup,
            reason: Some(reason.into()),
            nearest: None,
            similarity: None,
            threshold,
            entry: None,
            invalidated: Vec::new(),
            store: None,
            entry_stored: None,
            evicted: 0,
        }
    }
}

/// A candidate the lookup found: an entry and how close it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The entry.
    pub id: i64,
    /// Its question.
    pub question: String,
    /// Cosine similarity to the question looked up.
    pub similarity: f32,
}

/// The outcome of looking in the keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lookup {
    /// The entry to serve, if its sources still hold.
    pub candidate: Option<Candidate>,
    /// The nearest entry, served or not.
    pub nearest: Option<Candidate>,
    /// Why the nearest was not served.
    pub refused: Option<String>,
}

/// The keys of the cached entries, kept in step with the store.
#[derive(Debug, Default)]
pub struct AnswerCache {
    state: Mutex<Keys>,
}

#[derive(Debug, Default)]
struct Keys {
    /// The highest id read from the store.
    seen: i64,
    rows: Vec<CacheKeyRow>,
}

impl AnswerCache {
    /// Finds the entry to serve for `question` (normalised `normalised`, embedded `vector`, or
    /// `None` to look for the same words only) in `collection`. Entries past their time to live
    /// are removed on the way.
    pub fn lookup(
        &self,
        store: &Store,
        config: &CacheConfig,
        collection: &str,
        embedder_id: &str,
        question: &str,
        vector: Option<&[f32]>,
    ) -> Result<Lookup> {
        let normalised = normalise(question);
        let mut keys = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = store.cache_keys_after(keys.seen)?;
        if let Some(last) = fresh.last() {
            keys.seen = last.id;
        }
        keys.rows.extend(fresh);
        // Served for `ttl_secs` after it was made: with 0, never.
        let expires = |r: &CacheKeyRow| r.created_at.saturating_add(config.ttl_secs as i64);
        let now = cairn_store::now_unix();
        let expired: Vec<i64> = keys
            .rows
            .iter()
            .filter(|r| expires(r) <= now)
            .map(|r| r.id)
            .collect();
        if !expired.is_empty() {
            store.cache_remove(&expired)?;
            keys.rows.retain(|r| expires(r) > now);
        }
        let mut candidates: Vec<Candidate> = keys
            .rows
            .iter()
            .filter(|r| r.collection == collection && r.embedder_id == embedder_id)
            .filter_map(|r| {
                let similarity = if r.normalised == normalised {
                    1.0
                } else {
                    cosine(vector?, &r.vector)
                };
                Some(Candidate {
                    id: r.id,
                    question: r.question.clone(),
                    similarity,
                })
            })
            .collect();
        candidates.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        let mut lookup = Lookup {
            nearest: candidates.first().cloned(),
            ..Lookup::default()
        };
        for candidate in candidates {
            if candidate.similarity < config.threshold {
                break;
            }
            match conflict(question, &candidate.question) {
                Some(why) if candidate.similarity < 1.0 => {
                    if lookup.refused.is_none() {
                        lookup.refused = Some(why);
                    }
                }
                _ => {
                    lookup.candidate = Some(candidate);
                    return Ok(lookup);
                }
            }
        }
        if lookup.refused.is_none() {
            lookup.refused = lookup.nearest.as_ref().map(|n| {
                format!(
                    "the nearest earlier question is {:.3} similar, below {:.3}",
                    n.similarity, config.threshold
                )
            });
        }
        Ok(lookup)
    }

    /// Forgets entries (evicted, invalidated, or gone from the store).
    pub fn forget(&self, ids: &[i64]) {
        let mut keys = self.state.lock().unwrap_or_else(|p| p.into_inner());
        keys.rows.retain(|r| !ids.contains(&r.id));
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_keeps_to_its_collection_and_embedder_and_drops_what_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cairn.sqlite")).unwrap();
        let put = |collection: &str, embedder: &str, question: &str| {
            store
                .cache_insert(
                    &cairn_store::NewCacheEntry {
                        collection: collection.into(),
                        question: question.into(),
                        normalised: normalise(question),
                        embedder_id: embedder.into(),
                        vector: vec![1.0, 0.0],
                        answer: "{}".into(),
                        sources: "[]".into(),
                        trace_id: None,
                    },
                    1 << 20,
                )
                .unwrap()
                .0
                .unwrap()
        };
        let kept = put("notes", "minilm", "What is a tide?");
        put("work", "minilm", "What is a tide?");
        put("notes", "other-model", "What is a tide?");
        let cache = AnswerCache::default();
        let config = CacheConfig::default();
        let look = |cache: &AnswerCache, config: &CacheConfig, q: &str, v: Option<&[f32]>| {
            cache
                .lookup(&store, config, "notes", "minilm", q, v)
                .unwrap()
        };
        // The same words, another spelling: only this collection's entry for this embedder.
        let found = look(&cache, &config, "what is a TIDE", None);
        assert_eq!(
            found.candidate.map(|c| (c.id, c.similarity)),
            Some((kept, 1.0))
        );
        // Other words, the same vector: found by similarity; with no vector, not at all.
        let near = look(&cache, &config, "Tides: what are they?", Some(&[1.0, 0.0]));
        assert_eq!(near.candidate.map(|c| c.id), Some(kept));
        assert!(
            look(&cache, &config, "Tides: what are they?", None)
                .candidate
                .is_none()
        );
        // A time to live of 0: nothing is served, and the entries go.
        let expired = CacheConfig {
            ttl_secs: 0,
            ..CacheConfig::default()
        };
        assert!(
            look(&cache, &expired, "What is a tide?", None)
                .candidate
                .is_none()
        );
        assert_eq!(store.cache_usage().unwrap().entries, 0);
        assert!(
            look(&AnswerCache::default(), &config, "What is a tide?", None)
                .candidate
                .is_none()
        );
    }
}
