//! Errors: why the server could not start, and a request's error in OpenAI's shape
//! (`{"error": {"message", "type", "code"}}`).

use std::net::{IpAddr, SocketAddr};

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address is not on this device.
    #[error(
        "{0} is not a loopback address: the local API listens only on this device (127.0.0.1 or ::1)"
    )]
    NotLoopback(IpAddr),
    /// Nothing could listen there.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The token could not be read from or kept in the keychain.
    #[error("the API token could not be kept in the OS keychain: {0}")]
    Keychain(String),
}

/// A request's error, as the response says it.
pub(crate) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        kind: &'static str,
        code: &'static str,
        message: String,
    ) -> Self {
        ApiError {
            status,
            kind,
            code,
            message,
        }
    }

    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message.into(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "message": self.message, "type": self.kind, "code": self.code, "param": null,
        }});
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<cairn_engine::Error> for ApiError {
    fn from(e: cairn_engine::Error) -> Self {
        let status = match e.code() {
            "invalid_input" => StatusCode::BAD_REQUEST,
            "no_such_collection" => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let kind = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "server_error"
        } else {
            "invalid_request_error"
        };
        ApiError::new(status, kind, e.code(), e.to_string())
    }
}

pub(crate) async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "not_found",
        format!("{method} {uri} is not part of this API (see /v1/models)"),
    )
}

/// A JSON body, or the error that says why it is not one (too large, or not the expected JSON).
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<axum::Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|b| b.0).map_err(|e| {
        let status = e.status();
        let message = e.body_text();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "invalid_request_error",
                "request_too_large",
                "the request is larger than api.max_body_bytes".into(),
            )
        } else {
            ApiError::invalid("invalid_json", message)
        }
    })
}
