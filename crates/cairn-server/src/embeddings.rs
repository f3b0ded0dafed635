//! `POST /v1/embeddings`: texts embedded by the library's embedding model, through the engine, as
//! floats or base64.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, json_body};
use crate::{EMBEDDING_MODEL, Shared};

/// An embeddings request: the fields Cairn reads.
#[derive(Deserialize)]
pub(crate) struct EmbeddingsRequest {
    model: String,
    input: Input,
    #[serde(default)]
    encoding_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<String>),
}

/// Most texts in one embeddings request.
const MAX_INPUTS: usize = 256;

/// Embeds one text or several, under the model's public name or its own id.
pub(crate) async fn embeddings(
    State(state): State<Shared>,
    body: Result<axum::Json<EmbeddingsRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let request = json_body(body)?;
    let id = state.library.embedding_model_id()?;
    if request.model != EMBEDDING_MODEL && request.model != id {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!(
                "there is no embedding model {:?}: use {EMBEDDING_MODEL:?}",
                request.model
            ),
        ));
    }
    let texts = match request.input {
        Input::One(t) => vec![t],
        Input::Many(ts) => ts,
    };
    if texts.is_empty() || texts.len() > MAX_INPUTS {
        return Err(ApiError::invalid(
            "invalid_input",
            format!("send 1 to {MAX_INPUTS} texts"),
        ));
    }
    let base64 = match request.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "invalid_encoding_format",
                format!("encoding_format {other:?}: use \"float\" or \"base64\""),
            ));
        }
    };
    let tokens: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    let vectors = state.library.embed_texts(texts).await?;
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                Value::from(base64_encode(&bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    Ok(axum::Json(json!({
        "object": "list", "data": data, "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })))
}

/// `bytes` in standard base64, with padding (the form OpenAI's `encoding_format: "base64"` sends:
/// each vector's floats as little-endian bytes).
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
