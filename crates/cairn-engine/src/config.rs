//! Tunables, read from `config.toml` in the data directory. Every field has a default; a file need
//! only name what it changes.

use std::path::{Path, PathBuf};

use cairn_index::{Fusion, IndexSettings, SearchParams};
use cairn_ingest::{ChunkerConfig, ParseLimits, PdfReader};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::policy::LocalAnswers;

/// Everything that can be tuned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Which models to load.
    pub models: ModelsConfig,
    /// Chunk windows, in tokens of the embedding model.
    pub chunking: ChunkerConfig,
    /// Ingest limits and batching.
    pub ingest: IngestConfig,
    /// When secondary indices are built.
    pub index: IndexSettings,
    /// Retrieval tunables.
    pub search: SearchConfig,
    /// Answering: the context window, generation and the relevance gate.
    pub answer: AnswerConfig,
    /// Guardrails: PII detection, injection defence, output checks.
    pub guard: GuardConfig,
    /// Cloud and OpenAI-compatible providers (`[[providers]]`); none by default.
    pub providers: Vec<cairn_providers::ProviderConfig>,
    /// Which model answers, and the fallback chain.
    pub router: RouterConfig,
    /// Spending limits on cloud models.
    pub budget: BudgetConfig,
    /// The semantic answer cache.
    pub cache: CacheConfig,
    /// What happens to an answer that fails the output checks or a policy.
    pub review: ReviewConfig,
    /// The prompt template versions in use, by name (`grounded = "1.0.0"`); a template not named
    /// uses its default.
    pub prompts: std::collections::BTreeMap<String, String>,
    /// The local OpenAI-compatible API (`cairn serve`, or the switch in the app).
    pub api: ApiConfig,
    /// Watched folders.
    pub watch: WatchConfig,
    /// How long the record of each question is kept.
    pub traces: TracesConfig,
    /// The library as other AI tools see it (`cairn mcp`, `/mcp` of the local API).
    pub mcp: McpConfig,
}

/// Other AI tools (`[mcp]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McpConfig {
    /// Replace personal data in everything returned to them with placeholders.
    pub redact: bool,
}

/// Traces (`[traces]`): the record of each question asked, with the passages and the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracesConfig {
    /// Traces older than this many days are deleted, with their feedback (0 keeps them all).
    pub retention_days: u32,
}

impl Default for TracesConfig {
    fn default() -> Self {
        TracesConfig { retention_days: 90 }
    }
}

/// Watched folders (`[watch]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// Changes are gathered until the folder has been quiet this long (or for ten times this
    /// while changes keep coming), then synced in one pass.
    pub debounce_ms: u64,
    /// More changed paths than this in one pass, and the folder is reconciled whole instead.
    pub max_paths: usize,
    /// How often the app looks again for a watched folder that is not there (an unmounted disk)
    /// and whether a watched one has gone, in seconds.
    pub unavailable_retry_secs: u64,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            debounce_ms: 500,
            max_paths: 1000,
            unavailable_retry_secs: 30,
        }
    }
}

impl WatchConfig {
    /// The quiet time as a duration.
    pub fn debounce(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.debounce_ms)
    }
}

/// The local API (`[api]`). It listens on this device only, behind a bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Requests a minute, all clients together.
    pub requests_per_minute: u32,
    /// Web origins whose pages may call the API (`http://localhost:3000`); none by default.
    pub cors_origins: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            port: 8765,
            max_body_bytes: 1 << 20,
            requests_per_minute: 120,
            cors_origins: Vec::new(),
        }
    }
}

/// The review queue (`[review]`): an answer that fails the output checks (not grounded) or a
/// policy (a banned term) is queued for a person to approve, edit or reject.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// `hold`: the person sees a fixed answer pointing at the sources until the answer is
    /// approved; `warn`: the answer is shown at once, with a warning.
    pub mode: ReviewMode,
}

/// How a flagged answer is shown while it waits for review.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewMode {
    /// Withheld: a fixed answer is shown instead (the default).
    #[default]
    Hold,
    /// Shown with a warning.
    Warn,
}

impl ReviewMode {
    /// `hold` or `warn`.
    pub fn label(self) -> &'static str {
        match self {
            ReviewMode::Hold => "hold",
            ReviewMode::Warn => "warn",
        }
    }
}

