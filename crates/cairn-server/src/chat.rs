//! `POST /v1/chat/completions`: the last user message asked of the collection the model names, as
//! a follow-up to the earlier turns, answered whole or streamed as server-sent events, with its
//! citations and how it was made.

use std::convert::Infallible;
use std::sync::Arc;
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
        return Ok(axum::Json(completion(&id, &request.model, &answer)).into_response());
    }
    Ok(stream(state, ask, id, request.model).into_response())
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

fn completion(id: &str, model: &str, answer: &Answer) -> Value {
    let (citations, cairn) = extras(answer);
    json!({
        "id": id, "object": "chat.completion", "created": now(), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                     "finish_reason": finish_reason(answer), "logprobs": null}],
        "usage": usage(answer), "citations": citations, "cairn": cairn,
    })
}

/// A streamed answer: a chunk per piece of text; a withdrawn answer is said to be withdrawn before
/// its replacement; the last chunk has the finish reason, usage and citations; then `[DONE]`.
/// A client that goes away stops the answer.
fn stream(
    state: Shared,
    ask: AskRequest,
    id: String,
    model: String,
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
    let events = {
        let (tx, cancel, chunk) = (tx.clone(), cancel.clone(), chunk.clone());
        Arc::new(move |event: AnswerEvent| {
            let text = match event {
                AnswerEvent::Text { text } => text,
                AnswerEvent::Retracted { reason } => format!("\n\n[withdrawn: {reason}]\n\n"),
                _ => return,
            };
            if tx.send(chunk(json!({"content": text}), None)).is_err() {
                cancel.cancel();
            }
        })
    };
    tokio::spawn(async move {
        match state.library.ask(&ask, events, &cancel).await {
            Ok(answer) => {
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
