//! What a provider is, in `config.toml`: its kind and address, its models with their tier and
//! prices, and how patient to be with it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The wire format and the default address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// OpenAI's chat completions API.
    Openai,
    /// Anthropic's messages API.
    Anthropic,
    /// Mistral's chat completions API (OpenAI's wire format).
    Mistral,
    /// Any server speaking OpenAI's chat completions: vLLM, llama.cpp's server, Ollama, …
    OpenaiCompatible,
}

impl ProviderKind {
    /// The address used when `base_url` is not set.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ProviderKind::Openai => Some("https://api.openai.com/v1"),
            ProviderKind::Anthropic => Some("https://api.anthropic.com/v1"),
            ProviderKind::Mistral => Some("https://api.mistral.ai/v1"),
            ProviderKind::OpenaiCompatible => None,
        }
    }
}

/// Which tier a model serves: the router sends a question of that complexity to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelTier {
    /// A mid-size model: cheap and quick, good at summaries and short reasoning.
    Mid,
    /// A large model: for multi-step reasoning, synthesis and code.
    Large,
}

/// A model a provider serves, and what it costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model's name in the provider's API (`gpt-4o-mini`, `claude-sonnet-4-5`, …).
    pub id: String,
    /// The tier it serves.
    pub tier: ModelTier,
    /// US dollars per million prompt tokens.
    #[serde(default)]
    pub input_per_mtok: f64,
    /// US dollars per million generated tokens.
    #[serde(default)]
    pub output_per_mtok: f64,
}

impl ModelConfig {
    /// What `input` prompt tokens and `output` generated tokens cost, in dollars.
    pub fn cost(&self, input: u64, output: u64) -> f64 {
        (input as f64 * self.input_per_mtok + output as f64 * self.output_per_mtok) / 1e6
    }
}

/// Where the API key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// The OS keychain, under the provider's name (`cairn keys set NAME`).
    Keychain,
    /// No key: a local server that asks for none.
    None,
}

/// How long to wait. Seconds, as in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// To open the connection.
    pub connect_secs: f64,
    /// From sending the request to the first piece of the answer (a loaded server is slow here).
    pub first_token_secs: f64,
    /// For the whole answer, retries included.
    pub total_secs: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect_secs: 5.0,
            first_token_secs: 30.0,
            total_secs: 120.0,
        }
    }
}

/// Retries of a request that failed before any of its answer arrived (429, 5xx, a dropped
/// connection), with exponential backoff, or the server's `Retry-After` when it gives one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff, doubled at each retry.
    pub base_ms: u64,
    /// The longest wait between two attempts, `Retry-After` included.
    pub max_backoff_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 2,
            base_ms: 500,
            max_backoff_ms: 10_000,
        }
    }
}

/// After this many failed requests in a row, the provider is not asked again until the cooldown
/// has passed (a circuit breaker): a provider that is down costs one quick refusal, not a timeout
/// per question.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Failed requests in a row that open the breaker.
    pub failures: u32,
    /// Seconds before a request is tried again.
    pub cooldown_secs: f64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failures: 3,
            cooldown_secs: 60.0,
        }
    }
}

/// One cloud or OpenAI-compatible provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Its name: the keychain entry and what answers and the spend table call it.
    pub name: String,
    /// Its wire format.
    pub kind: ProviderKind,
    /// The API's address; the kind's default when unset (required for `openai-compatible`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Where the key comes from; the keychain unless the kind is `openai-compatible`.
    #[serde(default)]
    pub key: Option<KeySource>,
    /// Its models.
    pub models: Vec<ModelConfig>,
    /// How long to wait.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Retries.
    #[serde(default)]
    pub retry: RetryConfig,
    /// The circuit breaker.
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// Requests per minute sent to it at most (0: no limit).
    #[serde(default)]
    pub requests_per_minute: u32,
    /// Ask an OpenAI-format server for token usage in the stream (`stream_options.include_usage`);
    /// off for servers that reject the option. Anthropic always reports usage.
    #[serde(default = "yes")]
    pub stream_usage: bool,
}

fn yes() -> bool {
    true
}

impl ProviderConfig {
    /// The API's address, without a trailing `/`.
    pub fn base_url(&self) -> Option<String> {
        self.base_url
            .clone()
            .or_else(|| self.kind.default_base_url().map(str::to_string))
            .map(|u| u.trim_end_matches('/').to_string())
    }

