//! The review queue: answers that failed the output checks or a policy wait for a person, who
//! approves, edits or rejects each. Approving or editing puts the answer into its thread in place
//! of what was shown, and may keep it in the answer cache.

use cairn_models::Embedder;
use cairn_store::{Decision, ReviewRecord};
use serde::Serialize;

use crate::answer::citation::{Citation, citation_records};
use crate::answer::value::{CachedAnswer, CachedSource};
use crate::cache::normalise;
use crate::error::{Error, Result};
use crate::library::Library;

/// A queued answer, as a person reviews it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    /// Its id in the queue.
    pub id: i64,
    /// The trace of the answer.
    pub trace_id: Option<i64>,
    /// The thread it was asked in.
    pub thread_id: Option<i64>,
    /// The collection.
    pub collection: String,
    /// The question.
    pub question: String,
    /// The check or policy it failed.
    pub reason: String,
    /// `hold` or `warn`: how it was shown while it waited.
    pub mode: String,
    /// The answer as the model wrote it.
    pub answer: String,
    /// The passages it cited.
    pub citations: Vec<Citation>,
    /// Who wrote it: `local` or a provider, and the model.
    pub made_by: String,
    /// `pending`, `approved`, `edited` or `rejected`.
    pub status: String,
    /// The text that replaced what was shown (approved or edited).
    pub final_text: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// When it was decided.
    pub decided_at: Option<i64>,
    /// Kept in the answer cache on approval: the entry.
    pub cached_as: Option<i64>,
}

/// What a person decides about a queued answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewAction {
    /// The answer stands as written.
    Approve,
    /// The answer stands as rewritten.
    Edit(String),
    /// The answer is wrong; what was shown stays (a held answer) or is withdrawn (a warned one).
    Reject,
}

/// What replaces a warned answer a person rejected.
const REJECTED: &str = "A reviewer withdrew this answer: it was not supported by your documents.";

fn item(record: ReviewRecord) -> Result<(ReviewItem, CachedAnswer, Vec<CachedSource>)> {
    let cached: CachedAnswer = serde_json::from_str(&record.answer)?;
    let sources: Vec<CachedSource> = serde_json::from_str(&record.sources)?;
    let item = ReviewItem {
        id: record.id,
        trace_id: record.trace_id,
        thread_id: record.thread_id,
        collection: record.collection,
        question: record.question,
        reason: record.reason,
        mode: record.mode,
        answer: cached.answer.clone(),
        citations: cached
            .citations
            .iter()
            .cloned()
            .map(Citation::from)
            .collect(),
        made_by: format!("{} {}", cached.provider, cached.model),
        status: record.status,
        final_text: record.final_text,
        created_at: record.created_at,
        decided_at: record.decided_at,
        cached_as: None,
    };
    Ok((item, cached, sources))
}

impl Library {
    /// Queued answers, newest first: the pending ones, or all.
    pub fn reviews(&self, all: bool) -> Result<Vec<ReviewItem>> {
        let status = (!all).then_some("pending");
        self.store
            .reviews(status)?
            .into_iter()
            .map(|r| item(r).map(|(item, ..)| item))
            .collect()
    }

    /// Decides a pending answer. Approving or editing replaces what its thread shows; with
    /// `keep`, the answer then serves the same question again from the answer cache (while its
    /// sources are unchanged). A decision is taken once.
    pub fn review(&self, id: i64, action: &ReviewAction, keep: bool) -> Result<ReviewItem> {
        let record = self
            .store
            .review(id)?
            .ok_or(cairn_store::Error::NoSuchReview(id))?;
        let warned = record.mode == "warn";
        let (_, mut cached, sources) = item(record)?;
        let citations: Vec<Citation> = cached
            .citations
            .iter()
            .cloned()
            .map(Citation::from)
            .collect();
        let decision = match action {
            ReviewAction::Approve => Decision::Approve {
                text: cached.answer.clone(),
                citations: citation_records(&citations),
            },
            ReviewAction::Edit(text) => {
                let text = text.trim();
                if text.is_empty() {
                    return Err(Error::InvalidInput("the edited answer is empty".into()));
                }
                // The passages the new text still cites, or all when it cites none by number.
                let cited: Vec<Citation> = citations
                    .iter()
                    .filter(|c| text.contains(&format!("[{}]", c.n)))
                    .cloned()
                    .collect();
                let kept = if cited.is_empty() { citations } else { cited };
                cached.answer = text.to_string();
                cached.citations = kept.iter().map(Into::into).collect();
                Decision::Edit {
                    text: text.to_string(),
                    citations: citation_records(&kept),
                }
            }
            ReviewAction::Reject => Decision::Reject {
                text: warned.then(|| REJECTED.to_string()),
            },
        };
        let decided = self.store.review_decide(id, &decision)?;
        let (mut decided_item, ..) = item(decided)?;
        if keep && *action != ReviewAction::Reject {
            decided_item.cached_as = self.keep_reviewed(&decided_item, &cached, &sources)?;
        }
        Ok(decided_item)
    }

    /// Keeps an approved answer in the cache, under its question's embedding.
    fn keep_reviewed(
        &self,
        item: &ReviewItem,
        cached: &CachedAnswer,
        sources: &[CachedSource],
    ) -> Result<Option<i64>> {
        let embedder = self.embedder()?;
        let vector = embedder.embed(&[item.question.as_str()])?.remove(0);
        let entry = cairn_store::NewCacheEntry {
            collection: item.collection.clone(),
            question: item.question.clone(),
            normalised: normalise(&item.question),
            embedder_id: embedder.info().id.clone(),
            vector,
            answer: serde_json::to_string(cached)?,
            sources: serde_json::to_string(sources)?,
            trace_id: item.trace_id,
        };
        let (id, evicted) = self
            .store
            .cache_insert(&entry, self.config.cache.max_bytes)?;
        self.answer_cache.forget(&evicted);
        Ok(id)
    }
}
