//! Cloud and OpenAI-compatible chat models.
//!
//! This is the only crate that opens network connections, and it sends nothing but
//! [`cairn_guard::Egress`]: text the guard has checked and redacted. [`Provider`] speaks OpenAI's
//! chat completions (OpenAI, Mistral, and any compatible server: vLLM, llama.cpp, Ollama) or
//! Anthropic's messages, streams the answer ([`sse`] parses it across any chunk boundary), reads
//! token usage, and is patient within limits: timeouts for connecting, the first token and the
//! whole answer; retries with backoff on 429 and 5xx honouring `Retry-After`; a per-provider rate
//! limit; a circuit breaker that rests a provider after repeated failures. Keys live in the OS
//! keychain ([`Keychain`], from `cairn-keychain`, re-exported here); an [`ApiKey`] never prints
//! itself.
//!
//! ```no_run
//! # async fn demo(egress: cairn_guard::Egress) -> Result<(), cairn_providers::ProviderError> {
//! use cairn_providers::{Keychain, Params, Provider, ProviderConfig};
//!
//! let config: ProviderConfig = toml::from_str(
//!     "name = \"openai\"\nkind = \"openai\"\nmodels = [{ id = \"gpt-4o-mini\", tier = \"mid\" }]",
//! ).unwrap();
//! let provider = Provider::new(config, Keychain::default())?;
//! let params = Params { max_tokens: 256, temperature: 0.0 };
//! let done = provider
//!     .complete("gpt-4o-mini", &egress, &params, &mut |piece| print!("{piece}"), &Default::default())
//!     .await?;
//! println!("\n{} tokens in, {} out", done.usage.input_tokens, done.usage.output_tokens);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod client;
mod config;
mod error;
pub mod sse;
#[cfg(feature = "test-support")]
pub mod test_support;
mod wire;

pub use cairn_keychain::{ApiKey, Keychain, KeychainError, SERVICE};
pub use client::{Completion, Provider, Usage};
pub use config::{
    BreakerConfig, KeySource, ModelConfig, ModelTier, ProviderConfig, ProviderKind, RetryConfig,
    Timeouts,
};
pub use error::{ProviderError, TimeoutStage};
pub use wire::Params;
