//! The Settings screen: the library's settings as the screen edits them, what saving did, and the
//! checks on a model or folder before it is chosen.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The Settings screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Settings {
    /// The library's folder.
    pub data_dir: String,
    /// Set by the `CAIRN_DATA_DIR` environment variable, so not changeable here.
    pub data_dir_locked: bool,
    /// Models: `null` uses the default.
    pub models: ModelSettings,
    /// How documents are cut into passages.
    pub chunking: ChunkingSettings,
    /// How documents are read.
    pub documents: DocumentSettings,
    /// How passages are found.
    pub retrieval: RetrievalSettings,
    /// How answers are made.
    pub answers: AnswerSettings,
    /// What may leave the device: the model router's policy.
    pub privacy: PrivacyMode,
    /// Spending limits on cloud models.
    pub budget: BudgetSettings,
    /// The prompt templates: which version of each is in use.
    pub prompts: Vec<PromptSetting>,
}

/// A prompt template's versions, and the one in use (every answer's trace records it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PromptSetting {
    /// The template: `grounded`, `analytical`, `chitchat`, …
    pub name: String,
    /// The version in use; set it to switch.
    pub active: String,
    /// The version used when none is chosen.
    pub default: String,
    /// Every version, oldest first.
    pub versions: Vec<String>,
    /// The version rolling back goes to (the one before `active`).
    pub previous: Option<String>,
}

/// Model choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelSettings {
    /// The fast model, a GGUF chat model file; `null`: the bundled SmolLM2-135M-Instruct. It
    /// answers only under `local_answers` `tiers` (simple questions) or `fast`, and writes the notes
    /// on each part of a long document.
    pub chat: Option<String>,
    /// The answering model, a GGUF chat model file; `null`: the bundled
    /// Qwen2.5-Coder-1.5B-Instruct (the fast model does its work where it is not installed).
    pub strong_chat: Option<String>,
    /// Which of the two answers questions on this device.
    pub local_answers: LocalAnswers,
    /// A BERT sentence-model folder; `null`: the bundled all-MiniLM-L6-v2.
    pub embedder: Option<String>,
    /// Minutes a model (embedder, reranker, chat models) may sit unused before it is taken out of
    /// memory; it loads again on its next use. 0 keeps models loaded.
    pub unload_after_minutes: u32,
}

/// Which on-device model answers questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LocalAnswers {
    /// The answering model answers every question (the default: right most often).
    Strong,
    /// The fast model answers simple questions, the answering model the rest.
    Tiers,
    /// The fast model answers every question (quickest, least accurate).
    Fast,
}

/// Passage windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChunkingSettings {
    /// Longest passage, in the embedding model's tokens.
    pub max_tokens: u32,
    /// Tokens a passage repeats from the one before it.
    pub overlap_tokens: u32,
}

/// How documents are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DocumentSettings {
    /// Read scanned PDF pages (an image, no text layer) by OCR, with Tesseract.
    pub ocr: bool,
    /// The languages OCR reads, as Tesseract names them: `eng`, `eng+deu`.
    pub ocr_languages: String,
    /// Cores adding documents may keep busy (parsing and embedding); 0 is every core.
    pub max_cores: u32,
}

/// Retrieval tunables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RetrievalSettings {
    /// Passages a search returns.
    pub k: u32,
    /// Candidates taken from each of the meaning and word searches.
    pub candidates: u32,
    /// Weight of meaning (vector) similarity in the blend.
    pub dense_weight: f32,
    /// Weight of word (BM25) similarity in the blend.
    pub bm25_weight: f32,
    /// Rescore the best candidates by token-level similarity (slower, more accurate).
    pub rerank: bool,
    /// How many candidates are rescored.
    pub rerank_depth: u32,
}

/// Answer tunables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AnswerSettings {
    /// Passages retrieved for an answer.
    pub passages: u32,
    /// Below this similarity of the best passage, the answer is "not found in your library".
    pub min_score: f32,
    /// Tokens of prompt and reply together.
    pub context_tokens: u32,
    /// Longest reply, in tokens.
    pub max_tokens: u32,
    /// 0: the same question always gets the same answer.
    pub temperature: f32,
    /// Answer a question asked before (or one close in meaning) from the answer cache.
    pub cache: bool,
    /// An answer that fails the checks waits for review behind a fixed answer (`true`), or is
    /// shown at once with a warning (`false`).
    pub hold_for_review: bool,
    /// Give an on-device model only the sentences of each passage that bear on the question (and
    /// their neighbours): a shorter prompt, a sooner first word.
    pub condense: bool,
}

/// What may leave the device: the model router's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyMode {
    /// Nothing leaves: every answer is made by the on-device model (the default).
    OfflineOnly,
    /// The cheapest model able to answer: local for simple questions, cloud for harder ones.
    CostAware,
    /// The fastest measured model able to answer.
    LatencyAware,
    /// The strongest cloud model configured, for every question.
    QualityFirst,
    /// Local unless the question is complex.
    Hybrid,
}

/// Spending limits on cloud models, in US dollars; `null`: no limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BudgetSettings {
    /// Per conversation.
    pub conversation_usd: Option<f64>,
    /// Per UTC day.
    pub day_usd: Option<f64>,
    /// Per UTC month.
    pub month_usd: Option<f64>,
}

/// What saving settings did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingsSaved {
    /// The settings now in force.
    pub settings: Settings,
    /// Collections whose passages no longer match the settings (a new embedding model or new
    /// windows): re-index them to apply.
    pub reindex: Vec<String>,
}

/// Which kind of model a path should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ModelRole {
    /// A GGUF chat model (llama, mistral, qwen2, qwen3, gemma3 or phi3), fast or answering.
    Chat,
    /// A BERT sentence-model folder.
    Embedder,
}

/// A model to try before choosing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelCheckRequest {
    /// The file (chat) or folder (embedder).
    pub path: String,
    /// What it should be.
    pub role: ModelRole,
}

/// A model that loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelCheck {
    /// What it is, e.g. `llama, 30 layers, 2048-token context`.
    pub summary: String,
}

/// Another folder to keep the library in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DataDirRequest {
    /// An absolute path; the folder is created if missing.
    pub path: String,
}
