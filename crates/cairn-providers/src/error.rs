//! Why a request to a provider failed, and whether trying again can help.

use std::time::Duration;

/// The stage a timeout hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutStage {
    /// Opening the connection.
    Connect,
    /// Waiting for the first piece of the answer.
    FirstToken,
    /// The whole answer.
    Total,
}

/// A failed request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// A timeout.
    #[error("{provider} timed out ({stage:?})")]
    Timeout {
        /// The provider.
        provider: String,
        /// Where.
        stage: TimeoutStage,
    },
    /// 429: too many requests, after the retries allowed.
    #[error("{provider} is rate limiting requests (429){}", retry_after.map(|d| format!("; it asks to wait {:.0} s", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The provider.
        provider: String,
        /// How long the provider asked to wait.
        retry_after: Option<Duration>,
    },
    /// A 5xx answer (or an overloaded error in the stream).
    #[error("{provider} failed ({status}): {message}")]
    Server {
        /// The provider.
        provider: String,
        /// HTTP status.
        status: u16,
        /// What it said.
        message: String,
    },
    /// A 4xx answer other than 429: a wrong key, an unknown model, a request it refuses.
    #[error("{provider} refused the request ({status}): {message}")]
    Rejected {
        /// The provider.
        provider: String,
        /// HTTP status.
        status: u16,
        /// What it said.
        message: String,
    },
    /// The answer was not in the provider's format.
    #[error("{provider} sent a malformed answer: {detail}")]
    Malformed {
        /// The provider.
        provider: String,
        /// What was wrong.
        detail: String,
    },
    /// The stream stopped before its end, after some of the answer had arrived.
    #[error("{provider}'s answer broke off after {chars} characters")]
    StreamBroken {
        /// The provider.
        provider: String,
        /// Characters received before the break.
        chars: usize,
    },
    /// The connection could not be made or was lost.
    #[error("{provider} could not be reached: {detail}")]
    Network {
        /// The provider.
        provider: String,
        /// The cause.
        detail: String,
    },
    /// The provider failed too often lately; it is not asked again until the cooldown ends.
    #[error("{provider} is paused after repeated failures; it will be tried again in {:.0} s", retry_in.as_secs_f64())]
    CircuitOpen {
        /// The provider.
        provider: String,
        /// Time left in the cooldown.
        retry_in: Duration,
    },
    /// The provider needs a key and the keychain holds none.
    #[error(
        "no API key for {provider} in the keychain: run `cairn keys set {provider}` or add it in Settings"
    )]
    NoKey {
        /// The provider.
        provider: String,
    },
    /// The keychain could not be used.
    #[error(transparent)]
    Keychain(#[from] cairn_keychain::KeychainError),
    /// The provider is not configured, or its config cannot work.
    #[error("{0}")]
    Config(String),
}

impl ProviderError {
    /// A stable, machine-readable identifier.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::Server { .. } => "server_error",
            ProviderError::Rejected { .. } => "rejected",
            ProviderError::Malformed { .. } => "malformed",
            ProviderError::StreamBroken { .. } => "stream_broken",
            ProviderError::Network { .. } => "network",
            ProviderError::CircuitOpen { .. } => "circuit_open",
            ProviderError::NoKey { .. } => "no_key",
            ProviderError::Keychain(_) => "keychain",
            ProviderError::Config(_) => "provider_config",
        }
    }

    /// Whether the same request may succeed if sent again (before any of the answer arrived).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server { .. }
                | ProviderError::Network { .. }
                | ProviderError::Timeout {
                    stage: TimeoutStage::Connect,
                    ..
                }
        )
    }

    /// Whether this counts against the provider's health (the circuit breaker).
    pub(crate) fn counts_as_failure(&self) -> bool {
        !matches!(
            self,
            ProviderError::CircuitOpen { .. }
                | ProviderError::NoKey { .. }
                | ProviderError::Keychain(_)
                | ProviderError::Config(_)
        )
    }
}
