//! The two wire formats: OpenAI's chat completions (OpenAI, Mistral, vLLM, llama.cpp, Ollama) and
//! Anthropic's messages. Each turns guarded messages into a request body and the streamed events
//! of its answer into [`Delta`]s. No I/O here.

use cairn_guard::Egress;
use serde_json::{Value, json};

use crate::sse::SseEvent;

/// What an event of the stream carries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Delta {
    /// A piece of the answer.
    Text(String),
    /// Token counts, as far as the provider has told them.
    Usage {
        input: Option<u64>,
        output: Option<u64>,
    },
    /// The model stopped on its own (end of turn) or at the length limit.
    Finished { length: bool },
    /// The end of the stream.
    Done,
    /// An error reported inside the stream.
    Error { message: String, overloaded: bool },
}

/// Generation settings sent with a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Longest reply, in tokens.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
}

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    /// OpenAI's chat completions; `usage`: ask for token usage in the stream.
    OpenAi { usage: bool },
    /// Anthropic's messages.
    Anthropic,
}

impl Wire {
    /// The path under the base URL.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Wire::OpenAi { .. } => "/chat/completions",
            Wire::Anthropic => "/messages",
        }
    }

    /// The request body for `model`, built from guarded messages only.
    pub(crate) fn body(self, model: &str, egress: &Egress, params: &Params) -> Value {
        let messages = egress.messages();
        match self {
            Wire::OpenAi { usage } => {
                let mut body = json!({
                    "model": model,
                    "stream": true,
                    "max_tokens": params.max_tokens,
                    "temperature": params.temperature,
                    "messages": messages
                        .iter()
                        .map(|m| json!({"role": m.role, "content": m.content}))
                        .collect::<Vec<_>>(),
                });
                if usage {
                    body["stream_options"] = json!({"include_usage": true});
                }
                body
            }
            Wire::Anthropic => {
                // Anthropic takes the system prompt apart, and turns must alternate starting with
                // the user: consecutive turns of one role are joined.
                let system: Vec<&str> = messages
                    .iter()
                    .filter(|m| m.role == "system")
                    .map(|m| m.content.as_str())
                    .filter(|c| !c.is_empty())
                    .collect();
                let mut turns: Vec<(String, String)> = Vec::new();
                for m in messages.iter().filter(|m| m.role != "system") {
                    let role = if m.role == "assistant" {
                        "assistant"
                    } else {
                        "user"
                    };
                    if turns.is_empty() && role == "assistant" {
                        continue;
                    }
                    match turns.last_mut() {
                        Some((r, text)) if r == role => {
                            text.push_str("\n\n");
                            text.push_str(&m.content);
                        }
                        _ => turns.push((role.to_string(), m.content.clone())),
                    }
                }
                json!({
                    "model": model,
                    "stream": true,
                    "max_tokens": params.max_tokens,
                    "temperature": params.temperature,
                    "system": system.join("\n\n"),
                    "messages": turns
                        .iter()
                        .map(|(role, text)| json!({"role": role, "content": text}))
                        .collect::<Vec<_>>(),
                })
            }
        }
    }

    /// The deltas in one event of the stream. `Err` is the reason the event is malformed.
    pub(crate) fn decode(self, event: &SseEvent) -> Result<Vec<Delta>, String> {
        match self {
            Wire::OpenAi { .. } => decode_openai(event),
            Wire::Anthropic => decode_anthropic(event),
        }
    }
}

fn parse(data: &str) -> Result<Value, String> {
    serde_json::from_str(data).map_err(|e| {
        let shown: String = data.chars().take(120).collect();
        format!("{e} in {shown:?}")
    })
}

fn error_message(v: &Value) -> String {
    v["error"]["message"]
        .as_str()
        .or_else(|| v["error"].as_str())
        .unwrap_or("an error without a message")
        .to_string()
}

fn decode_openai(event: &SseEvent) -> Result<Vec<Delta>, String> {
    let data = event.data.trim();
    if data == "[DONE]" {
        return Ok(vec![Delta::Done]);
    }
    let v = parse(data)?;
    if v.get("error").is_some() {
        return Ok(vec![Delta::Error {
            message: error_message(&v),
            overloaded: false,
        }]);
    }
    let mut out = Vec::new();
    let choices = match v.get("choices") {
        Some(Value::Array(c)) => c.as_slice(),
        Some(Value::Null) | None => &[],
        Some(_) => return Err("'choices' is not a list".into()),
    };
    if let Some(choice) = choices.first() {
        match &choice["delta"]["content"] {
            Value::String(text) if !text.is_empty() => out.push(Delta::Text(text.clone())),
            Value::String(_) | Value::Null => {}
            _ => return Err("'delta.content' is not text".into()),
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            out.push(Delta::Finished {
                length: reason == "length",
            });
        }
    } else if v.get("usage").is_none() {
        return Err("a chunk with neither choices nor usage".into());
    }
    if let Some(usage) = v.get("usage").filter(|u| !u.is_null()) {
        out.push(Delta::Usage {
            input: usage["prompt_tokens"].as_u64(),
            output: usage["completion_tokens"].as_u64(),
        });
    }
    Ok(out)
}

