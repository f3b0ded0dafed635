//! Answers: a question is cleaned and checked, looked up in the answer cache, routed, answered by
//! the path its route takes, and kept in its thread, with one trace of how.
//!
//! The seam: every model that answers returns one [`turn::Generation`] (local: `local.rs`, cloud:
//! `cloud.rs`, walked in order by the fallback chain in `fallback.rs`), and one shared tail
//! (`finish.rs`) cites it, checks it and builds the [`Answer`]. Fixed answers come from `fixed.rs`,
//! answers from the cache from `cached.rs`. Events reach the caller only through `events.rs`, in
//! the order written there.
//!
//! ```text
//! ask ─▶ clean + injection check ─▶ thread ─▶ cache (same words)
//!     ─▶ route (embedding) ─▶ model route ─▶ cache (close meaning)
//!     ─▶ refused / small talk / search ─▶ nothing relevant │ respond (fallback chain ─▶ finish)
//!     ─▶ saved in its thread ─▶ kept in the cache ─▶ one trace
//! ```

pub(crate) mod cached;
pub(crate) mod citation;
pub(crate) mod cloud;
pub(crate) mod condense;
pub(crate) mod document;
pub(crate) mod events;
pub(crate) mod fallback;
pub(crate) mod finish;
pub(crate) mod fixed;
pub(crate) mod local;
pub(crate) mod named;
pub(crate) mod overview;
pub(crate) mod prompt;
pub(crate) mod question;
pub(crate) mod quoted;
pub(crate) mod relevance;
pub(crate) mod routing;
pub(crate) mod thread;
pub(crate) mod trace;
pub(crate) mod turn;
pub(crate) mod value;

use std::time::Instant;

use cairn_guard::injection;
use cairn_store::Tier;

use crate::answer::cached::Lookup;
use crate::answer::document::DocumentRequest;
use crate::answer::events::Events;
use crate::answer::fixed::fixed;
use crate::answer::question::{clean_question, title};
use crate::answer::trace::{CacheKey, CandidateTrace, Draft};
use crate::answer::turn::{Facts, Turn};
use crate::answer::value::{Answer, AskRequest, OnAnswerEvent, ReviewNote, Timings};
use crate::cache::CacheTrace;
use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::prompts;
use crate::router::Route;

