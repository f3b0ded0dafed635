//! Engine errors as the UI shows them: the engine's stable code, and a sentence a person can act on.

use crate::api::ApiError;

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// A request the UI should not have sent as it is (an empty name, an unknown collection, …).
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new("invalid_input", message)
    }

    /// The operation must wait for indexing or an answer to finish.
    pub fn busy(message: impl Into<String>) -> ApiError {
        ApiError::new("busy", message)
    }

    /// A bug or a lost background task: nothing the person did.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new("internal", message)
    }
}

impl From<cairn_engine::Error> for ApiError {
    fn from(error: cairn_engine::Error) -> ApiError {
        let code = error.code();
        let message = match (&error, code) {
            (cairn_engine::Error::NoModel { what, tried, .. }, _) => format!(
                "The {what} model could not be found (looked in {tried}). Choose one in Settings, \
                 or reinstall Cairn to restore the bundled models."
            ),
            (_, "model_mismatch") => format!(
                "{error}. Re-index the collection (Library, Re-index) to rebuild it with the \
                 current model."
            ),
            _ => error.to_string(),
        };
        ApiError::new(code, message)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> ApiError {
        ApiError::internal(format!("a background task stopped: {error}"))
    }
}
