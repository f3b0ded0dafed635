//! Cairn's core, shared by the CLI and the desktop app.
//!
//! [`Library`] is the front door: it owns the data directory (SQLite store, LanceDB index, config)
//! and the embedding model, and offers the operations a person performs on their documents:
//!
//! * [`Library::add`] indexes files and folders into a collection, crash-safely and incrementally,
//!   reporting [`Progress`] per file and stopping when a [`CancelToken`] fires;
//! * [`Library::search`] answers a [`SearchRequest`] with cited [`Hit`]s from hybrid retrieval
//!   (dense + BM25, fused, optionally reranked);
//! * [`Library::ask`] answers a question with the local chat model: routed by intent, grounded in
//!   retrieved passages it cites, kept in a thread;
//! * [`Library::documents`], [`Library::remove`] and [`Library::reindex`] manage what is indexed;
//! * [`Library::catalog`], [`Library::pull_model`], [`Library::add_model_file`] and
//!   [`Library::use_model`] find, download and choose the chat model (a download only when a
//!   person asks for one).
//!
//! ```no_run
//! # async fn demo() -> cairn_engine::Result<()> {
//! use cairn_engine::{CancelToken, Config, Library, SearchRequest};
//!
//! let library = Library::open("/tmp/cairn-data".as_ref(), Config::default()).await?;
//! let report = library.add(&["/home/me/notes".into()], "default", &|_| {}, &CancelToken::new()).await?;
//! let hits = library.search(&SearchRequest::new("tide tables")).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod allocator;
mod answer;
pub mod cache;
mod cancel;
mod catalog;
pub mod complexity;
mod config;
pub mod config_file;
mod error;
mod fault;
mod ingest;
mod library;
pub mod logging;
mod maintenance;
mod ocr;
mod offline_copy;
pub use offline_copy::{FromOfflineCopy, REFRESH_AFTER, STORE_WAIT};
mod page;
mod paths;
pub mod policy;
pub mod private;
pub mod prompts;
mod redaction;
mod resident;
mod review;
pub mod router;
mod search;
mod shared;
mod shared_handles;
pub use shared::{SHARED_AUDIT_PREFIX, ShareSpec, SharedDocument, SharedJoin};
mod stats;
mod tools;
pub use tools::TOOL_PROVIDER;
mod watch;
mod write_lock;

pub use answer::citation::{CachedCitation, Citation};
pub use answer::trace::{CandidateTrace, Trace, TraceError};
pub use answer::value::{
    Answer, AnswerEvent, AskRequest, CacheHit, CachedAnswer, CachedSource, FallbackStep,
    OnAnswerEvent, ReviewNote, Timings,
};
pub use cairn_catalog::{CatalogError, DownloadProgress, Entry as CatalogEntry, GgufInfo};
pub use cairn_guard::{InjectionReport, OutputReport, PiiConfig};
pub use cairn_index::{
    CatchUp, CopyProgress, CopyState, Fusion, Hit, IndexSettings, Passage, SearchParams,
};
pub use cairn_ingest::{ChunkerConfig, ParseLimits, PdfReader, RenderedPage};

/// Parsing in worker processes: each binary that indexes calls [`parse_worker::serve_if_asked`]
/// first in `main`, so that every file is parsed by a child process of that binary, under memory,
/// CPU-time and wall-clock limits, and a parser that crashes fails its file, not the program.
pub mod parse_worker {
    pub use cairn_ingest::{
        WORKER_ARG, isolated, serve_if_asked, use_program, use_worker_beside_this_program,
    };
}
pub use cairn_providers::{KeySource, ModelConfig, ModelTier, ProviderConfig, ProviderKind};
pub use cairn_store::{
    AuditEntry, AuditVerdict, CacheUsage, CitationRecord, CollectionRecord, DocState,
    DocumentRecord, Limit, MessageRecord, ModelRecord, ModelSpend, Provenance, Spent, ThreadRecord,
    Tier, TraceSummary,
};
pub use cancel::CancelToken;
pub use catalog::{
    CatalogModel, CatalogView, HUB_ENDPOINT_VAR, InstalledModel, Machine, RemovedModel,
};
pub use config::{
    AnswerConfig, ApiConfig, BudgetConfig, CacheConfig, Config, DEFAULT_COLLECTION, GuardConfig,
    IngestConfig, McpConfig, ModelsConfig, RerankerChoice, ReviewConfig, ReviewMode, RouterConfig,
    SearchConfig, TracesConfig, WatchConfig,
};
pub use config_file::set_prompt_version;
pub use error::{Error, Result};
pub use ingest::{AddReport, FileOutcome, FileStatus, Progress, Stage};
pub use library::{
    Library, RemoveReport, Spend, keep_models_lean, probe_chat_model, probe_embedder,
};
pub use maintenance::CheckReport;
pub use policy::{LocalAnswers, LocalTier, ModelRoute, Policy, Target};
pub use prompts::PromptInfo;
pub use redaction::{FoundEntity, RedactedText, redact_text};
pub use review::{ReviewAction, ReviewItem};
pub use router::{Route, RouteDecision};
pub use search::SearchResults;
pub use search::request::{SearchMode, SearchRequest};
pub use stats::{DayFigures, FeedbackExample, Percentiles, Stats};
pub use watch::{ChangeBatch, FolderWatcher, WatchedFolder};
pub use write_lock::{LOCK_FILE, LockHolder, OnLockWait, WriteLock};

/// The loopback server that speaks the cloud providers' wire formats and misbehaves on command,
/// for tests of the shells over the engine.
#[cfg(feature = "test-support")]
pub use cairn_providers::test_support;

/// The loopback server that speaks Hugging Face's resolve protocol and misbehaves on command, for
/// tests of the shells' model downloads.
#[cfg(feature = "test-support")]
pub use cairn_catalog::test_support as hub_test_support;
