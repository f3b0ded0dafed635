//! `POST /v1/chat/completions`: the last user message asked of the collection the model names, as
//! a follow-up to the earlier turns, answered whole or streamed as server-sent events, with its
//! citations and how it was made.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use cairn_engine::{Answer, AnswerEvent, AskRequest, CancelToken};
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::Shared;
use crate::error::{ApiError, json_body};
use crate::models::collection;
use crate::sanitize::{LineGate, strip_remote};

/// A chat completions request: the fields Cairn reads.
#[derive(Deserialize)]
pub(crate) struct ChatRequest {
    model: String,
    messages: Vec<ChatMessage>,
    #[serde(default)]
    stream: bool,
    /// Cairn's own field: ask about this document only (its path or file name).
    #[serde(default)]
    document: Option<String>,
    /// Cairn's own options.
    #[serde(default)]
    cairn: CairnOptions,
}

/// `"cairn": {…}` in a request.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CairnOptions {
    #[serde(default)]
    delivery: Delivery,
}

/// When a streamed answer's text is sent.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Delivery {
    /// Once the answer has passed its output checks: nothing is ever withdrawn from the client.
    #[default]
    Checked,
    /// As the model writes it, a line at a time; an answer that then fails its checks is withdrawn
    /// (`[withdrawn: …]`) and replaced.
    Live,
}

#[derive(Deserialize)]
struct ChatMessage {
    role: String,
    #[serde(default)]
    content: Option<Content>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
}

impl Content {
    fn text(&self) -> String {
        match self {
            Content::Text(t) => t.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter_map(|p| p.text.as_deref())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// Asks the last user message, as a follow-up to the earlier turns when there are any.
pub(crate) async fn chat(
    State(state): State<Shared>,
    body: Result<axum::Json<ChatRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let request = json_body(body)?;
    let collection = collection(&state.library, &request.model)?;
    let last = request
        .messages
        .iter()
        .rposition(|m| m.role == "user")
        .ok_or_else(|| ApiError::invalid("no_question", "the messages hold no user message"))?;
    // Addresses the person wrote: images and links to them may stay in the answer.
    let allowed: Arc<Vec<String>> = Arc::new(
        request
            .messages
            .iter()
            .filter(|m| m.role == "user")
            .filter_map(|m| Some(m.content.as_ref()?.text()))
            .collect(),
    );
    let question = request.messages[last]
        .content
        .as_ref()
        .map(Content::text)
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("no_question", "the last user message is empty"))?;
    // Earlier user and assistant turns are the conversation so far: the question is asked as a
    // follow-up in a thread that holds them. System messages are not passed on: the library's
    // own prompt governs the answer.
    let history: Vec<(String, String)> = request.messages[..last]
        .iter()
        .filter(|m| m.role == "user" || m.role == "assistant")
        .filter_map(|m| Some((m.role.clone(), m.content.as_ref()?.text())))
        .filter(|(_, text)| !text.trim().is_empty())
        .collect();
    let thread = if history.is_empty() {
        None
    } else {
        Some(state.library.start_thread(&collection, &history)?)
    };
    let ask = AskRequest {
        question,
        collection,
        thread,
        policy: None,
        document: request.document.clone(),
    };
    let id = format!("chatcmpl-{}", now_nanos());
    if !request.stream {
        let answer = state
            .library
            .ask(&ask, Arc::new(|_| {}), &CancelToken::new())
            .await?;
        return Ok(axum::Json(completion(&id, &request.model, &answer, &allowed)).into_response());
    }
    Ok(stream(
        state,
        ask,
        id,
        request.model,
        request.cairn.delivery,
        allowed,
    )
    .into_response())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// What every completion adds to OpenAI's shape: the passages cited and how it was made.
fn extras(answer: &Answer) -> (Value, Value) {
    let citations: Vec<Value> = answer
        .citations
        .iter()
        .map(|c| {
            json!({"n": c.n, "doc_path": c.doc_path, "page": c.page, "heading": c.heading,
                   "chunk_id": c.chunk_id, "text": c.text})
        })
        .collect();
    let cairn = json!({
        "trace_id": answer.trace_id, "route": answer.route, "tier": answer.tier,
        "provider": answer.provenance.label(), "model": answer.model,
        "prompt_version": answer.prompt_version, "cached": answer.cache.is_some(),
        "thread_id": answer.thread_id,
        "review": answer.review.as_ref().map(|r| json!({"id": r.id, "reason": r.reason})),
    });
    (Value::Array(citations), cairn)
}

fn finish_reason(answer: &Answer) -> &'static str {
    if answer.truncated { "length" } else { "stop" }
}

fn usage(answer: &Answer) -> Value {
    json!({"prompt_tokens": answer.tokens_in, "completion_tokens": answer.tokens_out,
           "total_tokens": answer.tokens_in + answer.tokens_out})
}

fn completion(id: &str, model: &str, answer: &Answer, allowed: &[String]) -> Value {
    let (citations, cairn) = extras(answer);
    json!({
        "id": id, "object": "chat.completion", "created": now(), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": strip_remote(&answer.answer, allowed)},
                     "finish_reason": finish_reason(answer), "logprobs": null}],
        "usage": usage(answer), "citations": citations, "cairn": cairn,
    })
}