/// The model router and the fallback chain: primary (the routed model, full retrieval) →
/// `secondary` (a cheaper or local model, given only the single most relevant passage) → a
/// deterministic answer quoting that passage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
    /// How questions go to models; `offline_only` (the default) never constructs a provider.
    pub policy: crate::policy::Policy,
    /// The chain's second step when a cloud model fails: `local`, `none`, or `provider/model`.
    pub secondary: String,
    /// Tokens of passages and history a cloud request may carry (estimated at 4 characters each).
    pub cloud_context_tokens: usize,
    /// Most tokens in a cloud model's reply (also what a request reserves against the budget).
    pub cloud_max_tokens: u32,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            policy: crate::policy::Policy::OfflineOnly,
            secondary: "local".into(),
            cloud_context_tokens: 6000,
            cloud_max_tokens: 512,
        }
    }
}

/// Budgets for cloud models: tokens (prompt and reply) and US dollars, per conversation, per UTC
/// day and per UTC month. A request reserves its largest possible cost first; one that would not
/// fit goes down the fallback chain instead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    /// Per conversation (thread).
    pub conversation: cairn_store::Limit,
    /// Per UTC day.
    pub day: cairn_store::Limit,
    /// Per UTC month.
    pub month: cairn_store::Limit,
}

impl BudgetConfig {
    /// Which of the day and month caps is not set (neither cost nor tokens), in words; `None`
    /// when both are. A cloud model is asked only under both.
    pub fn missing_caps(&self) -> Option<&'static str> {
        let unset = |l: &cairn_store::Limit| l.cost.is_none() && l.tokens.is_none();
        match (unset(&self.day), unset(&self.month)) {
            (false, false) => None,
            (true, false) => Some("day"),
            (false, true) => Some("month"),
            (true, true) => Some("day and month"),
        }
    }

    /// The store's limits.
    pub fn limits(&self) -> cairn_store::Limits {
        cairn_store::Limits {
            conversation: self.conversation,
            day: self.day,
            month: self.month,
        }
    }
}

/// Guardrail settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuardConfig {
    /// What counts as PII and how sure the detector must be.
    pub pii: cairn_guard::PiiConfig,
    /// Injection checks on questions and passages.
    pub injection: cairn_guard::InjectionConfig,
    /// Grounding, citation and policy checks on answers.
    pub output: cairn_guard::OutputConfig,
}

/// Model locations, and how long a model unused stays in memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelsConfig {
    /// A BERT sentence-model directory. Unset: the default model, looked up in `$CAIRN_MODELS_DIR`,
    /// `<data dir>/models`, beside the executable, and in the source tree's `models/`.
    pub embedder: Option<PathBuf>,
    /// The arithmetic of the embedder (and the passage reranker built on it) on the CPU: `auto`
    /// (int8 where the CPU has AVX-512 VNNI, f32 elsewhere), `f32`, or `int8` (the portable
    /// kernel where the CPU lacks VNNI: the same vectors, slower). The vectors of f32 and int8
    /// agree to cosine 0.99, so changing it needs no re-index.
    pub embedder_precision: cairn_models::Precision,
    /// The fast on-device chat model (a GGUF file): notes on each part of a long document, and
    /// simple questions under `local_answers = "tiers"`. Unset: the default (SmolLM2-135M-Instruct),
    /// looked up like the embedder.
    pub chat: Option<PathBuf>,
    /// The strong on-device chat model (a GGUF file). Unset: the default
    /// (Qwen2.5-Coder-1.5B-Instruct) where it is installed, else `chat` does its work.
    pub strong_chat: Option<PathBuf>,
    /// Which of the two answers questions: `strong` (every question), `tiers` (the fast one for a
    /// simple question, the strong one for the rest, by the complexity classifier) or `fast`.
    pub local_answers: LocalAnswers,
    /// Where `cairn models pull` and the app's Download fetch catalog models from: a Hugging Face
    /// endpoint, https (or http on this machine). Unset: https://huggingface.co. The environment
    /// variable `CAIRN_HF_ENDPOINT` overrides it.
    pub hub_endpoint: Option<String>,
    /// A catalog of one's own to offer instead of the built-in one (a TOML file in the format of
    /// `crates/cairn-catalog/catalog.toml`), e.g. the models a mirror holds. Unset: the built-in.
    pub catalog: Option<PathBuf>,
    /// A model (embedder, reranker, chat models) that has not been used for this many seconds is
    /// taken out of memory by a library left open (the app, `cairn serve`, `cairn mcp`) and
    /// loaded again on its next use; 0 keeps models loaded.
    pub unload_after_secs: u64,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        ModelsConfig {
            embedder: None,
            embedder_precision: cairn_models::Precision::Auto,
            chat: None,
            strong_chat: None,
            local_answers: LocalAnswers::default(),
            hub_endpoint: None,
            catalog: None,
            unload_after_secs: 300,
        }
    }
}

