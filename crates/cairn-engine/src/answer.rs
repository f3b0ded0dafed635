//! Answers: route the question, retrieve, pack passages into the context window, generate with the
//! local model, and map the `[n]` citations back to passages; keep the exchange in its thread.

use std::sync::Arc;
use std::time::Instant;

use cairn_guard::{InjectionReport, OutputReport, check_output, injection};
use cairn_index::Hit;
use cairn_models::Embedder;
use cairn_models::llm::{ChatMessage, ChatModel, GenerateParams, Sampling};
use cairn_store::{CitationRecord, MessageRecord, NewMessage};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ingest::CancelToken;
use crate::library::{DEFAULT_COLLECTION, Library};
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
}

impl AskRequest {
    /// A question about the default collection, in a new thread.
    pub fn new(question: impl Into<String>) -> Self {
        AskRequest {
            question: question.into(),
            collection: DEFAULT_COLLECTION.into(),
            thread: None,
        }
    }
}

/// Which tier produced an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The language model, with retrieval where the route asks for it.
    Primary,
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
    pub async fn ask(
        &self,
        request: &AskRequest,
        on_event: OnAnswerEvent,
        cancel: &CancelToken,
    ) -> Result<Answer> {
        let started = Instant::now();
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
        let history = self.store.messages(thread.id)?;

        // Route.
        let embedder = self.embedder()?;
        let q = question.clone();
        let vector = tokio::task::spawn_blocking(move || embedder.embed(&[q.as_str()]))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??
            .remove(0);
        let decision = self.router.route(&vector);
        let mut timings = Timings {
            route: ms(started),
            ..Timings::default()
        };
        on_event(AnswerEvent::Route(decision.clone()));

        let mut answer = match decision.route {
            _ if input_check.blocked => {
                let mut a = fixed(prompts::REFUSAL, &decision, String::new(), Vec::new());
                a.route = Route::OutOfScope;
                a.route_reason =
                    "the injection check blocked the question (guard.injection.input_policy)"
                        .into();
                a
            }
            Route::OutOfScope => fixed(prompts::REFUSAL, &decision, String::new(), Vec::new()),
            Route::Chitchat => {
                self.generate(
                    prompts::CHITCHAT,
                    &question,
                    &[],
                    &history,
                    &decision,
                    &on_event,
                    cancel,
                    started,
                )
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
                    let mut a = fixed(prompts::NOT_FOUND, &decision, sources, closest);
                    a.route_reason = format!(
                        "{}; best passage similarity {:.2} is below {:.2}",
                        decision.reason,
                        best.max(0.0),
                        self.config.answer.min_score
                    );
                    a
                } else {
                    let template = if decision.route == Route::Analytical {
                        prompts::ANALYTICAL
                    } else {
                        prompts::GROUNDED
                    };
                    self.generate(
                        template, &question, &hits, &history, &decision, &on_event, cancel, started,
                    )
                    .await?
                }
            }
        };
        if answer.tier == Tier::Deterministic {
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
                content: question,
                ..NewMessage::default()
            },
        )?;
        self.store.add_message(
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
                citations: answer
                    .citations
                    .iter()
                    .map(|c| CitationRecord {
                        n: c.n as i64,
                        chunk_id: c.chunk_id.clone(),
                        doc_path: c.doc_path.clone(),
                        page: c.page.map(i64::from),
                        heading: Some(c.heading.clone()).filter(|h| !h.is_empty()),
                        text: c.text.clone(),
                        score: Some(f64::from(c.score)),
                    })
                    .collect(),
            },
        )?;
        Ok(answer)
    }

    /// Runs the chat model on a packed prompt.
    #[allow(clippy::too_many_arguments)]
    async fn generate(
        &self,
        template: Template,
        question: &str,
        hits: &[Hit],
        history: &[MessageRecord],
        decision: &RouteDecision,
        on_event: &OnAnswerEvent,
        cancel: &CancelToken,
        started: Instant,
    ) -> Result<Answer> {
        let model = self.chat_model()?;
        let embedder = self.embedder()?;
        let cfg = self.config.answer.clone();
        let guard = self.config.guard.clone();
        let template_id = template.id();
        let question = question.to_string();
        // Passages are untrusted: each is checked, and what the policy strips never reaches the model.
        let mut passages_flagged = 0;
        let hits: Vec<Hit> = hits
            .iter()
            .filter_map(|h| {
                let report =
                    injection::check(&h.passage.text, guard.injection.passage_policy, usize::MAX);
                if report.flagged() {
                    passages_flagged += 1;
                }
                if report.blocked {
                    return None;
                }
                let mut h = h.clone();
                h.passage.text = report.text;
                Some(h)
            })
            .collect();
        let history = history.to_vec();
        let route = decision.clone();
        let events = on_event.clone();
        let cancel = cancel.clone();
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
            let passage_texts: Vec<&str> =
                packed.passages.iter().map(|p| p.text.as_str()).collect();
            let cache =
                std::cell::RefCell::new(std::collections::HashMap::<String, Vec<f32>>::new());
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
            let similarity = |a: &str, b: &str| -> f32 {
                vector(a).iter().zip(vector(b)).map(|(x, y)| x * y).sum()
            };
            let output_check = check_output(
                &text,
                &passage_texts,
                (!passage_texts.is_empty()).then_some(&similarity as &cairn_guard::Similarity<'_>),
                &guard.output,
            );
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
            })
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        // A failed check replaces what was streamed with the deterministic tier.
        let check = answer
            .output_check
            .clone()
            .unwrap_or_else(|| check_output("", &[], None, &self.config.guard.output));
        let reason = if !check.policy_hits.is_empty() {
            Some(("the answer touched a banned topic", prompts::REFUSAL))
        } else if !check.grounded {
            Some((
                "the answer was not supported by the passages it cites",
                prompts::UNSUPPORTED,
            ))
        } else {
            None
        };
        if let Some((why, fallback)) = reason {
            on_event(AnswerEvent::Retracted { reason: why.into() });
            // The cited passages first, then the best retrieved; each once.
            let mut closest: Vec<Citation> = Vec::new();
            for c in answer.citations.iter().chain(&hits_for_sources) {
                if closest.len() < 3 && closest.iter().all(|k| k.chunk_id != c.chunk_id) {
                    closest.push(c.clone());
                }
            }
            let sources = closest
                .iter()
                .map(|c| format!("- {}", source_label(c)))
                .collect::<Vec<_>>()
                .join("\n");
            let mut fixed_answer = fixed(fallback, decision, sources, closest);
            fixed_answer.route_reason = format!("{}; {why}", decision.reason);
            fixed_answer.tokens_in = answer.tokens_in;
            fixed_answer.tokens_out = answer.tokens_out;
            fixed_answer.passages_used = answer.passages_used;
            fixed_answer.passages_flagged = answer.passages_flagged;
            fixed_answer.output_check = answer.output_check;
            fixed_answer.timings_ms = answer.timings_ms;
            return Ok(fixed_answer);
        }
        Ok(answer)
    }
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

    // Recent turns, newest first, within a quarter of what is left.
    let mut turns: Vec<ChatMessage> = Vec::new();
    let mut history_budget = budget / 4;
    for m in history.iter().rev().take(2 * cfg.history_turns) {
        // Chat-template framing costs a few tokens per turn.
        let cost = count(&m.content)? + 8;
        if cost > history_budget {
            break;
        }
        history_budget -= cost;
        budget -= cost;
        turns.push(ChatMessage::new(&m.role, m.content.clone()));
    }
    // A thread that ends on a question without an answer (a failed turn) must not leave two user
    // turns in a row.
    turns.reverse();
    while turns.first().is_some_and(|m| m.role != "user") {
        turns.remove(0);
    }

    let mut passages = Vec::new();
    let mut blocks = Vec::new();
    let mut dropped = 0;
    for hit in hits {
        let n = passages.len() + 1;
        let cite = citation(n, hit, "model");
        let block = format!(
            "[{n}] ({}) {}",
            source_label(&cite),
            hit.passage.text.trim()
        );
        let cost = count(&block)? + 2;
        if cost > budget {
            dropped += 1;
            continue;
        }
        budget -= cost;
        blocks.push(block);
        passages.push(cite);
    }
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

fn title(question: &str) -> String {
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