    /// Where the key comes from.
    pub fn key_source(&self) -> KeySource {
        self.key.unwrap_or(match self.kind {
            ProviderKind::OpenaiCompatible => KeySource::None,
            _ => KeySource::Keychain,
        })
    }

    /// The model with this id.
    pub fn model(&self, id: &str) -> Option<&ModelConfig> {
        self.models.iter().find(|m| m.id == id)
    }

    /// A config that cannot work, said in words: no address, no models, a bad name.
    pub fn problem(&self) -> Option<String> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Some(format!(
                "provider name '{}' must be letters, digits, '-' or '_'",
                self.name
            ));
        }
        match self.base_url() {
            None => {
                return Some(format!(
                    "provider '{}' ({:?}) needs a base_url",
                    self.name, self.kind
                ));
            }
            Some(url) => {
                if let Some(problem) = url_problem(&url) {
                    return Some(format!("provider '{}': {problem}", self.name));
                }
            }
        }
        if self.models.is_empty() {
            return Some(format!("provider '{}' lists no models", self.name));
        }
        None
    }
}

/// Why a provider's address may not be used: what is sent there (questions, passages, the key)
/// must be encrypted on the way unless it never leaves this device, and a key belongs in the
/// keychain, not in an address that is written to config files and logs.
fn url_problem(url: &str) -> Option<String> {
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        rest
    } else {
        return Some("base_url must start with https:// (or http:// to this device)".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Some(
            "base_url must not hold a user name or password: store the key with `cairn keys set`"
                .into(),
        );
    }
    if url.starts_with("http://") && !is_loopback(authority) {
        return Some(format!(
            "base_url {url} is plain http:// to another machine, which would send questions, \
             passages and the key unencrypted: use https://, or http:// only to this device \
             (127.0.0.1, ::1, localhost)"
        ));
    }
    None
}

/// Whether `authority` (`host[:port]`) names this device.
fn is_loopback(authority: &str) -> bool {
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_provider_takes_the_defaults_of_its_kind() {
        let p: ProviderConfig = toml::from_str(
            "name = \"openai\"\nkind = \"openai\"\nmodels = [{ id = \"gpt-4o-mini\", tier = \"mid\", input_per_mtok = 0.15, output_per_mtok = 0.6 }]\n",
        )
        .unwrap();
        assert_eq!(p.base_url().as_deref(), Some("https://api.openai.com/v1"));
        assert_eq!(p.key_source(), KeySource::Keychain);
        assert_eq!(p.timeouts, Timeouts::default());
        assert!(p.stream_usage);
        assert!(p.problem().is_none());
        let cost = p.model("gpt-4o-mini").unwrap().cost(1_000_000, 500_000);
        assert!((cost - 0.45).abs() < 1e-9, "{cost}");
    }

    #[test]
    fn a_compatible_server_needs_an_address_and_no_key() {
        let p: ProviderConfig = toml::from_str(
            "name = \"ollama\"\nkind = \"openai-compatible\"\nmodels = [{ id = \"llama3\", tier = \"mid\" }]\n",
        )
        .unwrap();
        assert_eq!(p.key_source(), KeySource::None);
        assert!(p.problem().unwrap().contains("base_url"));
        for (url, refused) in [
            ("https://api.example.com/v1", false),
            ("http://127.0.0.1:8000/v1", false),
            ("http://localhost:11434/v1", false),
            ("http://[::1]:8080/v1", false),
            ("http://gpu-box:8000/v1", true),
            ("http://192.168.1.20:8000/v1", true),
            ("http://127.0.0.1.attacker.example/v1", true),
            ("https://user:secret@api.example.com/v1", true),
            ("ftp://files.example.com", true),
        ] {
            let q = ProviderConfig {
                base_url: Some(url.into()),
                ..p.clone()
            };
            assert_eq!(q.problem().is_some(), refused, "{url}: {:?}", q.problem());
        }
        let p = ProviderConfig {
            base_url: Some("http://127.0.0.1:11434/v1/".into()),
            ..p
        };
        assert_eq!(p.base_url().as_deref(), Some("http://127.0.0.1:11434/v1"));
        assert!(p.problem().is_none());
        assert!(
            toml::from_str::<ProviderConfig>(
                "name = \"x\"\nkind = \"openai\"\nmodels = []\nmodel = 1\n"
            )
            .is_err()
        );
    }
}
