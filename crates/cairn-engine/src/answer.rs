//! Answers: route the question, retrieve, pack passages into the context window, generate with the
//! local model, and map the `[n]` citations back to passages; keep the exchange in its thread.

use std::sync::Arc;
use std::time::Instant;

use cairn_guard::{
    Guard, InjectionReport, Outbound, OutputConfig, OutputReport, PiiScanner, Redactor,
    check_output, injection,
};
use cairn_index::Hit;
use cairn_models::llm::{ChatMessage, ChatModel, GenerateParams, Sampling};
use cairn_models::{BertEmbedder, Embedder};
use cairn_providers::{Params, ProviderError};
use cairn_store::{MessageRecord, NewMessage, Reservation, Settlement};
use serde::Serialize;

use crate::cache::{CacheHit, CacheTrace, CachedAnswer, CachedCitation, CachedSource};
use crate::error::{Error, Result};
use crate::ingest::CancelToken;
use crate::library::{DEFAULT_COLLECTION, Library};
use crate::policy::{Candidate, ModelRoute, Policy, Target};
use crate::prompts::{self, Template};
use crate::router::{Route, RouteDecision};
use crate::search::{SearchMode, SearchRequest};

/// A question for [`Library::ask`].
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
}

impl AskRequest {
    /// A question about the default collection, in a new thread.
    pub fn new(question: impl Into<String>) -> Self {
        AskRequest {
            question: question.into(),
            collection: DEFAULT_COLLECTION.into(),
            thread: None,
            policy: None,
        }
    }
}

/// Which tier produced an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The routed model, with full retrieval where the route asks for it.
    Primary,
    /// The fallback model (`router.secondary`), given only the single most relevant passage,
    /// after the primary failed.
    Secondary,
    /// A fixed answer: nothing relevant was found, or the request was refused.
    Deterministic,
}

/// A passage an answer cites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    /// The number in the answer: `[n]`.
    pub n: usize,
    /// The document.
    pub doc_path: String,
    /// Its page, for paged documents.
    pub page: Option<u32>,
    /// The chunk's id in the index.
    pub chunk_id: String,
    /// Heading path.
    pub heading: String,
    /// The passage.
    pub text: String,
    /// Retrieval score.
    pub score: f32,
    /// `model` when the answer cites it as `[n]`; `overlap` when the model cited nothing and the
    /// passage sharing most words with the answer is given as its source.
    pub cited_by: &'static str,
    /// Tokens of the context window it took (the chat model's tokens for the local model,
    /// estimated at 4 characters a token for a cloud one); 0 when it was not given to a model.
    pub tokens: usize,
}

/// Something that happened while answering, in order: the route, the sources, then text pieces.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AnswerEvent {
    /// The route was decided.
    Route(RouteDecision),
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
    /// The text streamed so far is withdrawn (it failed the output checks); the final answer
    /// replaces it.
    Retracted {
        /// Why, for the person.
        reason: String,
    },
}

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
    /// Who answered: `local` (this device), a provider's name, or `none` (a fixed answer).
    pub provider: String,
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
}

/// An answer queued for review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewNote {
    /// Its entry in the review queue.
    pub id: Option<i64>,
    /// `hold` (a fixed answer is shown until it is approved) or `warn` (shown with a warning).
    pub mode: crate::config::ReviewMode,
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

/// What a trace collects while a question is answered.
#[derive(Debug)]
struct Draft {
    thread_id: Option<i64>,
    route: Option<RouteDecision>,
    candidates: Vec<CandidateTrace>,
    cache: CacheTrace,
    /// Set when the cache missed a question it could keep the answer to.
    cache_key: Option<CacheKey>,
}