fn decode_anthropic(event: &SseEvent) -> Result<Vec<Delta>, String> {
    let v = parse(event.data.trim())?;
    let kind = v["type"]
        .as_str()
        .or(event.event.as_deref())
        .ok_or("an event without a type")?;
    Ok(match kind {
        "message_start" => {
            let usage = &v["message"]["usage"];
            vec![Delta::Usage {
                input: usage["input_tokens"].as_u64(),
                output: usage["output_tokens"].as_u64(),
            }]
        }
        "content_block_delta" => match v["delta"]["type"].as_str() {
            Some("text_delta") => match v["delta"]["text"].as_str() {
                Some(text) if !text.is_empty() => vec![Delta::Text(text.to_string())],
                Some(_) => Vec::new(),
                None => return Err("a text_delta without text".into()),
            },
            _ => Vec::new(), // tool and thinking deltas are not asked for
        },
        "message_delta" => {
            let mut out = vec![Delta::Usage {
                input: v["usage"]["input_tokens"].as_u64(),
                output: v["usage"]["output_tokens"].as_u64(),
            }];
            if let Some(reason) = v["delta"]["stop_reason"].as_str() {
                out.push(Delta::Finished {
                    length: reason == "max_tokens",
                });
            }
            out
        }
        "message_stop" => vec![Delta::Done],
        "error" => vec![Delta::Error {
            message: error_message(&v),
            overloaded: v["error"]["type"].as_str() == Some("overloaded_error"),
        }],
        // ping, content_block_start, content_block_stop
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_guard::{Guard, Outbound};

    fn egress() -> Egress {
        let mut guard = Guard::default();
        guard
            .prepare(&Outbound {
                system: "Answer from the passages.".into(),
                history: vec![
                    ("user".into(), "Earlier question".into()),
                    ("assistant".into(), "Earlier answer".into()),
                ],
                passages: vec!["The lens was made in 1870.".into()],
                question: "When was the lens made?".into(),
            })
            .unwrap()
            .0
    }

    fn event(data: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: data.into(),
        }
    }

    const PARAMS: Params = Params {
        max_tokens: 200,
        temperature: 0.0,
    };

    #[test]
    fn openai_requests_carry_every_guarded_message_and_ask_for_usage() {
        let body = Wire::OpenAi { usage: true }.body("gpt-4o-mini", &egress(), &PARAMS);
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        let roles: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert!(
            body["messages"][3]["content"]
                .as_str()
                .unwrap()
                .contains("<passage n=\"1\">")
        );
        let plain = Wire::OpenAi { usage: false }.body("m", &egress(), &PARAMS);
        assert!(plain.get("stream_options").is_none());
    }

    #[test]
    fn anthropic_requests_take_the_system_prompt_apart() {
        let body = Wire::Anthropic.body("claude", &egress(), &PARAMS);
        assert_eq!(body["system"], "Answer from the passages.");
        assert_eq!(body["max_tokens"], 200);
        let roles: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
    }

    #[test]
    fn openai_stream_events() {
        let w = Wire::OpenAi { usage: true };
        assert_eq!(
            w.decode(&event(
                r#"{"choices":[{"index":0,"delta":{"content":"It was "},"finish_reason":null}]}"#
            ))
            .unwrap(),
            [Delta::Text("It was ".into())]
        );
        assert_eq!(
            w.decode(&event(
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#
            ))
            .unwrap(),
            [Delta::Finished { length: true }]
        );
        assert_eq!(
            w.decode(&event(
                r#"{"choices":[],"usage":{"prompt_tokens":120,"completion_tokens":9}}"#
            ))
            .unwrap(),
            [Delta::Usage {
                input: Some(120),
                output: Some(9)
            }]
        );
        assert_eq!(w.decode(&event("[DONE]")).unwrap(), [Delta::Done]);
        assert!(matches!(
            w.decode(&event(r#"{"error":{"message":"overloaded"}}"#))
                .unwrap()[0],
            Delta::Error { .. }
        ));
        assert!(
            w.decode(&event(r#"{"choices":[{"delta":{"content":"x"#))
                .is_err()
        );
        assert!(w.decode(&event(r#"{"id":"x"}"#)).is_err());
    }

    #[test]
    fn anthropic_stream_events() {
        let w = Wire::Anthropic;
        assert_eq!(
            w.decode(&event(r#"{"type":"message_start","message":{"usage":{"input_tokens":50,"output_tokens":1}}}"#))
                .unwrap(),
            [Delta::Usage { input: Some(50), output: Some(1) }]
        );
        assert_eq!(
            w.decode(&event(r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"In 1870."}}"#))
                .unwrap(),
            [Delta::Text("In 1870.".into())]
        );
        assert_eq!(
            w.decode(&event(r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}"#))
                .unwrap(),
            [Delta::Usage { input: None, output: Some(12) }, Delta::Finished { length: false }]
        );
        assert_eq!(
            w.decode(&event(r#"{"type":"message_stop"}"#)).unwrap(),
            [Delta::Done]
        );
        assert!(w.decode(&event(r#"{"type":"ping"}"#)).unwrap().is_empty());
        assert_eq!(
            w.decode(&event(
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ))
            .unwrap(),
            [Delta::Error {
                message: "Overloaded".into(),
                overloaded: true
            }]
        );
        assert!(w.decode(&event("not json")).is_err());
    }
}