impl Library {
    /// Answers a question from the collection, streaming [`crate::AnswerEvent`]s, and saves the
    /// exchange in its thread. `cancel` stops generation; what was generated so far is kept, marked
    /// truncated. Every question, answered or failed, leaves one trace (`Answer::trace_id`).
    pub async fn ask(
        &self,
        request: &AskRequest,
        on_event: OnAnswerEvent,
        cancel: &CancelToken,
    ) -> Result<Answer> {
        let started = Instant::now();
        let mut draft = Draft::new(&self.config.cache);
        let events = Events::new(on_event);
        let result = self
            .answer_question(request, &events, cancel, &mut draft, started)
            .await;
        // Kept before the trace is written, so that the trace says what became of it; the entry
        // learns its trace's id after.
        if let (Some(key), Ok(answer)) = (draft.cache_key.take(), &result) {
            self.keep_in_cache(&request.collection, &key, answer, &mut draft.cache);
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

    async fn answer_question(
        &self,
        request: &AskRequest,
        events: &Events,
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
        } else if request.document.is_some() {
            Some("the question is about one document")
        } else if self.is_shared(&request.collection)? {
            // Other libraries change it without this one's records knowing: a kept answer
            // could not tell that its sources changed.
            Some("the collection is shared")
        } else {
            None
        };
        let cache_open = self.config.cache.enabled && closed.is_none();
        if let (true, Some(why)) = (self.config.cache.enabled, closed) {
            draft.cache.reason = Some(why.into());
        }
        // The embedding model loads here whatever the path: routing needs it.
        let embedder_id = self.embedding_model_id()?;
        let mut lookup = Lookup {
            collection: &request.collection,
            question: &question,
            embedder_id: &embedder_id,
            vector: None,
            thread_id: thread.id,
            input_check: &input_check,
        };
        let exact = if cache_open {
            self.cached_answer(&lookup, draft, events)?
        } else {
            None
        };
        let mut offline_copy = None;
        let mut answer = 'answer: {
            if let Some(hit) = exact {
                break 'answer hit;
            }
            let (vector, decision) = self.route(&question).await?;
            timings.route = ms(started);
            events.route(&decision);
            draft.route = Some(decision.clone());
            let policy = request.policy.unwrap_or(self.config.router.policy);
            let model_route = self.route_model(policy, &vector, &question)?;

            let is_question = matches!(decision.route, Route::Factual | Route::Analytical);
            if cache_open && is_question && !input_check.blocked {
                lookup.vector = Some(&vector);
                if let Some(hit) = self.cached_answer(&lookup, draft, events)? {
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
            let facts = Facts {
                thread_id: thread.id,
                decision,
                input_check: input_check.clone(),
                model_route: Some(model_route.clone()),
            };
            let turn = |template| Turn {
                facts: &facts,
                template,
                question: &question,
                history: &history,
                events,
                cancel,
                started,
            };
            match facts.decision.route {
                _ if input_check.blocked => Answer {
                    route: Route::OutOfScope,
                    route_reason:
                        "the injection check blocked the question (guard.injection.input_policy)"
                            .into(),
                    ..fixed(&facts, self.template(prompts::REFUSAL), "", Vec::new())
                },
                Route::OutOfScope => fixed(&facts, self.template(prompts::REFUSAL), "", Vec::new()),
                Route::Chitchat => {
                    self.respond(&turn(self.template(prompts::CHITCHAT)), &[], &model_route)
                        .await?
                }
                route
                    if request.document.is_some()
                        || (route == Route::Document
                            && self.reads_whole(
                                &question,
                                &request.collection,
                                facts.decision.confidence,
                            )?) =>
                {
                    let about = DocumentRequest {
                        collection: &request.collection,
                        picked: request.document.as_deref(),
                        vector: &vector,
                        model_route: &model_route,
                    };
                    let answer = self
                        .answer_document(&turn(self.template(prompts::DOCUMENT)), &about)
                        .await?;
                    timings.retrieve = ms(started) - timings.route;
                    answer
                }
                Route::Factual | Route::Analytical | Route::Document => {
                    let found = self.search_for(&question, &request.collection).await?;
                    offline_copy = found.offline_copy;
                    let hits = found.hits;
                    draft.candidates = hits.iter().map(CandidateTrace::from).collect();
                    timings.retrieve = ms(started) - timings.route;
                    let min_score = self.config.answer.min_score;
                    let relevance = relevance::judge(&question, &hits, min_score);
                    if !relevance.relevant {
                        self.nothing_found(
                            &turn(self.template(prompts::NOT_FOUND)),
                            &hits,
                            &relevance,
                        )
                    } else {
                        let template =
                            self.template(if facts.decision.route == Route::Analytical {
                                prompts::ANALYTICAL
                            } else {
                                prompts::GROUNDED
                            });
                        self.respond(&turn(template), &hits, &model_route).await?
                    }
                }
            }
        };
        if answer.tier == Tier::Deterministic && answer.cache.is_none() {
            events.text(answer.answer.clone());
        }
        timings.first_token = if answer.timings_ms.first_token > 0.0 {
            answer.timings_ms.first_token
        } else {
            ms(started)
        };
        timings.total = ms(started);
        answer.timings_ms = timings;
        answer.offline_copy = offline_copy;
        self.save_exchange(&request.collection, &question, &mut answer)?;
        Ok(answer)
    }

    /// The version of `default`'s template the config picks (`[prompts]`), or `default`.
    pub(crate) fn template(&self, default: prompts::Template) -> prompts::Template {
        self.config
            .prompts
            .get(default.name)
            .and_then(|version| prompts::find(default.name, version))
            .unwrap_or(default)
    }
}

/// Milliseconds since `since`.
fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}
