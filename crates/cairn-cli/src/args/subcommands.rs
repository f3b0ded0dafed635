//! The commands that take a subcommand of their own: `guard`, `export`, `prompts`, `review`,
//! `cache`, `audit` and `keys`.

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