/// Ingest limits and batching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestConfig {
    /// Files larger than this are refused before they are read.
    pub max_file_bytes: u64,
    /// Archives (DOCX, EPUB) may expand to at most this many bytes.
    pub max_archive_bytes: u64,
    /// A parser still running after this many seconds is abandoned.
    pub timeout_secs: f64,
    /// Memory a parse worker may take for one file; at the limit the file fails alone.
    pub max_parse_memory_bytes: u64,
    /// Files parsed at once, each in its own worker process; 0 is one per core (at most
    /// `max_cores`).
    pub parse_workers: usize,
    /// Cores an add keeps busy, parsing and embedding; 0 is every core. Its threads run at a
    /// lower priority than the app's window either way (Linux).
    pub max_cores: usize,
    /// Chunks embedded and written together: one LanceDB append per batch.
    pub batch_chunks: usize,
    /// A document whose text has more characters than this is cut into chunks while they are
    /// written, a batch at a time, instead of all before the first is written.
    pub stream_text_chars: usize,
    /// How PDFs are read: `pdfium` (falling back to the built-in reader, with a warning, where
    /// the library is missing) or `builtin`.
    pub pdf_reader: PdfReader,
    /// The PDFium library (`libpdfium.so`, `libpdfium.dylib`, `pdfium.dll`). Unset: looked up
    /// where the default models are, under `pdfium/`.
    pub pdfium_library: Option<PathBuf>,
    /// Whether scanned PDF pages (no text layer, an image) are read by OCR.
    pub ocr: bool,
    /// The languages OCR reads, as Tesseract's `-l` names them (`eng`, `eng+deu`); each needs its
    /// traineddata installed.
    pub ocr_languages: String,
    /// The `tesseract` program. Unset: looked up on `PATH` and in the usual install folders.
    pub tesseract: Option<PathBuf>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        let limits = ParseLimits::default();
        IngestConfig {
            max_file_bytes: limits.max_file_bytes,
            max_archive_bytes: limits.max_archive_bytes,
            timeout_secs: limits.timeout.as_secs_f64(),
            max_parse_memory_bytes: limits.max_memory_bytes,
            parse_workers: 0,
            max_cores: 0,
            batch_chunks: 256,
            stream_text_chars: 10 << 20,
            pdf_reader: PdfReader::default(),
            pdfium_library: None,
            ocr: true,
            ocr_languages: "eng".into(),
            tesseract: None,
        }
    }
}

impl IngestConfig {
    /// The per-file limits.
    pub fn limits(&self) -> ParseLimits {
        ParseLimits {
            max_file_bytes: self.max_file_bytes,
            max_archive_bytes: self.max_archive_bytes,
            timeout: std::time::Duration::try_from_secs_f64(self.timeout_secs)
                .unwrap_or(ParseLimits::default().timeout),
            max_memory_bytes: self.max_parse_memory_bytes,
            pdf_reader: self.pdf_reader,
            ocr: self.ocr,
        }
    }
}

/// Which reranker rescores the fused candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RerankerChoice {
    /// No reranking: the fused order stands.
    None,
    /// Late interaction over the embedder's token vectors.
    Maxsim,
    /// A BERT cross-encoder directory.
    CrossEncoder(PathBuf),
}

/// Retrieval tunables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchConfig {
    /// Passages returned.
    pub k: usize,
    /// Candidates taken from each of the dense and BM25 lists before fusion.
    pub candidates: usize,
    /// How the two lists fuse.
    pub fusion: Fusion,
    /// IVF partitions probed once a vector index exists.
    pub nprobes: usize,
    /// Exact re-scoring of vector-index candidates, as a multiple of the limit.
    pub refine_factor: u32,
    /// The reranker.
    pub reranker: RerankerChoice,
    /// How many fused candidates the reranker rescores.
    pub rerank_depth: usize,
    /// Recent retrievals kept (keyed by normalised query, collection and index version); 0: none.
    pub cache_entries: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        let params = SearchParams::default();
        SearchConfig {
            k: params.k,
            candidates: params.candidates,
            fusion: params.fusion,
            nprobes: params.nprobes,
            refine_factor: params.refine_factor,
            // Measured on tests/eval: +0.02 recall@5 and +0.05 nDCG@10 over fusion alone (BENCHMARKS.md).
            reranker: RerankerChoice::Maxsim,
            rerank_depth: 20,
            cache_entries: 256,
        }
    }
}

