//! The values a question turns into: the request, the events streamed while it is answered, and
//! the finished [`Answer`] with what the answer cache and the review queue keep of it.

use std::sync::Arc;

use cairn_guard::{InjectionReport, OutputReport};
use cairn_store::{Provenance, Tier};
use serde::{Deserialize, Serialize};

use crate::answer::citation::{CachedCitation, Citation};
use crate::config::{DEFAULT_COLLECTION, ReviewMode};
use crate::policy::{ModelRoute, Policy};
use crate::router::{Route, RouteDecision};

/// A question for [`crate::Library::ask`].
#[derive(Debug, Clone, PartialEq)]
pub struct AskRequest {
    /// The question, as typed.
    pub question: String,
    /// The collection to answer from.
    pub collection: String,
    /// Continue this thread (its recent turns are context); `None` starts a new one.
    pub thread: Option<i64>,
    /// The model router's policy for this question; `None`: the config's `router.policy`.
    pub policy: Option<Policy>,
    /// Ask about this document only (its path, or its file name): "Ask about this document".
    /// A request about the whole of it reads it whole; a question about one fact in it is
    /// answered from its passages closest to the question.
    pub document: Option<String>,
}

impl AskRequest {
    /// A question about the default collection, in a new thread.
    pub fn new(question: impl Into<String>) -> Self {
        AskRequest {
            question: question.into(),
            collection: DEFAULT_COLLECTION.into(),
            thread: None,
            policy: None,
            document: None,
        }
    }
}

/// Something that happened while answering. The order is fixed (see `answer::events`): the
/// route, then per attempt the sources and the text in pieces; a withdrawn attempt ends with
/// `Retracted`, and the next attempt (or the fixed answer that replaces it) follows.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AnswerEvent {
    /// The route was decided.
    Route(RouteDecision),
    /// Reading a document part by part: `done` of `total` parts read.
    Progress {
        /// Parts read.
        done: usize,
        /// Parts in all.
        total: usize,
        /// What is happening, in words.
        stage: String,
    },
    /// The numbered passages the model was given.
    Sources {
        /// Passages, numbered from 1.
        passages: Vec<Citation>,
    },
    /// A piece of the answer.
    Text {
        /// The text.
        text: String,
    },
    /// The text streamed so far is withdrawn (it failed the output checks, or its model failed
    /// mid-answer); the final answer replaces it.
    Retracted {
        /// Why, for the person.
        reason: String,
    },
}

/// Callback for [`AnswerEvent`]s.
pub type OnAnswerEvent = Arc<dyn Fn(AnswerEvent) + Send + Sync>;

/// A finished answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The text.
    pub answer: String,
    /// Passages it cites.
    pub citations: Vec<Citation>,
    /// The route taken.
    pub route: Route,
    /// Why.
    pub route_reason: String,
    /// Which tier answered.
    pub tier: Tier,
    /// The prompt template used, `name@version`.
    pub prompt_version: String,
    /// How the local model's prompt was laid out: `chat_template` (the model's own) or `plain` (a
    /// base model without one); `None` when no local model wrote the answer.
    pub prompt_format: Option<&'static str>,
    /// Prompt tokens.
    pub tokens_in: usize,
    /// Generated tokens.
    pub tokens_out: usize,
    /// The thread the exchange was saved to.
    pub thread_id: i64,
    /// The model that answered (`none` for fixed answers).
    pub model: String,
    /// For a not-found answer, the closest passages that were not close enough.
    pub closest: Vec<Citation>,
    /// Passages given to the model.
    pub passages_used: usize,
    /// Passages retrieved but left out because the context window was full.
    pub passages_dropped: usize,
    /// Whether the answer was cut short (cancelled, or out of tokens).
    pub truncated: bool,
    /// Milliseconds: routing, retrieval, time to first token, total.
    pub timings_ms: Timings,
    /// The injection check of the question.
    pub input_check: Option<InjectionReport>,
    /// Passages whose text the injection check changed or removed before the model saw them.
    pub passages_flagged: usize,
    /// The output checks of a generated answer (grounding, citations, policy).
    pub output_check: Option<OutputReport>,
    /// Who answered: this device's model, the answer cache, a fixed text, or a cloud provider.
    /// Written as `provider` (`local`, `cache`, `none` or the provider's name).
    #[serde(rename = "provider")]
    pub provenance: Provenance,
    /// US dollars this answer cost (cloud models; 0 on this device).
    pub cost: f64,
    /// The model router's decision: policy, complexity, the model chosen and why.
    pub model_route: Option<ModelRoute>,
    /// The steps of the fallback chain that failed before this answer, in order.
    pub fallbacks: Vec<FallbackStep>,
    /// Entities the guard redacted from what was sent to a cloud model.
    pub redacted: usize,
    /// The trace recorded for this answer (`cairn trace ID`).
    pub trace_id: Option<i64>,
    /// Served from the answer cache: the earlier question and its answer's trace.
    pub cache: Option<CacheHit>,
    /// Failed the output checks or a policy: queued for review, and how it is shown meanwhile.
    pub review: Option<ReviewNote>,
    /// The shared collection's store could not be used: its offline copy (this old) answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_copy: Option<crate::offline_copy::FromOfflineCopy>,
}

