//! `GET /v1/models`, and which collection a model name asks about.

use axum::extract::State;
use axum::http::StatusCode;
use cairn_engine::{DEFAULT_COLLECTION, Library};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::{EMBEDDING_MODEL, MODEL_PREFIX, Shared};

/// `cairn`, `cairn/<collection>` for every other collection, and the embedding model.
pub(crate) async fn models(State(state): State<Shared>) -> Result<axum::Json<Value>, ApiError> {
    let model =
        |id: String| json!({"id": id, "object": "model", "created": 0, "owned_by": "cairn"});
    let mut data = vec![model(MODEL_PREFIX.into())];
    for c in state.library.collections()? {
        if c.name != DEFAULT_COLLECTION {
            data.push(model(format!("{MODEL_PREFIX}/{}", c.name)));
        }
    }
    data.push(model(EMBEDDING_MODEL.into()));
    Ok(axum::Json(json!({"object": "list", "data": data})))
}

/// The collection a model name asks about.
pub(crate) fn collection(library: &Library, model: &str) -> Result<String, ApiError> {
    let name = match model.split_once('/') {
        None if model == MODEL_PREFIX => DEFAULT_COLLECTION.to_string(),
        Some((MODEL_PREFIX, name)) if !name.is_empty() => name.to_string(),
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "model_not_found",
                format!("there is no model {model:?}: use \"cairn\" or \"cairn/<collection>\""),
            ));
        }
    };
    if library.collections()?.iter().all(|c| c.name != name) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!("there is no collection {name:?} for the model {model:?}"),
        ));
    }
    Ok(name)
}