/// Answering tunables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnswerConfig {
    /// Passages retrieved for an answer.
    pub passages: usize,
    /// Below this cosine similarity of the best passage, the answer is "not found in your library".
    pub min_score: f32,
    /// Tokens of context the prompt and reply may use together (capped by the model's own).
    pub context_tokens: usize,
    /// Most tokens in a reply.
    pub max_tokens: usize,
    /// Sampling temperature; 0 is greedy (the same question, the same answer).
    pub temperature: f32,
    /// Seed for sampling at a temperature above 0.
    pub seed: u64,
    /// Penalty on recently generated tokens (1.0: off).
    pub repeat_penalty: f32,
    /// Most recent question-and-answer pairs of a thread offered as context.
    pub history_turns: usize,
    /// Longest question accepted, in characters.
    pub max_question_chars: usize,
    /// Tokens of context each part of a document too long for one prompt is read in (capped by
    /// the fast model's own). Longer parts mean fewer notes to write, and writing is what takes
    /// the time (`benches/answers.rs --summarise`).
    pub part_tokens: usize,
    /// Whether a local model is given each passage cut to the sentences that bear on the question
    /// (with their neighbours) instead of whole: shorter prompts, a sooner first token
    /// (`benches/answers.rs`, BENCHMARKS.md "Answers").
    pub condense: bool,
}

impl Default for AnswerConfig {
    fn default() -> Self {
        AnswerConfig {
            passages: 4,
            min_score: 0.3,
            context_tokens: 2048,
            max_tokens: 256,
            temperature: 0.0,
            seed: 42,
            repeat_penalty: 1.1,
            history_turns: 3,
            max_question_chars: 4000,
            part_tokens: 4096,
            condense: true,
        }
    }
}