impl Answer {
    /// Whether the answer was made without anything leaving this device.
    pub fn on_device(&self) -> bool {
        self.provenance.on_device()
    }

    /// What the answer cache and the review queue keep of it.
    pub(crate) fn kept(&self) -> CachedAnswer {
        CachedAnswer {
            answer: self.answer.clone(),
            citations: self.citations.iter().map(CachedCitation::from).collect(),
            route: self.route,
            tier: self.tier,
            prompt_version: self.prompt_version.clone(),
            model: self.model.clone(),
            provider: self.provenance.clone(),
        }
    }
}

/// Where the time went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Routing (one embedding).
    pub route: f64,
    /// Retrieval and reranking.
    pub retrieve: f64,
    /// From the start to the first generated token.
    pub first_token: f64,
    /// From the start to the end.
    pub total: f64,
}

/// A step of the fallback chain that did not answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FallbackStep {
    /// `local` or `provider/model`.
    pub target: String,
    /// The tier it was.
    pub tier: Tier,
    /// A stable code: `timeout`, `rate_limited`, `server_error`, `malformed`, `stream_broken`,
    /// `budget`, `circuit_open`, …
    pub code: String,
    /// What happened, for a person.
    pub reason: String,
}

/// An answer queued for review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewNote {
    /// Its entry in the review queue.
    pub id: Option<i64>,
    /// `hold` (a fixed answer is shown until it is approved) or `warn` (shown with a warning).
    pub mode: ReviewMode,
    /// The check or policy it failed.
    pub reason: String,
    /// The answer as the model wrote it.
    pub original: String,
    /// The passages it cited.
    pub citations: Vec<Citation>,
    /// The answer as queued: text, citations, route, model and prompt.
    #[serde(skip)]
    pub(crate) held: CachedAnswer,
}

/// A source of a kept answer, as it was when the answer was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedSource {
    /// The document.
    pub doc_path: String,
    /// The document's content hash then.
    pub content_hash: Option<String>,
    /// The passage.
    pub chunk_id: String,
    /// SHA-256 of the passage's text.
    pub chunk_hash: String,
}

/// What the answer cache and the review queue keep of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedAnswer {
    /// The text.
    pub answer: String,
    /// Passages it cites.
    pub citations: Vec<CachedCitation>,
    /// The route it took.
    pub route: Route,
    /// The tier that made it.
    pub tier: Tier,
    /// The prompt template, `name@version`.
    pub prompt_version: String,
    /// The model.
    pub model: String,
    /// Who made it.
    pub provider: Provenance,
}

/// On an answer served from the cache: the entry and the question it answered first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheHit {
    /// The entry.
    pub entry: i64,
    /// The earlier question.
    pub question: String,
    /// Cosine similarity of the two questions (1 for the same words).
    pub similarity: f32,
    /// The trace of the answer when it was made.
    pub trace_id: Option<i64>,
    /// Who made it: `local` or a provider, and the model.
    pub made_by: String,
    /// When it was made, Unix seconds.
    pub made_at: i64,
}