/// What an answer is kept under.
#[derive(Debug)]
struct CacheKey {
    question: String,
    embedder_id: String,
    vector: Vec<f32>,
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

/// A failed cloud step: what happened, and whether the person already saw part of its answer.
struct Failure {
    step: FallbackStep,
    streamed: bool,
}

/// One question being answered: what every tier of the chain needs.
struct Turn<'a> {
    template: Template,
    question: &'a str,
    history: &'a [MessageRecord],
    decision: &'a RouteDecision,
    thread_id: i64,
    on_event: &'a OnAnswerEvent,
    cancel: &'a CancelToken,
    started: Instant,
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

/// Callback for [`AnswerEvent`]s.
pub type OnAnswerEvent = Arc<dyn Fn(AnswerEvent) + Send + Sync>;

impl Library {
    /// Answers a question from the collection, streaming [`AnswerEvent`]s, and saves the exchange in
    /// its thread. `cancel` stops generation; what was generated so far is kept, marked truncated.
    /// Every question, answered or failed, leaves one trace (`Answer::trace_id`).
    pub async fn ask(
        &self,
        request: &AskRequest,
        on_event: OnAnswerEvent,
        cancel: &CancelToken,
    ) -> Result<Answer> {
        let started = Instant::now();
        let threshold = self.config.cache.threshold;
        let mut draft = Draft {
            thread_id: None,
            route: None,
            candidates: Vec::new(),
            cache: if self.config.cache.enabled {
                CacheTrace::skipped("skipped", "the question was not answered", threshold)
            } else {
                CacheTrace::skipped("off", "cache.enabled is false", threshold)
            },
            cache_key: None,
        };
        let result = self
            .answer_question(request, on_event, cancel, &mut draft, started)
            .await;
        // Kept before the trace is written, so that the trace says what became of it; the entry
        // learns its trace's id after.
        if let (Some(key), Ok(answer)) = (draft.cache_key.take(), &result) {
            draft.cache.store = Some(match cache_refusal(answer) {
                Some(why) => why.into(),
                None => match self.keep_answer(&request.collection, &key, answer) {
                    Ok((Some(id), evicted)) => {
                        draft.cache.entry_stored = Some(id);
                        draft.cache.evicted = evicted;
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
        let trace_id = self.record_trace(request, &draft, &result, started);
        if let (Some(entry), Some(trace)) = (draft.cache.entry_stored, trace_id)
            && let Err(e) = self.store.cache_set_trace(entry, trace)
        {
            tracing::warn!("a cache entry could not be linked to its trace: {e}");
        }
        if let (
            Ok(Answer {
                review: Some(ReviewNote { id: Some(id), .. }),
                ..
            }),
            Some(trace),
        ) = (&result, trace_id)
            && let Err(e) = self.store.review_set_trace(*id, trace)
        {
            tracing::warn!("a queued answer could not be linked to its trace: {e}");
        }
        result.map(|answer| Answer { trace_id, ..answer })
    }

    /// Serves an earlier answer when the cache holds one for this question (or one close enough
    /// in meaning) whose sources are unchanged. `vector`: `None` looks for the same words only.
    fn cached_answer(
        &self,
        collection: &str,
        question: &str,
        (embedder_id, vector): (&str, Option<&[f32]>),
        draft: &mut Draft,
        on_event: &OnAnswerEvent,
    ) -> Result<Option<Answer>> {
        let lookup = self.answer_cache.lookup(
            &self.store,
            &self.config.cache,
            collection,
            embedder_id,
            question,
            vector,
        )?;
        let trace = &mut draft.cache;
        trace.lookup = "miss";
        trace.nearest = lookup.nearest.as_ref().map(|n| n.question.clone());
        trace.similarity = lookup.nearest.as_ref().map(|n| n.similarity);
        let missed = lookup
            .refused
            .clone()
            .unwrap_or_else(|| "no earlier question in this collection".into());
        // An entry removed by the exact-words lookup stays the first reason.
        trace.reason = Some(match trace.reason.take() {
            Some(earlier) if !trace.invalidated.is_empty() => format!("{earlier}; then {missed}"),
            _ => missed,
        });
        let Some(candidate) = lookup.candidate else {
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
                .document(collection, &source.doc_path)?
                .filter(|d| d.state == cairn_store::DocState::Indexed)
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
        on_event(AnswerEvent::Route(decision.clone()));
        on_event(AnswerEvent::Sources {
            passages: citations.clone(),
        });
        on_event(AnswerEvent::Text {
            text: cached.answer.clone(),
        });
        draft.route = Some(decision.clone());
        let mut answer = fixed(
            self.template(prompts::NOT_FOUND),
            &decision,
            String::new(),
            Vec::new(),
        );
        answer.answer = cached.answer;
        answer.passages_used = citations.len();
        answer.citations = citations;
        answer.tier = cached.tier;
        answer.prompt_version = cached.prompt_version;
        answer.model = cached.model.clone();
        answer.provider = "cache".into();
        answer.cache = Some(CacheHit {
            entry: candidate.id,
            question: candidate.question,
            similarity: candidate.similarity,
            trace_id: value.trace_id,
            made_by: format!("{} {}", cached.provider, cached.model),
            made_at: value.created_at,
        });
        Ok(Some(answer))
    }

    /// The version of `default`'s template the config picks (`[prompts]`), or `default`.
    pub(crate) fn template(&self, default: Template) -> Template {
        self.config
            .prompts
            .get(default.name)
            .and_then(|version| prompts::find(default.name, version))
            .unwrap_or(default)
    }

    /// The documents `citations` come from, with their content hashes as they are now.
    pub(crate) fn sources_of(
        &self,
        collection: &str,
        citations: &[Citation],
    ) -> Result<Vec<CachedSource>> {
        use sha2::{Digest, Sha256};
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

    /// Keeps an answer in the cache with its sources as they are now.
    fn keep_answer(
        &self,
        collection: &str,
        key: &CacheKey,
        answer: &Answer,
    ) -> Result<(Option<i64>, usize)> {
        let sources = self.sources_of(collection, &answer.citations)?;
        let cached = cached_form(answer);
        let entry = cairn_store::NewCacheEntry {
            collection: collection.into(),
            question: key.question.clone(),
            normalised: crate::cache::normalise(&key.question),
            embedder_id: key.embedder_id.clone(),
            vector: key.vector.clone(),
            answer: serde_json::to_string(&cached)?,
            sources: serde_json::to_string(&sources)?,
            trace_id: None,
        };
        let (id, evicted) = self
            .store
            .cache_insert(&entry, self.config.cache.max_bytes)?;
        self.answer_cache.forget(&evicted);
        Ok((id, evicted.len()))
    }

    async fn answer_question(
        &self,
        request: &AskRequest,
        on_event: OnAnswerEvent,
        cancel: &CancelToken,
        draft: &mut Draft,
        started: Instant,
    ) -> Result<Answer> {
        let question = clean_question(&request.question, self.config.answer.max_question_chars)?;
        let guard = &self.config.guard.injection;
        let input_check = injection::check(&question, guard.input_policy, guard.max_input_chars);
        let question = input_check.text.trim().to_string();
        if question.is_empty() && !input_check.blocked {
            return Err(Error::InvalidInput(
                "the question is empty once unsafe text is removed".into(),
            ));
        }
        let thread = match request.thread {
            Some(id) => self
                .store
                .thread(id)?
                .ok_or_else(|| Error::InvalidInput(format!("there is no thread {id}")))?,
            None => self
                .store
                .create_thread(&title(&question), &request.collection)?,
        };
        draft.thread_id = Some(thread.id);
        let history = self.store.messages(thread.id)?;
        let mut timings = Timings::default();

        // The same words asked before are answered before anything is embedded.
        let closed = if !history.is_empty() {
            Some("a follow-up depends on its thread")
        } else if input_check.flagged() {
            Some("the injection check flagged the question")
        } else if request.policy.is_some() {
            Some("a model policy was chosen for this question")
        } else {
            None
        };
        let cache_open = self.config.cache.enabled && closed.is_none();
        if let (true, Some(why)) = (self.config.cache.enabled, closed) {
            draft.cache.reason = Some(why.into());
        }
        // The embedding model loads here whatever the path: routing needs it.
        let embedder_id = self.embedder()?.info().id.clone();
        let exact = if cache_open {
            self.cached_answer(
                &request.collection,
                &question,
                (&embedder_id, None),
                draft,
                &on_event,
            )?
        } else {
            None
        };
        let mut answer = 'answer: {
            if let Some(hit) = exact {
                break 'answer hit;
            }

            // Route.
            let embedder = self.embedder()?;
            let q = question.clone();
            let vector = tokio::task::spawn_blocking(move || embedder.embed(&[q.as_str()]))
                .await
                .map_err(|e| Error::Internal(e.to_string()))??
                .remove(0);
            let decision = self.router.route(&vector);
            timings.route = ms(started);
            on_event(AnswerEvent::Route(decision.clone()));
            draft.route = Some(decision.clone());
            let policy = request.policy.unwrap_or(self.config.router.policy);
            let model_route = self.route_model(policy, &vector, &question)?;
            let turn = |template| Turn {
                template,
                question: &question,
                history: &history,
                decision: &decision,
                thread_id: thread.id,
                on_event: &on_event,
                cancel,
                started,
            };

            let is_question = matches!(decision.route, Route::Factual | Route::Analytical);
            if cache_open && is_question && !input_check.blocked {
                if let Some(hit) = self.cached_answer(
                    &request.collection,
                    &question,
                    (&embedder_id, Some(&vector)),
                    draft,
                    &on_event,
                )? {
                    break 'answer hit;
                }
                draft.cache_key = Some(CacheKey {
                    question: question.clone(),
                    embedder_id: embedder_id.clone(),
                    vector: vector.clone(),
                });
            } else if cache_open {
                draft.cache = CacheTrace::skipped(
                    "skipped",
                    "only questions about the library are cached",
                    self.config.cache.threshold,
                );
            }
            let mut answer = match decision.route {
                _ if input_check.blocked => {
                    let mut a = fixed(
                        self.template(prompts::REFUSAL),
                        &decision,
                        String::new(),
                        Vec::new(),
                    );
                    a.route = Route::OutOfScope;
                    a.route_reason =
                        "the injection check blocked the question (guard.injection.input_policy)"
                            .into();
                    a
                }
                Route::OutOfScope => fixed(
                    self.template(prompts::REFUSAL),
                    &decision,
                    String::new(),
                    Vec::new(),
                ),
                Route::Chitchat => {
                    self.respond(&turn(self.template(prompts::CHITCHAT)), &[], &model_route)
                        .await?
                }
                Route::Factual | Route::Analytical => {
                    let search = SearchRequest {
                        query: question.clone(),
                        collection: request.collection.clone(),
                        k: Some(self.config.answer.passages),
                        mode: SearchMode::Hybrid,
                        rerank: None,
                    };
                    let hits = match self.search(&search).await {
                        Ok(hits) => hits,
                        Err(Error::NoSuchCollection(_)) => Vec::new(),
                        Err(e) => return Err(e),
                    };
                    draft.candidates = hits.iter().map(CandidateTrace::from).collect();
                    timings.retrieve = ms(started) - timings.route;
                    let best = hits
                        .iter()
                        .filter_map(|h| h.dense_score)
                        .fold(f32::NEG_INFINITY, f32::max);
                    if hits.is_empty() || best < self.config.answer.min_score {
                        let closest: Vec<Citation> = hits
                            .iter()
                            .take(3)
                            .enumerate()
                            .map(|(i, h)| citation(i + 1, h, "model"))
                            .collect();
                        let sources = closest
                            .iter()
                            .map(|c| format!("Closest: {}", source_label(c)))
                            .collect::<Vec<_>>()
                            .join("\n");
                        let mut a = fixed(
                            self.template(prompts::NOT_FOUND),
                            &decision,
                            sources,
                            closest,
                        );
                        a.route_reason = format!(
                            "{}; best passage similarity {:.2} is below {:.2}",
                            decision.reason,
                            best.max(0.0),
                            self.config.answer.min_score
                        );
                        a
                    } else {
                        let template = self.template(if decision.route == Route::Analytical {
                            prompts::ANALYTICAL
                        } else {
                            prompts::GROUNDED
                        });
                        self.respond(&turn(template), &hits, &model_route).await?
                    }
                }
            };
            answer.model_route = Some(model_route);
            answer
        };
        if answer.tier == Tier::Deterministic && answer.cache.is_none() {
            on_event(AnswerEvent::Text {
                text: answer.answer.clone(),
            });
        }
        timings.first_token = if answer.timings_ms.first_token > 0.0 {
            answer.timings_ms.first_token
        } else {
            ms(started)
        };
        timings.total = ms(started);
        answer.timings_ms = timings;
        answer.thread_id = thread.id;
        answer.input_check = Some(input_check);

        self.store.add_message(
            thread.id,
            &NewMessage {
                role: "user".into(),
                content: question.clone(),
                ..NewMessage::default()
            },
        )?;
        let message_id = self.store.add_message(
            thread.id,
            &NewMessage {
                role: "assistant".into(),
                content: answer.answer.clone(),
                route: Some(answer.route.label().into()),
                tier: Some(
                    serde_json::to_value(answer.tier)?
                        .as_str()
                        .unwrap_or_default()
                        .into(),
                ),
                prompt_version: Some(answer.prompt_version.clone()),
                model: Some(answer.model.clone()),
                tokens_in: Some(answer.tokens_in as i64),
                tokens_out: Some(answer.tokens_out as i64),
                provider: Some(answer.provider.clone()),
                cost: Some(answer.cost),
                citations: crate::review::citation_records(&answer.citations),
            },
        )?;
        if let Some(mut note) = answer.review.take() {
            let id = self.store.review_add(&cairn_store::NewReview {
                thread_id: Some(thread.id),
                message_id: Some(message_id),
                collection: request.collection.clone(),
                question: question.clone(),
                reason: note.reason.clone(),
                mode: note.mode.label().into(),
                answer: serde_json::to_string(&note.held)?,
                sources: serde_json::to_string(
                    &self.sources_of(&request.collection, &note.citations)?,
                )?,
            })?;
            note.id = Some(id);
            answer.review = Some(note);
        }
        Ok(answer)
    }

    /// Writes the question's one trace; a trace that cannot be written is logged, never a failed
    /// answer.
    fn record_trace(
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
        let tier = |t: Tier| {
            serde_json::to_value(t)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
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
            tier: answer.and_then(|a| tier(a.tier)),
            provider: answer.map(|a| a.provider.clone()),
            model: answer.map(|a| a.model.clone()),
            tokens_in: answer.map_or(0, |a| a.tokens_in as i64),
            tokens_out: answer.map_or(0, |a| a.tokens_out as i64),
            cost: answer.map_or(0.0, |a| a.cost),
            total_ms: ms(started),
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

    /// The model router: the question's complexity, then the policy's choice among the configured
    /// models. Under offline-only no provider is constructed.
    fn route_model(&self, policy: Policy, vector: &[f32], question: &str) -> Result<ModelRoute> {
        let complexity = self.complexity.classify(vector, question);
        if policy == Policy::OfflineOnly || self.config.providers.is_empty() {
            return Ok(crate::policy::choose(policy, &complexity, &[]));
        }
        let providers = self.providers()?;
        let mut candidates = Vec::new();
        for provider in providers {
            for model in &provider.config().models {
                candidates.push(Candidate {
                    provider: provider.name(),
                    model,
                    paused: provider.is_paused(),
                    median_ms: self
                        .store
                        .latency(provider.name(), &model.id, 20)?
                        .map(|l| l.median_total_ms),
                });
            }
        }
        Ok(crate::policy::choose(policy, &complexity, &candidates))
    }

    /// Answers with the routed model, walking the fallback chain when a cloud model fails:
    /// primary (all passages) → `router.secondary` (the single most relevant passage) → a
    /// deterministic answer quoting that passage. A step that had begun streaming is retracted
    /// before the next one starts, so no half answer is shown twice.
    async fn respond(&self, turn: &Turn<'_>, hits: &[Hit], route: &ModelRoute) -> Result<Answer> {
        let Target::Cloud { provider, model } = &route.target else {
            return self.generate(turn, hits).await;
        };
        let mut steps = Vec::new();
        let retract = |failure: &Failure| {
            if failure.streamed {
                (turn.on_event)(AnswerEvent::Retracted {
                    reason: format!("{} failed mid-answer", failure.step.target),
                });
            }
        };
        match self
            .generate_cloud(turn, hits, provider, model, Tier::Primary)
            .await
        {
            Ok(answer) => return Ok(answer),
            Err(failure) => {
                retract(&failure);
                steps.push(failure.step);
            }
        }
        let best: Vec<Hit> = hits.iter().take(1).cloned().collect();
        match Target::parse(&self.config.router.secondary).flatten() {
            Some(Target::Local) => match self.generate(turn, &best).await {
                Ok(mut answer) => {
                    if answer.tier == Tier::Primary {
                        answer.tier = Tier::Secondary;
                    }
                    answer.fallbacks = steps;
                    return Ok(answer);
                }
                Err(e) => steps.push(FallbackStep {
                    target: "local".into(),
                    tier: Tier::Secondary,
                    code: e.code().into(),
                    reason: e.to_string(),
                }),
            },
            Some(Target::Cloud { provider, model }) => {
                match self
                    .generate_cloud(turn, &best, &provider, &model, Tier::Secondary)
                    .await
                {
                    Ok(mut answer) => {
                        answer.fallbacks = steps;
                        return Ok(answer);
                    }
                    Err(failure) => {
                        retract(&failure);
                        steps.push(failure.step);
                    }
                }
            }
            None => {}
        }
        let reasons: Vec<String> = steps
            .iter()
            .map(|s| format!("{}: {}", s.target, s.reason))
            .collect();
        let quoted: Vec<Citation> = best
            .iter()
            .map(|h| Citation {
                cited_by: "quote",
                ..citation(1, h, "quote")
            })
            .collect();
        let passage = quoted
            .first()
            .map(|c| {
                format!(
                    "The most relevant passage in your library [1] ({}):\n\n> {}",
                    source_label(c),
                    c.text.trim().replace('\n', "\n> ")
                )
            })
            .unwrap_or_default();
        let fallback = self.template(prompts::FALLBACK);
        let mut answer = fixed(fallback, turn.decision, String::new(), Vec::new());
        answer.answer = fallback
            .section(
                "text",
                &[("reasons", &reasons.join("; ")), ("passage", &passage)],
            )
            .trim()
            .to_string();
        answer.citations = quoted;
        answer.route_reason = format!("{}; every model in the chain failed", turn.decision.reason);
        answer.fallbacks = steps;
        Ok(answer)
    }

    /// Asks a cloud model: passages screened and packed within `router.cloud_context_tokens`, the
    /// request built by the guard (redacted), its largest cost reserved against the budgets, the
    /// reply streamed with placeholders restored, the call settled at what it really cost.
    async fn generate_cloud(
        &self,
        turn: &Turn<'_>,
        hits: &[Hit],
        provider_name: &str,
        model_id: &str,
        tier: Tier,
    ) -> std::result::Result<Answer, Failure> {
        let target = format!("{provider_name}/{model_id}");
        let fail = |code: &str, reason: String, streamed: bool| Failure {
            step: FallbackStep {
                target: target.clone(),
                tier,
                code: code.into(),
                reason,
            },
            streamed,
        };
        let internal = |e: Error| fail(e.code(), e.to_string(), false);
        let providers = self.providers().map_err(internal)?;
        let Some(provider) = providers.iter().find(|p| p.name() == provider_name) else {
            return Err(fail(
                "provider_config",
                format!("no provider is called {provider_name}"),
                false,
            ));
        };
        let Some(model) = provider.config().model(model_id).cloned() else {
            return Err(fail(
                "provider_config",
                format!("{provider_name} serves no model {model_id}"),
                false,
            ));
        };
        let router = &self.config.router;
        let (hits, passages_flagged) = screen(hits, &self.config.guard);

        // Whole passages within the budget (4 characters a token), then recent turns.
        let mut budget = router.cloud_context_tokens;
        let estimate = |text: &str| Ok(text.len().div_ceil(4));
        let (passages, texts, dropped) = fit_passages(
            &hits,
            &mut budget,
            |_, c| format!("({}) {}", source_label(c), c.text.trim()),
            estimate,
        )
        .map_err(internal)?;
        let turns = recent_turns(
            turn.history,
            2 * self.config.answer.history_turns,
            &mut budget,
            |text| Ok(estimate(text)? + 4),
        )
        .map_err(internal)?;
        let outbound = Outbound {
            system: turn.template.section("system", &[]),
            history: turns,
            passages: texts,
            question: turn.question.to_string(),
        };
        let mut guard = Guard::new(
            Redactor::new(PiiScanner::new(self.config.guard.pii.clone())),
            self.config.guard.injection.clone(),
        );
        let (egress, report) = guard
            .prepare(&outbound)
            .map_err(|e| fail("guard", e.to_string(), false))?;
        if turn.template.name != prompts::CHITCHAT.name {
            (turn.on_event)(AnswerEvent::Sources {
                passages: passages.clone(),
            });
        }

        // Reserve the most it can cost: the prompt at 3 characters a token, the longest reply.
        let prompt_chars: usize = egress.messages().iter().map(|m| m.content.len()).sum();
        let most_in = (prompt_chars.div_ceil(3) + 8 * egress.messages().len()) as u64;
        let most_out = u64::from(router.cloud_max_tokens);
        let reservation = Reservation {
            thread_id: Some(turn.thread_id),
            provider: provider_name.into(),
            model: model.id.clone(),
            tokens: most_in + most_out,
            cost: model.cost(most_in, most_out),
        };
        let id = match self
            .store
            .reserve(&reservation, &self.config.budget.limits())
        {
            Ok(Ok(id)) => id,
            Ok(Err(refused)) => {
                return Err(fail(
                    "budget",
                    format!(
                        "the {} budget would be exceeded (this request may cost up to ${:.4}, {} tokens)",
                        refused.period, reservation.cost, reservation.tokens
                    ),
                    false,
                ));
            }
            Err(e) => return Err(internal(e.into())),
        };

        // Nothing leaves without its line in the audit log: when, where, how much, what was redacted.
        let chars: usize = egress
            .messages()
            .iter()
            .map(|m| m.content.chars().count())
            .sum();
        if let Err(e) =
            self.store
                .append_audit(provider_name, &model.id, chars as u64, &report.types)
        {
            let _ = self.store.settle(
                id,
                &Settlement {
                    outcome: "not_sent".into(),
                    ..Settlement::default()
                },
            );
            return Err(fail(
                "audit",
                format!("the egress audit log could not be written, so nothing was sent: {e}"),
                false,
            ));
        }
        let params = Params {
            max_tokens: router.cloud_max_tokens,
            temperature: self.config.answer.temperature,
        };
        let mut restorer = guard.redactor().stream();
        let mut shown = 0;
        let mut first_token = 0.0;
        let events = turn.on_event.clone();
        let started = turn.started;
        let called = Instant::now();
        let result = provider
            .complete(
                &model.id,
                &egress,
                &params,
                &mut |piece| {
                    let text = restorer.push(piece);
                    if !text.is_empty() {
                        if first_token == 0.0 {
                            first_token = ms(started);
                        }
                        shown += text.len();
                        events(AnswerEvent::Text { text });
                    }
                },
                turn.cancel.flag(),
            )
            .await;
        let completion = match result {
            Ok(completion) => completion,
            Err(error) => {
                let streamed = shown > 0 || matches!(error, ProviderError::StreamBroken { .. });
                // A reply that had begun was billed for its prompt and what arrived.
                let (used_in, used_out) = if streamed {
                    (most_in, shown.div_ceil(4) as u64)
                } else {
                    (0, 0)
                };
                let settled = self.store.settle(
                    id,
                    &Settlement {
                        outcome: error.code().into(),
                        tokens_in: used_in,
                        tokens_out: used_out,
                        cost: model.cost(used_in, used_out),
                        first_token_ms: None,
                        total_ms: Some(ms(called)),
                    },
                );
                if let Err(e) = settled {
                    tracing::warn!("settling a failed call: {e}");
                }
                tracing::info!(
                    target = target.as_str(),
                    code = error.code(),
                    "cloud step failed: {error}"
                );
                return Err(fail(error.code(), error.to_string(), streamed));
            }
        };
        let tail = restorer.finish();
        if !tail.is_empty() {
            events(AnswerEvent::Text { text: tail });
        }
        let usage = completion.usage;
        let cost = model.cost(usage.input_tokens, usage.output_tokens);
        self.store
            .settle(
                id,
                &Settlement {
                    outcome: if turn.cancel.is_cancelled() {
                        "cancelled".into()
                    } else {
                        "ok".into()
                    },
                    tokens_in: usage.input_tokens,
                    tokens_out: usage.output_tokens,
                    cost,
                    first_token_ms: Some(completion.first_token_ms),
                    total_ms: Some(completion.total_ms),
                },
            )
            .map_err(|e| internal(e.into()))?;

        let text = guard
            .redactor()
            .restore(&completion.text)
            .trim()
            .to_string();
        let citations = cite(&text, &passages);
        let embedder = self.embedder().map_err(internal)?;
        let output_cfg = self.config.guard.output.clone();
        let passage_texts: Vec<String> = passages.iter().map(|p| p.text.clone()).collect();
        let checked_text = text.clone();
        let output_check = tokio::task::spawn_blocking(move || {
            check_answer(&embedder, &checked_text, &passage_texts, &output_cfg)
        })
        .await
        .map_err(|e| internal(Error::Internal(e.to_string())))?;
        let answer = Answer {
            answer: text,
            citations,
            route: turn.decision.route,
            route_reason: turn.decision.reason.clone(),
            tier,
            prompt_version: turn.template.id(),
            tokens_in: usage.input_tokens as usize,
            tokens_out: usage.output_tokens as usize,
            thread_id: 0,
            model: completion.model,
            closest: Vec::new(),
            passages_used: passages.len(),
            passages_dropped: dropped,
            truncated: completion.truncated,
            timings_ms: Timings {
                first_token,
                ..Timings::default()
            },
            input_check: None,
            passages_flagged,
            output_check: Some(output_check),
            provider: provider_name.into(),
            cost,
            model_route: None,
            fallbacks: Vec::new(),
            redacted: report.redacted,
            trace_id: None,
            cache: None,
            review: None,
        };
        Ok(self.enforce_output_check(answer, &passages, turn))
    }

    /// Runs the chat model on a packed prompt.
    async fn generate(&self, turn: &Turn<'_>, hits: &[Hit]) -> Result<Answer> {
        let model = self.chat_model()?;
        let embedder = self.embedder()?;
        let cfg = self.config.answer.clone();
        let output_cfg = self.config.guard.output.clone();
        let template = turn.template;
        let template_id = template.id();
        let question = turn.question.to_string();
        let (hits, passages_flagged) = screen(hits, &self.config.guard);
        let history = turn.history.to_vec();
        let route = turn.decision.clone();
        let events = turn.on_event.clone();
        let cancel = turn.cancel.clone();
        let started = turn.started;
        let hits_for_sources: Vec<Citation> = hits
            .iter()
            .enumerate()
            .map(|(i, h)| citation(i + 1, h, "model"))
            .collect();
        let answer = tokio::task::spawn_blocking(move || {
            let mut model = model.lock().unwrap_or_else(|p| p.into_inner());
            let packed = pack(&model, template, &question, &hits, &history, &cfg)?;
            if template.name != prompts::CHITCHAT.name {
                events(AnswerEvent::Sources {
                    passages: packed.passages.clone(),
                });
            }
            let params = GenerateParams {
                sampling: if cfg.temperature > 0.0 {
                    Sampling::Random {
                        temperature: cfg.temperature,
                        top_k: 40,
                        top_p: 0.95,
                        seed: cfg.seed,
                    }
                } else {
                    Sampling::Greedy
                },
                max_tokens: cfg.max_tokens,
                repeat_penalty: cfg.repeat_penalty,
                ..GenerateParams::default()
            };
            let mut first_token = 0.0;
            let generation = model.generate(&packed.ids, &params, cancel.flag(), &mut |piece| {
                if first_token == 0.0 {
                    first_token = ms(started);
                }
                events(AnswerEvent::Text {
                    text: piece.to_string(),
                });
            })?;
            let text = generation.text.trim().to_string();
            let citations = cite(&text, &packed.passages);
            let passage_texts: Vec<String> =
                packed.passages.iter().map(|p| p.text.clone()).collect();
            let output_check = check_answer(&embedder, &text, &passage_texts, &output_cfg);
            Ok::<Answer, Error>(Answer {
                answer: text,
                citations,
                route: route.route,
                route_reason: route.reason.clone(),
                tier: Tier::Primary,
                prompt_version: template_id,
                tokens_in: generation.tokens_in,
                tokens_out: generation.tokens_out,
                thread_id: 0,
                model: model.info().name.clone(),
                closest: Vec::new(),
                passages_used: packed.passages.len(),
                passages_dropped: packed.dropped,
                truncated: !matches!(
                    generation.stop,
                    cairn_models::llm::StopReason::EndOfTurn
                        | cairn_models::llm::StopReason::StopString
                ),
                timings_ms: Timings {
                    first_token,
                    ..Timings::default()
                },
                input_check: None,
                passages_flagged,
                output_check: Some(output_check),
                provider: "local".into(),
                cost: 0.0,
                model_route: None,
                fallbacks: Vec::new(),
                redacted: 0,
                trace_id: None,
                cache: None,
                review: None,
            })
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        Ok(self.enforce_output_check(answer, &hits_for_sources, turn))
    }

    /// A generated answer that failed the output checks is withdrawn (the person is told why) and
    /// replaced by a deterministic answer pointing at the passages.
    fn enforce_output_check(
        &self,
        answer: Answer,
        sources: &[Citation],
        turn: &Turn<'_>,
    ) -> Answer {
        let check = answer
            .output_check
            .clone()
            .unwrap_or_else(|| check_output("", &[], None, &self.config.guard.output));
        let reason = if !check.policy_hits.is_empty() {
            Some((
                "the answer touched a banned topic",
                self.template(prompts::REFUSAL),
            ))
        } else if !check.grounded {
            Some((
                "the answer was not supported by the passages it cites",
                self.template(prompts::UNSUPPORTED),
            ))
        } else {
            None
        };
        let Some((why, fallback)) = reason else {
            return answer;
        };
        let mode = self.config.review.mode;
        let note = ReviewNote {
            id: None,
            mode,
            reason: why.into(),
            original: answer.answer.clone(),
            citations: answer.citations.clone(),
            held: cached_form(&answer),
        };
        if mode == crate::config::ReviewMode::Warn {
            return Answer {
                review: Some(note),
                ..answer
            };
        }
        (turn.on_event)(AnswerEvent::Retracted { reason: why.into() });
        // The cited passages first, then the best retrieved; each once.
        let mut closest: Vec<Citation> = Vec::new();
        for c in answer.citations.iter().chain(sources) {
            if closest.len() < 3 && closest.iter().all(|k| k.chunk_id != c.chunk_id) {
                closest.push(c.clone());
            }
        }
        let sources = closest
            .iter()
            .map(|c| format!("- {}", source_label(c)))
            .collect::<Vec<_>>()
            .join("\n");
        let mut fixed_answer = fixed(fallback, turn.decision, sources, closest);
        fixed_answer.route_reason = format!("{}; {why}", turn.decision.reason);
        fixed_answer.tokens_in = answer.tokens_in;
        fixed_answer.tokens_out = answer.tokens_out;
        fixed_answer.passages_used = answer.passages_used;
        fixed_answer.passages_flagged = answer.passages_flagged;
        fixed_answer.output_check = answer.output_check;
        fixed_answer.timings_ms = answer.timings_ms;
        fixed_answer.cost = answer.cost;
        fixed_answer.redacted = answer.redacted;
        fixed_answer.fallbacks = answer.fallbacks;
        fixed_answer
            .answer
            .push_str("\n\nWhat I wrote is waiting for a person to review it.");
        fixed_answer.review = Some(note);
        fixed_answer
    }
}

/// Passages are untrusted: each is checked, and what the policy strips never reaches a model.
/// Returns the passages to use and how many the check changed or removed.
fn screen(hits: &[Hit], guard: &crate::config::GuardConfig) -> (Vec<Hit>, usize) {
    let mut flagged = 0;
    let kept = hits
        .iter()
        .filter_map(|h| {
            let report =
                injection::check(&h.passage.text, guard.injection.passage_policy, usize::MAX);
            if report.flagged() {
                flagged += 1;
            }
            if report.blocked {
                return None;
            }
            let mut h = h.clone();
            h.passage.text = report.text;
            Some(h)
        })
        .collect();
    (kept, flagged)
}

/// The output checks of `text` against the passages it was given, with embedding similarity.
fn check_answer(
    embedder: &BertEmbedder,
    text: &str,
    passages: &[String],
    config: &OutputConfig,
) -> OutputReport {
    let passage_texts: Vec<&str> = passages.iter().map(String::as_str).collect();
    let cache = std::cell::RefCell::new(std::collections::HashMap::<String, Vec<f32>>::new());
    let vector = |t: &str| -> Vec<f32> {
        if let Some(v) = cache.borrow().get(t) {
            return v.clone();
        }
        let v = embedder
            .embed(&[t])
            .map(|mut v| v.remove(0))
            .unwrap_or_default();
        cache.borrow_mut().insert(t.to_string(), v.clone());
        v
    };
    let similarity =
        |a: &str, b: &str| -> f32 { vector(a).iter().zip(vector(b)).map(|(x, y)| x * y).sum() };
    check_output(
        text,
        &passage_texts,
        (!passage_texts.is_empty()).then_some(&similarity as &cairn_guard::Similarity<'_>),
        config,
    )
}

/// A prompt that fits the context window.
#[derive(Debug)]
pub(crate) struct Packed {
    pub(crate) ids: Vec<u32>,
    pub(crate) passages: Vec<Citation>,
    pub(crate) dropped: usize,
}

/// Builds the prompt: system part, the thread's recent turns, the numbered passages and the
/// question, within `context_tokens` minus the reply's `max_tokens`. Passages go in whole, best
/// first; one that does not fit is left out (a smaller one after it may still go in). Turns go in
/// newest first while they fit in a quarter of the budget. A question too long for the window is an
/// error, never a truncated prompt.
pub(crate) fn pack(
    model: &ChatModel,
    template: Template,
    question: &str,
    hits: &[Hit],
    history: &[MessageRecord],
    cfg: &crate::config::AnswerConfig,
) -> Result<Packed> {
    let tok = model.tokenizer();
    let count = |text: &str| -> Result<usize> { Ok(tok.encode(text, false, false)?.len()) };
    let window = cfg.context_tokens.min(model.context_length());
    let system = ChatMessage::new("system", template.section("system", &[]));
    let bare = template.section("user", &[("passages", ""), ("question", question)]);
    let fixed = model
        .encode_chat(&[system.clone(), ChatMessage::new("user", bare.clone())])?
        .len();
    let Some(mut budget) = window.checked_sub(cfg.max_tokens + fixed) else {
        return Err(Error::InvalidInput(format!(
            "the question is too long for the model's context window ({fixed} tokens of prompt, {} for the reply, {window} in all)",
            cfg.max_tokens
        )));
    };

    // Recent turns within a quarter of what is left (chat-template framing costs a few tokens a
    // turn), then whole passages.
    let turns: Vec<ChatMessage> =
        recent_turns(history, 2 * cfg.history_turns, &mut budget, |text| {
            Ok(count(text)? + 8)
        })?
        .into_iter()
        .map(|(role, content)| ChatMessage::new(&role, content))
        .collect();
    let (passages, blocks, dropped) = fit_passages(
        hits,
        &mut budget,
        |n, c| format!("[{n}] ({}) {}", source_label(c), c.text.trim()),
        |block| Ok(count(block)? + 2),
    )?;
    let user = template.section(
        "user",
        &[("passages", &blocks.join("\n\n")), ("question", question)],
    );
    let mut messages = vec![system];
    messages.extend(turns);
    messages.push(ChatMessage::new("user", user));
    let ids = model.encode_chat(&messages)?;
    // The estimate above counts pieces separately; the final prompt must still leave room.
    if ids.len() + cfg.max_tokens > window && !passages.is_empty() {
        let mut smaller: Vec<Hit> = hits.to_vec();
        smaller.truncate(passages.len().saturating_sub(1));
        return pack(model, template, question, &smaller, history, cfg);
    }
    Ok(Packed {
        ids,
        passages,
        dropped,
    })
}

/// Recent turns of `history`, taken newest first while they fit in a quarter of `budget` (and
/// taken from it), returned oldest first. A thread that ends on a question without an answer (a
/// failed turn) must not leave two user turns in a row, so the turns start with a question.
fn recent_turns(
    history: &[MessageRecord],
    max: usize,
    budget: &mut usize,
    mut cost: impl FnMut(&str) -> Result<usize>,
) -> Result<Vec<(String, String)>> {
    let mut quarter = *budget / 4;
    let mut turns = Vec::new();
    for m in history.iter().rev().take(max) {
        let c = cost(&m.content)?;
        if c > quarter {
            break;
        }
        quarter -= c;
        *budget -= c;
        turns.push((m.role.clone(), m.content.clone()));
    }
    turns.reverse();
    while turns.first().is_some_and(|(role, _)| role != "user") {
        turns.remove(0);
    }
    Ok(turns)
}

/// Whole passages, best first, while they fit in `budget` (and taken from it): one that does not
/// fit is left out, and a smaller one after it may still go in. `render` writes passage `n`'s
/// block. Returns the passages given, their blocks, and how many were left out.
fn fit_passages(
    hits: &[Hit],
    budget: &mut usize,
    render: impl Fn(usize, &Citation) -> String,
    mut cost: impl FnMut(&str) -> Result<usize>,
) -> Result<(Vec<Citation>, Vec<String>, usize)> {
    let (mut passages, mut blocks, mut dropped) = (Vec::new(), Vec::new(), 0);
    for hit in hits {
        let n = passages.len() + 1;
        let cite = citation(n, hit, "model");
        let block = render(n, &cite);
        let c = cost(&block)?;
        if c > *budget {
            dropped += 1;
            continue;
        }
        *budget -= c;
        blocks.push(block);
        passages.push(Citation { tokens: c, ..cite });
    }
    Ok((passages, blocks, dropped))
}

/// The citations in `answer`: each valid `[n]` (also `[1, 2]` and `[1][2]`), in order of first use.
/// When the model cited nothing, the passages supporting its clauses are given as its sources,
/// marked `overlap`.
pub(crate) fn cite(answer: &str, passages: &[Citation]) -> Vec<Citation> {
    let mut cited: Vec<usize> = Vec::new();
    for n in cairn_guard::citations(answer) {
        if (1..=passages.len()).contains(&n) && !cited.contains(&n) {
            cited.push(n);
        }
    }
    if cited.is_empty() {
        return overlap_sources(answer, passages);
    }
    cited.into_iter().map(|n| passages[n - 1].clone()).collect()
}

/// For an answer that cites nothing: each clause's best-supporting passage (weighted shared words,
/// numbers counting triple), marked `overlap`, in order of first support.
fn overlap_sources(answer: &str, passages: &[Citation]) -> Vec<Citation> {
    fn words(text: &str) -> std::collections::HashSet<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3 || w.chars().any(|c| c.is_ascii_digit()))
            .map(str::to_lowercase)
            .collect()
    }
    let passage_words: Vec<_> = passages.iter().map(|p| words(&p.text)).collect();
    let mut chosen: Vec<usize> = Vec::new();
    for clause in answer.split(['.', ',', ';', ':', '!', '?', '\n']) {
        let clause_words = words(clause);
        let best = passage_words
            .iter()
            .enumerate()
            .map(|(i, pw)| {
                let score: usize = clause_words
                    .intersection(pw)
                    .map(|w| {
                        if w.chars().any(|c| c.is_ascii_digit()) {
                            3
                        } else {
                            1
                        }
                    })
                    .sum();
                (i, score)
            })
            .filter(|(_, score)| *score >= 3)
            .max_by_key(|(i, score)| (*score, std::cmp::Reverse(*i)));
        if let Some((i, _)) = best
            && !chosen.contains(&i)
        {
            chosen.push(i);
        }
    }
    chosen
        .into_iter()
        .map(|i| Citation {
            cited_by: "overlap",
            ..passages[i].clone()
        })
        .collect()
}

fn citation(n: usize, hit: &Hit, by: &'static str) -> Citation {
    Citation {
        n,
        doc_path: hit.passage.doc_path.clone(),
        page: hit.passage.page,
        chunk_id: hit.passage.chunk_id.clone(),
        heading: hit.passage.heading.clone(),
        text: hit.passage.text.clone(),
        score: hit.score,
        cited_by: by,
        tokens: 0,
    }
}

/// `file.pdf, p. 3` or `notes.md, Heading > Sub`.
pub(crate) fn source_label(c: &Citation) -> String {
    let name = std::path::Path::new(&c.doc_path)
        .file_name()
        .map_or(c.doc_path.clone(), |n| n.to_string_lossy().into_owned());
    match (c.page, c.heading.is_empty()) {
        (Some(p), _) => format!("{name}, p. {p}"),
        (None, false) => format!("{name}, {}", c.heading),
        (None, true) => name,
    }
}

fn fixed(
    template: Template,
    decision: &RouteDecision,
    sources: String,
    closest: Vec<Citation>,
) -> Answer {
    Answer {
        answer: template
            .section("text", &[("sources", &sources)])
            .trim()
            .to_string(),
        citations: Vec::new(),
        route: decision.route,
        route_reason: decision.reason.clone(),
        tier: Tier::Deterministic,
        prompt_version: template.id(),
        tokens_in: 0,
        tokens_out: 0,
        thread_id: 0,
        model: "none".into(),
        closest,
        passages_used: 0,
        passages_dropped: 0,
        truncated: false,
        timings_ms: Timings::default(),
        input_check: None,
        passages_flagged: 0,
        output_check: None,
        provider: "none".into(),
        cost: 0.0,
        model_route: None,
        fallbacks: Vec::new(),
        redacted: 0,
        trace_id: None,
        cache: None,
        review: None,
    }
}

/// What the cache (and the review queue) keep of an answer.
pub(crate) fn cached_form(answer: &Answer) -> CachedAnswer {
    CachedAnswer {
        answer: answer.answer.clone(),
        citations: answer.citations.iter().map(CachedCitation::from).collect(),
        route: answer.route,
        tier: answer.tier,
        prompt_version: answer.prompt_version.clone(),
        model: answer.model.clone(),
        provider: answer.provider.clone(),
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

/// The question without control characters (newlines and tabs kept), trimmed; empty or overlong is
/// an error a person understands.
pub(crate) fn clean_question(question: &str, max_chars: usize) -> Result<String> {
    let cleaned: String = question
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .filter(|c| !injection::is_invisible(*c))
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        return Err(Error::InvalidInput("the question is empty".into()));
    }
    let n = cleaned.chars().count();
    if n > max_chars {
        return Err(Error::InvalidInput(format!(
            "the question is {n} characters long; the limit is {max_chars} (answer.max_question_chars)"
        )));
    }
    Ok(cleaned)
}

pub(crate) fn title(question: &str) -> String {
    let mut t: String = question.chars().take(80).collect();
    if question.chars().count() > 80 {
        t.push('…');
    }
    t
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(n: usize, text: &str) -> Citation {
        Citation {
            n,
            doc_path: format!("/docs/{n}.md"),
            page: None,
            chunk_id: format!("c{n}"),
            heading: String::new(),
            text: text.into(),
            score: 1.0,
            cited_by: "model",
            tokens: 0,
        }
    }

    #[test]
    fn citations_are_read_in_every_common_form_and_invalid_numbers_dropped() {
        let ps = vec![passage(1, "a"), passage(2, "b"), passage(3, "c")];
        let ns = |a: &str| cite(a, &ps).iter().map(|c| c.n).collect::<Vec<_>>();
        assert_eq!(ns("It was 1870 [2]. Also [1, 3]."), vec![2, 1, 3]);
        assert_eq!(ns("See [3][1] and [3]."), vec![3, 1]);
        assert_eq!(ns("Nothing valid [7] [x] [0]"), Vec::<usize>::new());
    }

    #[test]
    fn an_uncited_answer_gets_the_overlapping_passage_marked_as_such() {
        let ps = vec![
            passage(
                1,
                "Skerrow Point lighthouse is still an active aid to navigation.",
            ),
            passage(2, "The Fresnel lens was made in 1870 in Paris."),
            passage(3, "Tides follow the moon."),
        ];
        let c = cite(
            "The Fresnel lens was made in 1870, and Skerrow Point lighthouse is still an active aid.",
            &ps,
        );
        let got: Vec<_> = c.iter().map(|c| (c.n, c.cited_by)).collect();
        assert_eq!(got, vec![(2, "overlap"), (1, "overlap")]);
        assert!(cite("Unrelated words entirely.", &ps).is_empty());
    }

    #[test]
    fn questions_are_cleaned_and_bad_ones_refused_clearly() {
        assert_eq!(
            clean_question("  what\u{0}\u{7} is\u{202E} this?\n", 100).unwrap(),
            "what is this?"
        );
        assert!(
            clean_question(" \u{0} ", 100)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let long = "a".repeat(100_000);
        assert!(
            clean_question(&long, 4000)
                .unwrap_err()
                .to_string()
                .contains("100000 characters")
        );
    }
}