/// A streamed answer, `delivery` deciding when its text goes: checked (the default), the answer
/// that passed its checks, in pieces; live, each line as it is written (a withdrawn answer is said
/// to be withdrawn before its replacement). Either way without remote images or links the person
/// did not write. The last chunk has the finish reason, usage and citations; then `[DONE]`. A
/// client that goes away stops the answer.
fn stream(
    state: Shared,
    ask: AskRequest,
    id: String,
    model: String,
    delivery: Delivery,
    allowed: Arc<Vec<String>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::unbounded_channel::<Value>();
    let cancel = CancelToken::new();
    let chunk = {
        let (id, model) = (id.clone(), model.clone());
        move |delta: Value, finish: Option<&str>| {
            json!({"id": id, "object": "chat.completion.chunk", "created": now(), "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}]})
        }
    };
    let _ = tx.send(chunk(json!({"role": "assistant", "content": ""}), None));
    let gate = Arc::new(Mutex::new(LineGate::default()));
    let send_text = {
        let (tx, cancel, chunk) = (tx.clone(), cancel.clone(), chunk.clone());
        move |text: String| {
            if !text.is_empty() && tx.send(chunk(json!({"content": text}), None)).is_err() {
                cancel.cancel();
            }
        }
    };
    let events: cairn_engine::OnAnswerEvent = match delivery {
        // Nothing before the checks; a client that went away stops the answer all the same.
        Delivery::Checked => {
            let (tx, cancel) = (tx.clone(), cancel.clone());
            Arc::new(move |_| {
                if tx.is_closed() {
                    cancel.cancel();
                }
            })
        }
        Delivery::Live => {
            let (gate, allowed, send_text) = (gate.clone(), allowed.clone(), send_text.clone());
            Arc::new(move |event: AnswerEvent| match event {
                AnswerEvent::Text { text } => {
                    let lines = lock(&gate).push(&text, &allowed);
                    send_text(lines);
                }
                AnswerEvent::Retracted { reason } => {
                    // The part of a line not yet sent is withdrawn with the rest.
                    *lock(&gate) = LineGate::default();
                    send_text(format!("\n\n[withdrawn: {reason}]\n\n"));
                }
                _ => {}
            })
        }
    };
    tokio::spawn(async move {
        match state.library.ask(&ask, events, &cancel).await {
            Ok(answer) => {
                match delivery {
                    Delivery::Checked => {
                        for piece in pieces(&strip_remote(&answer.answer, &allowed)) {
                            send_text(piece.to_string());
                        }
                    }
                    Delivery::Live => send_text(lock(&gate).finish(&allowed)),
                }
                let (citations, cairn) = extras(&answer);
                let mut last = chunk(json!({}), Some(finish_reason(&answer)));
                last["usage"] = usage(&answer);
                last["citations"] = citations;
                last["cairn"] = cairn;
                let _ = tx.send(last);
            }
            Err(e) => {
                let _ = tx.send(
                    json!({"error": {"message": e.to_string(), "type": "server_error",
                                                  "code": e.code()}}),
                );
            }
        }
    });
    let stream = futures::stream::unfold((rx, false), |(mut rx, done)| async move {
        if done {
            return None;
        }
        match rx.recv().await {
            Some(value) => Some((Ok(Event::default().data(value.to_string())), (rx, false))),
            None => Some((Ok(Event::default().data("[DONE]")), (rx, true))),
        }
    });
    Sse::new(stream)
}

/// A checked answer cut into pieces of a few words, for clients that show text as it arrives.
fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices(' ') {
        if i + 1 - start >= 48 {
            out.push(&text[start..=i]);
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
