//! The commands that take a subcommand of their own: `guard`, `export`, `prompts`, `review`,
//! `cache`, `audit`, `keys` and `models`.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum GuardCommand {
    /// Find personal and secret data in stdin; prints `{redacted, entities:[{type, start, end,
    /// score}]}` (offsets in characters of the input).
    Scan,
    /// Replace it with typed placeholders (`<EMAIL_1>`); prints the same JSON as `scan`.
    Redact,
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Every rated answer as JSON lines: question, passages, answer, feedback, correction (an
    /// evaluation or fine-tuning set).
    Feedback,
}

#[derive(Subcommand)]
pub enum PromptsCommand {
    /// Each template with its versions; the one in use is marked.
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print a template's text (`name` or `name@version`; the version in use by default).
    Show {
        /// `grounded`, `grounded@1.1.0`, …
        template: String,
    },
    /// Use a version from now on (written into config.toml).
    Use {
        /// `name@version`, e.g. `grounded@1.1.0`.
        template: String,
    },
    /// Go back to the version before the one in use.
    Rollback {
        /// The template, e.g. `grounded`.
        name: String,
    },
}

#[derive(Subcommand)]
pub enum ReviewCommand {
    /// The answers waiting (newest first).
    List {
        /// Decided ones too.
        #[arg(long)]
        all: bool,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// The answer stands as written: its thread shows it.
    Approve {
        /// Its id in the queue.
        id: i64,
        /// Also serve it to the same question again, from the answer cache.
        #[arg(long)]
        cache: bool,
    },
    /// The answer stands as you rewrite it.
    Edit {
        /// Its id in the queue.
        id: i64,
        /// The new text (keep `[n]` to keep citing passage n).
        text: String,
        /// Also serve it to the same question again, from the answer cache.
        #[arg(long)]
        cache: bool,
    },
    /// The answer is wrong: a held one stays held, a shown one is withdrawn.
    Reject {
        /// Its id in the queue.
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum CacheCommand {
    /// Entries, bytes and hits, against the configured bound.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove every entry, or those of one collection.
    Clear {
        /// Only this collection.
        #[arg(long)]
        collection: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum McpCommand {
    /// Let other AI tools read a collection.
    Share {
        /// The collection.
        collection: String,
    },
    /// Stop other AI tools reading a collection.
    Unshare {
        /// The collection.
        collection: String,
    },
    /// The shared collections, the line to paste into a client's configuration, and recent calls.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// The last entries: when, which provider and model, how many characters, what was redacted.
    List {
        /// How many entries.
        #[arg(long, default_value_t = 20)]
        last: usize,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Recompute the hash chain. Exit code 0: intact; 1: an entry was changed, removed or forged.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Store PROVIDER's key, read from stdin (one line), in the OS keychain.
    Set {
        /// The provider's name, as in `[[providers]]`.
        provider: String,
    },
    /// Remove PROVIDER's key from the keychain.
    Rm {
        /// The provider's name.
        provider: String,
    },
    /// The configured providers and whether each has a key (names only; keys are never shown).
    List,
}

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// The catalog (size, memory needed, licence; installed and recommended marked) and the
    /// models installed, downloaded or added.
    List {
        /// Print one JSON object: `{machine, endpoint, catalog, installed}`.
        #[arg(long)]
        json: bool,
    },
    /// Download a catalog model into the library's `models/` folder, checked against its SHA-256.
    /// Ctrl-C stops it and keeps what arrived; running it again resumes. Opens a connection to
    /// Hugging Face (or `models.hub_endpoint`, `CAIRN_HF_ENDPOINT`): the only command that does
    /// so unasked for an answer.
    Pull {
        /// The catalog id, e.g. `qwen3-4b` (see `cairn models list`).
        id: String,
    },
    /// Register a GGUF file already on disk (LM Studio's, Ollama's blobs, any path) where it is,
    /// without copying it.
    Add {
        /// The GGUF file.
        path: PathBuf,
        /// Its name in Cairn (default: the file's name without `.gguf`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Forget a model; its file is deleted only if Cairn downloaded it. A catalog id with an
    /// unfinished download has that deleted.
    Rm {
        /// The model's name.
        name: String,
    },
    /// Make a model the one that answers questions (`models.strong_chat` in config.toml;
    /// `models.chat` under `models.local_answers = "fast"`).
    Use {
        /// The model's name.
        name: String,
    },
}
