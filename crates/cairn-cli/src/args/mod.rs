//! The command line: every command, its arguments and flags, as clap reads them. Each command's
//! doc comment is its `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod subcommands;

pub use subcommands::{
    AuditCommand, CacheCommand, ExportCommand, GuardCommand, KeysCommand, McpCommand,
    ModelsCommand, PromptsCommand, ReviewCommand,
};

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "A private knowledge base: index your documents, search them offline."
)]
pub struct Cli {
    /// Where the index, database and config live [default: the OS data directory, e.g. ~/.local/share/cairn].
    #[arg(long, global = true, env = "CAIRN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Index files and folders (recursively). Unchanged files are skipped, changed ones replaced,
    /// deleted ones removed. Exit code 0: all indexed; 2: some failed; 3: none could be indexed.
    Add {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The collection to add to (created if needed).
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
        /// One JSON line per file instead of a progress bar.
        #[arg(long)]
        json: bool,
        /// Read unchanged files again too (after changing the chunking settings); a file that now
        /// fails keeps its passages.
        #[arg(long)]
        reread: bool,
    },
    /// Files that could not be indexed, with their reasons; quarantined ones are not read again
    /// until they change or are retried.
    Failed {
        /// The collection.
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Read failed files again (quarantined ones too): those named, or every one.
    Retry {
        /// Files to retry; none: every failed file of the collection.
        paths: Vec<PathBuf>,
        /// The collection.
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
        /// One JSON line per file instead of a progress bar.
        #[arg(long)]
        json: bool,
    },
    /// Search a collection; prints cited passages.
    Search {
        /// The query.
        query: String,
        /// Number of passages.
        #[arg(long, short)]
        k: Option<usize>,
        /// The collection to search.
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
        /// Retrieval mode.
        #[arg(long, value_enum, default_value_t = Mode::Hybrid)]
        mode: Mode,
        /// Skip the reranker even if one is configured.
        #[arg(long)]
        no_rerank: bool,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// List indexed documents with their state.
    Docs {
        /// Only this collection.
        #[arg(long)]
        collection: Option<String>,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Remove files (or everything under folders) from a collection. The files are not touched.
    Rm {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The collection.
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild a collection's index from its files with the current embedding model.
    Reindex {
        /// The collection.
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
        /// One JSON line per file.
        #[arg(long)]
        json: bool,
    },
    /// Check that the index holds exactly the chunks the database records, document by document.
    /// Exit code 0 when consistent, 1 otherwise.
    Check {
        /// The collection.
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Answer a question from a collection, streaming the answer and citing its sources. Under the
    /// default policy (offline-only) the local model answers and nothing leaves this machine.
    Ask {
        /// The question.
        question: std::ffi::OsString,
        /// The collection to answer from.
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
        /// Continue a thread (see the thread id printed after each answer).
        #[arg(long)]
        thread: Option<i64>,
        /// Print one JSON object when done instead of streaming.
        #[arg(long)]
        json: bool,
        /// The model router's policy for this question (default: `router.policy` in config.toml):
        /// offline_only, cost_aware, latency_aware, quality_first, hybrid.
        #[arg(long)]
        policy: Option<cairn_engine::Policy>,
        /// Ask about this document only (its path or file name): a summary or a list reads it
        /// whole, part by part, with progress on stderr.
        #[arg(long)]
        document: Option<String>,
    },
    /// An interactive conversation: each line is a question, answered in one thread. Ctrl-C stops
    /// the answer being written; Ctrl-D ends the session.
    Chat {
        /// The collection to answer from.
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
        /// Continue a thread.
        #[arg(long)]
        thread: Option<i64>,
    },
    /// Local guardrails over text on stdin.
    Guard {
        #[command(subcommand)]
        command: GuardCommand,
    },
    /// API keys of cloud providers, kept in the OS keychain (never in a file).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Recent questions: how each was answered (route, tier, model, tokens, cost, time) or why it
    /// failed.
    Traces {
        /// How many, newest first.
        #[arg(long, default_value_t = 20)]
        last: usize,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// One trace, whole: route and reason, guard results, retrieval candidates with their dense,
    /// BM25, fused and rerank scores, passages used and their tokens, prompt version, provider and
    /// model, tokens, cost, timings, fallbacks, the answer or the error.
    Trace {
        /// Its id (from `traces`, or `trace_id` in `ask --json`).
        id: i64,
        /// Print compact JSON (the default is indented).
        #[arg(long)]
        json: bool,
    },
    /// Keep folders in sync until Ctrl-C. The folders named join the watched list of the
    /// collection (kept in the library, so the app watches them too); with none, every watched
    /// folder is watched. Each is reconciled first (changes made while nothing watched), then every
    /// file created, edited, renamed or deleted there is synced within seconds. One line per pass.
    Watch {
        /// Folders to watch.
        folders: Vec<PathBuf>,
        /// The collection (default `default` when folders are named; otherwise every collection).
        #[arg(long)]
        collection: Option<String>,
        /// List the watched folders and exit.
        #[arg(long)]
        list: bool,
        /// One JSON line per pass, with its files.
        #[arg(long)]
        json: bool,
    },
    /// Stop keeping a folder in sync. Its documents stay (`cairn rm` removes them).
    Unwatch {
        /// The folder.
        folder: PathBuf,
        /// The collection.
        #[arg(long, default_value = cairn_engine::DEFAULT_COLLECTION)]
        collection: String,
    },
    /// Serve the local OpenAI-compatible API (chat completions with citations, embeddings, models)
    /// on this device only, behind the API token kept in the OS keychain. Ctrl-C stops it.
    Serve {
        /// The port (default `api.port`, 8765; 0: any free port).
        #[arg(long)]
        port: Option<u16>,
        /// The address: 127.0.0.1 or ::1 (any other is refused).
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Print the API token on stdout first.
        #[arg(long)]
        show_token: bool,
    },
    /// Chat models: the catalog with what suits this machine, downloads, GGUF files already on
    /// disk, and the one that answers.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Prompt templates: their versions, which is in use; switch or roll back.
    Prompts {
        #[command(subcommand)]
        command: PromptsCommand,
    },
    /// Answers that failed the output checks or a policy, waiting for a person.
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// Serve the library to other AI tools (Claude Desktop, Cursor, Zed) over the Model Context
    /// Protocol on stdin and stdout, as those clients launch it; or choose which collections they
    /// may read.
    Mcp {
        #[command(subcommand)]
        command: Option<McpCommand>,
        /// Replace personal data in everything returned with placeholders.
        #[arg(long)]
        redact: bool,
    },
    /// The semantic answer cache: how full it is; empty it.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// The egress audit log: every request that left this device (never its text).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// What cloud models have cost today and this month, against the budgets, by model.
    Stats {
        /// The period, in days up to now.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rate an answer: `up` or `down`, with an optional correction.
    Feedback {
        /// The answer's trace (`trace_id` in `ask --json`, or `cairn traces`).
        trace: i64,
        /// `up` (👍) or `down` (👎).
        #[arg(value_parser = ["up", "down"])]
        verdict: String,
        /// What the answer should have said.
        #[arg(long)]
        correction: Option<String>,
    },
    /// Export data.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// List collections and the embedding model of each.
    Collections {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Make a collection whose index lives in an S3-compatible object store that other libraries
    /// add to and search too, or join one another library made there. The secret access key is
    /// read from stdin (one line) and kept in the OS keychain with the key id.
    ShareCollection {
        /// The collection's name (the same in every library that shares it).
        name: String,
        /// Where the index lives: `s3://bucket/prefix`.
        #[arg(long)]
        at: String,
        /// The S3 endpoint of a store that is not Amazon's (MinIO, Ceph, R2, a NAS): https://,
        /// or http:// on this machine only.
        #[arg(long)]
        endpoint: Option<String>,
        /// The store's region.
        #[arg(long)]
        region: Option<String>,
        /// The access key id.
        #[arg(long, env = "CAIRN_S3_ACCESS_KEY_ID")]
        access_key_id: String,
        /// Keep a copy on this computer too, to search when the store cannot be reached (see
        /// `cairn offline-copy`).
        #[arg(long)]
        offline_copy: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Keep a copy of a shared collection on this computer, searched when its store cannot be
    /// reached, and bring it up to date now (the app also does so in the background). Answers
    /// from the copy say how old it is.
    OfflineCopy {
        /// The shared collection.
        name: String,
        /// Stop keeping the copy and delete it.
        #[arg(long)]
        drop: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a collection: its passages, its document records and every record of what was asked
    /// of it (traces, reviews, feedback, cached answers). The files themselves are not touched.
    /// A shared collection is only left: its passages stay in the store for the others.
    DeleteCollection {
        /// The collection.
        name: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    Hybrid,
    Dense,
    Bm25,
}
