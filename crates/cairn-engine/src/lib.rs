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
//! * [`Library::documents`], [`Library::remove`] and [`Library::reindex`] manage what is indexed.
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

mod answer;
pub mod cache;
pub mod complexity;
mod config;
mod error;
mod ingest;
mod library;
pub mod policy;
pub mod prompts;
mod review;
pub mod router;
mod search;
mod stats;
mod watch;

pub use answer::{
    Answer, AnswerEvent, AskRequest, CandidateTrace, Citation, FallbackStep, OnAnswerEvent,
    ReviewNote, Tier, Timings, Trace, TraceError,
};
pub use cairn_index::{Fusion, Hit, IndexSettings, Passage, SearchParams};
pub use cairn_ingest::{ChunkerConfig, ParseLimits};
pub use cairn_store::{
    CitationRecord, CollectionRecord, DocState, DocumentRecord, Limit, MessageRecord, ModelSpend,
    Spent, ThreadRecord,
};
pub use config::set_prompt_version;
pub use config::{
    AnswerConfig, ApiConfig, BudgetConfig, Config, GuardConfig, IngestConfig, ModelsConfig,
    RerankerChoice, ReviewConfig, ReviewMode, RouterConfig, SearchConfig, WatchConfig,
};
pub use error::{Error, Result};
pub use ingest::{AddReport, CancelToken, FileOutcome, FileStatus, Progress, Stage};
pub use library::{
    CheckReport, DEFAULT_COLLECTION, Library, RemoveReport, Spend, probe_chat_model, probe_embedder,
};
pub use policy::{ModelRoute, Policy, Target};
pub use prompts::PromptInfo;
pub use review::{ReviewAction, ReviewItem};
pub use search::{SearchMode, SearchRequest};
pub use stats::{DayFigures, FeedbackExample, Percentiles, Stats};
pub use watch::{ChangeBatch, FolderWatcher, WatchedFolder};