impl SearchConfig {
    /// The index's query parameters.
    pub fn params(&self) -> SearchParams {
        SearchParams {
            k: self.k,
            candidates: self.candidates,
            fusion: self.fusion,
            nprobes: self.nprobes,
            refine_factor: self.refine_factor,
        }
    }
}

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text).map_err(|reason| Error::Config {
                path: path.display().to_string(),
                reason,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(Error::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

impl Config {
    /// Parses TOML text. Unknown keys are errors: a misspelt tunable must not be silently ignored.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let mut unknown = Vec::new();
        let deserializer = toml::Deserializer::parse(text).map_err(|e| e.to_string())?;
        let config: Config =
            serde_ignored::deserialize(deserializer, |path| unknown.push(path.to_string()))
                .map_err(|e| e.to_string())?;
        match unknown.first() {
            None => {}
            Some(key) => return Err(format!("unknown setting '{key}'")),
        }
        config.check()?;
        Ok(config)
    }

    /// Settings that parse but cannot work together: a provider without an address, two providers
    /// with one name, a secondary model nobody serves.
    pub fn check(&self) -> std::result::Result<(), String> {
        if let Some(endpoint) = &self.models.hub_endpoint {
            cairn_catalog::Endpoint::parse(endpoint)
                .map_err(|e| format!("models.hub_endpoint: {e}"))?;
        }
        if !(self.cache.threshold > 0.0 && self.cache.threshold <= 1.0) {
            return Err(format!(
                "cache.threshold is {}: write a cosine similarity above 0 and at most 1",
                self.cache.threshold
            ));
        }
        for (name, version) in &self.prompts {
            let versions = crate::prompts::versions(name);
            if versions.is_empty() {
                return Err(format!(
                    "prompts.{name}: there is no prompt template called {name}"
                ));
            }
            if crate::prompts::find(name, version).is_none() {
                return Err(format!(
                    "prompts.{name} is {version:?}: the versions are {}",
                    versions.join(", ")
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for p in &self.providers {
            if let Some(problem) = p.problem() {
                return Err(problem);
            }
            if cairn_store::Provenance::RESERVED.contains(&p.name.as_str()) {
                return Err(format!(
                    "a provider cannot be called {:?}: the router uses the word for itself",
                    p.name
                ));
            }
            if !names.insert(p.name.as_str()) {
                return Err(format!("two providers are called {:?}", p.name));
            }
        }
        match crate::policy::Target::parse(&self.router.secondary) {
            None => Err(format!(
                "router.secondary is {:?}: write \"local\", \"none\" or \"provider/model\"",
                self.router.secondary
            )),
            Some(Some(crate::policy::Target::Cloud { provider, model })) => {
                let served = self
                    .providers
                    .iter()
                    .any(|p| p.name == provider && p.model(&model).is_some());
                if served {
                    Ok(())
                } else {
                    Err(format!(
                        "router.secondary names {provider}/{model}, which no [[providers]] entry serves"
                    ))
                }
            }
            Some(_) => Ok(()),
        }
    }
}

/// The collection used when none is named.
pub const DEFAULT_COLLECTION: &str = "default";

/// The cache's settings (`[cache]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    /// Serve and keep answers.
    pub enabled: bool,
    /// Least cosine similarity between two questions for the earlier answer to be considered.
    /// Calibrated by `cargo run --release -p cairn-engine --example calibrate-cache`.
    pub threshold: f32,
    /// Most bytes the entries may take together.
    pub max_bytes: u64,
    /// Seconds an entry may be served after it was made.
    pub ttl_secs: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            threshold: 0.98,
            max_bytes: 32 << 20,
            ttl_secs: 7 * 86_400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_file_keeps_the_other_defaults() {
        let config = Config::parse(
            "[chunking]\nmax_tokens = 128\noverlap_tokens = 16\n[search]\nk = 5\nreranker = \"maxsim\"\n\
             fusion = { method = \"rrf\", k = 60.0, dense_weight = 1.0, bm25_weight = 0.5 }\n",
        )
        .unwrap();
        assert_eq!(config.chunking.max_tokens, 128);
        assert_eq!(config.search.k, 5);
        assert_eq!(config.search.candidates, SearchParams::default().candidates);
        assert_eq!(config.search.reranker, RerankerChoice::Maxsim);
        assert!(
            matches!(config.search.fusion, Fusion::Rrf { bm25_weight, .. } if bm25_weight == 0.5)
        );
        assert_eq!(config.ingest, IngestConfig::default());

        // A table may name one of its keys only.
        let config = Config::parse("[chunking]\nmax_tokens = 200\n").unwrap();
        assert_eq!(config.chunking.max_tokens, 200);
        assert_eq!(
            config.chunking.overlap_tokens,
            ChunkerConfig::default().overlap_tokens
        );
    }

    #[test]
    fn the_readme_example_is_a_valid_config() {
        // Every TOML block in the README must be a valid config file.
        let readme = include_str!("../../../README.md");
        let blocks: Vec<&str> = readme
            .split("```toml\n")
            .skip(1)
            .map(|rest| &rest[..rest.find("```").unwrap()])
            .collect();
        assert!(
            blocks.len() >= 2,
            "README shows the config and the guard settings"
        );
        let configs: Vec<Config> = blocks.iter().map(|b| Config::parse(b).unwrap()).collect();
        assert_eq!(configs[0].search.reranker, RerankerChoice::Maxsim);
        assert_eq!(
            configs[1].guard,
            GuardConfig::default(),
            "the guard block shows the defaults"
        );
        let cross =
            Config::parse("[search]\nreranker = { cross-encoder = \"/models/ms-marco\" }\n")
                .unwrap();
        assert_eq!(
            cross.search.reranker,
            RerankerChoice::CrossEncoder("/models/ms-marco".into())
        );
    }

    #[test]
    fn providers_router_and_budgets_are_checked_when_read() {
        let provider = |name: &str| {
            format!(
                "[[providers]]\nname = \"{name}\"\nkind = \"openai\"\nmodels = [{{ id = \"m\", tier = \"mid\" }}]\n"
            )
        };
        let config = Config::parse(&format!(
            "[router]\npolicy = \"cost_aware\"\nsecondary = \"acme/m\"\n[budget]\nday = {{ cost = 1.5 }}\nmonth = {{ tokens = 1000 }}\n{}",
            provider("acme")
        ))
        .unwrap();
        assert_eq!(config.router.policy, crate::policy::Policy::CostAware);
        assert_eq!(config.budget.day.cost, Some(1.5));
        assert_eq!(config.budget.month.tokens, Some(1000));
        assert_eq!(
            Config::default().router.policy,
            crate::policy::Policy::OfflineOnly
        );
        let err = |text: &str| Config::parse(text).unwrap_err();
        assert!(err(&format!("{}{}", provider("a"), provider("a"))).contains("two providers"));
        assert!(err(&provider("local")).contains("cannot be called"));
        assert!(err("[router]\nsecondary = \"acme/m\"\n").contains("no [[providers]] entry"));
        assert!(err("[router]\nsecondary = \"somewhere\"\n").contains("router.secondary"));
        assert!(err("[router]\npolicy = \"cheap\"\n").contains("cheap"));
        assert!(
            err("[[providers]]\nname = \"x\"\nkind = \"openai-compatible\"\nmodels = []\n")
                .contains("base_url")
        );
    }

    #[test]
    fn unknown_keys_are_errors_not_silently_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[search]\nkk = 5\n").unwrap();
        let err = Config::load(&path).unwrap_err();
        assert!(err.to_string().contains("kk"), "{err}");
        assert_eq!(
            Config::load(&dir.path().join("absent.toml")).unwrap(),
            Config::default()
        );
    }
}
