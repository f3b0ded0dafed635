//! `cairn`: index documents and search them from a terminal, over the same core as the desktop app.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use cairn_engine::{
    AddReport, Answer, AnswerEvent, AskRequest, CancelToken, FileStatus, Library, Progress,
    ReviewAction, SearchMode, SearchRequest, Tier,
};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

/// The model's forward pass allocates and frees tens of megabytes per batch; glibc's malloc hands
/// such blocks back to the kernel and takes page faults to get them again, which cost about 12% of
/// embedding throughput. mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, documented in README.md.
mod exit {
    /// Some files could not be indexed; the others were.
    pub const SOME_FAILED: u8 = 2;
    /// No file could be indexed.
    pub const NONE_INDEXED: u8 = 3;
    /// Interrupted (Ctrl-C); what was written stays.
    pub const CANCELLED: u8 = 130;
}

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "A private knowledge base: index your documents, search them offline."
)]
struct Cli {
    /// Where the index, database and config live [default: the OS data directory, e.g. ~/.local/share/cairn].
    #[arg(long, global = true, env = "CAIRN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
}

#[derive(Subcommand)]
enum GuardCommand {
    /// Find personal and secret data in stdin; prints `{redacted, entities:[{type, start, end,
    /// score}]}` (offsets in characters of the input).
    Scan,
    /// Replace it with typed placeholders (`<EMAIL_1>`); prints the same JSON as `scan`.
    Redact,
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Every rated answer as JSON lines: question, passages, answer, feedback, correction (an
    /// evaluation or fine-tuning set).
    Feedback,
}

#[derive(Subcommand)]
enum PromptsCommand {
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
enum ReviewCommand {
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
enum CacheCommand {
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
enum AuditCommand {
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
enum KeysCommand {
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

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Hybrid,
    Dense,
    Bm25,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "warn,lance=error,lancedb=error,lopdf=error,pdf_extract=error",
                )
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    Ok(dirs::data_dir()
        .context("no data directory is known for this OS; pass --data-dir")?
        .join("cairn"))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let data_dir = match &cli.data_dir {
        Some(dir) => dir.clone(),
        None => default_data_dir()?,
    };
    // The guard and the keychain need no library: they must work before anything is indexed.
    match &cli.command {
        Command::Guard { .. } => {
            // `scan` and `redact` print the same JSON: what was found, and the text without it.
            // Only the config file is read (for `[guard.pii]`).
            let config = cairn_engine::Config::load(&data_dir.join("config.toml"))?;
            return guard(config.guard.pii);
        }
        Command::Keys { command } => return keys(command, &data_dir),
        _ => {}
    }
    if let Command::Serve {
        port,
        bind,
        show_token,
    } = &cli.command
    {
        if !bind.is_loopback() {
            return Err(cairn_server::ServerError::NotLoopback(*bind).into());
        }
        let library = Library::open_with_config_file(&data_dir).await?;
        return serve(library, *bind, *port, *show_token).await;
    }
    let library = Library::open_with_config_file(&data_dir).await?;
    match cli.command {
        Command::Add {
            paths,
            collection,
            json,
        } => {
            reported(json, async |progress, cancel| {
                library.add(&paths, &collection, progress, cancel).await
            })
            .await
        }
        Command::Failed { collection, json } => {
            let failed = library.failed(&collection)?;
            let rows: Vec<serde_json::Value> = failed
                .iter()
                .map(|(d, quarantined)| {
                    serde_json::json!({"path": d.path, "state": d.state, "code": d.error_code,
                                       "reason": d.error_message, "quarantined": quarantined})
                })
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if failed.is_empty() {
                eprintln!("every file of {collection} was indexed");
            }
            for (d, quarantined) in failed.iter().filter(|_| !json) {
                println!(
                    "{}\n  {}: {}{}",
                    d.path,
                    d.error_code.as_deref().unwrap_or("-"),
                    d.error_message.as_deref().unwrap_or("-"),
                    if *quarantined {
                        " (quarantined: `cairn retry` reads it again)"
                    } else {
                        ""
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch {
            folders,
            collection,
            list,
            json,
        } => watch(&library, folders, collection, list, json).await,
        Command::Unwatch { folder, collection } => {
            if library.unwatch_folder(&collection, &folder)? {
                eprintln!(
                    "{} is no longer watched; its documents stay",
                    folder.display()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                anyhow::bail!("{} is not watched for {collection}", folder.display())
            }
        }
        Command::Retry {
            paths,
            collection,
            json,
        } => {
            reported(json, async |progress, cancel| {
                library.retry(&paths, &collection, progress, cancel).await
            })
            .await
        }
        Command::Reindex { collection, json } => {
            reported(json, async |progress, cancel| {
                library.reindex(&collection, progress, cancel).await
            })
            .await
        }
        Command::Search {
            query,
            k,
            collection,
            mode,
            no_rerank,
            json,
        } => {
            let mode = match mode {
                Mode::Hybrid => SearchMode::Hybrid,
                Mode::Dense => SearchMode::Dense,
                Mode::Bm25 => SearchMode::Bm25,
            };
            let request = SearchRequest {
                query,
                collection,
                k,
                mode,
                rerank: no_rerank.then_some(false),
            };
            let hits = library.search(&request).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&hits)?);
            } else if hits.is_empty() {
                println!("No passages found.");
            } else {
                for (i, hit) in hits.iter().enumerate() {
                    let page = hit
                        .passage
                        .page
                        .map(|p| format!(", page {p}"))
                        .unwrap_or_default();
                    let heading = if hit.passage.heading.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", hit.passage.heading)
                    };
                    println!(
                        "[{}] {}{page}{heading}  (score {:.3})",
                        i + 1,
                        hit.passage.doc_path,
                        hit.score
                    );
                    println!("    {}\n", one_line(&hit.passage.text, 320));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ask {
            question,
            collection,
            thread,
            json,
            policy,
        } => {
            // Arguments that are not valid UTF-8 are read with replacement characters, not refused.
            let request = AskRequest {
                question: question.to_string_lossy().into_owned(),
                collection,
                thread,
                policy,
            };
            let cancel = cancel_on_ctrl_c();
            let answer = ask(&library, &request, !json, &cancel).await?;
            if json {
                println!("{}", serde_json::to_string(&answer_json(&answer))?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Chat { collection, thread } => chat(&library, collection, thread).await,
        Command::Guard { .. } | Command::Keys { .. } | Command::Serve { .. } => {
            unreachable!("handled before the library opens")
        }
        Command::Traces { last, json } => {
            let traces = library.traces(last)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&traces)?);
            } else {
                for t in &traces {
                    println!(
                        "#{} {} {} · {} · {} · {}/{} · {}+{} tokens · ${:.4} · {:.0} ms · {}",
                        t.id,
                        t.created_at,
                        t.outcome,
                        t.route.as_deref().unwrap_or("-"),
                        t.tier.as_deref().unwrap_or("-"),
                        t.provider.as_deref().unwrap_or("-"),
                        t.model.as_deref().unwrap_or("-"),
                        t.tokens_in,
                        t.tokens_out,
                        t.cost,
                        t.total_ms,
                        one_line(&t.question, 80)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Trace { id, json } => {
            let Some((_, data)) = library.trace(id)? else {
                anyhow::bail!("there is no trace {id}");
            };
            if json {
                println!("{}", serde_json::to_string(&data)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&data)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Prompts { command } => prompts(&library, command),
        Command::Review { command } => {
            let (id, action, cache) = match command {
                ReviewCommand::List { all, json } => {
                    let items = library.reviews(all)?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&items)?);
                    } else if items.is_empty() {
                        eprintln!("no answer is waiting for review");
                    }
                    for r in items.iter().filter(|_| !json) {
                        println!(
                            "#{} {} · {} · {} · trace {}\n  Q: {}\n  A: {}\n",
                            r.id,
                            r.status,
                            r.mode,
                            r.reason,
                            r.trace_id.map_or("-".into(), |t| t.to_string()),
                            r.question,
                            r.final_text
                                .as_deref()
                                .unwrap_or(&r.answer)
                                .replace('\n', "\n     ")
                        );
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                ReviewCommand::Approve { id, cache } => (id, ReviewAction::Approve, cache),
                ReviewCommand::Edit { id, text, cache } => (id, ReviewAction::Edit(text), cache),
                ReviewCommand::Reject { id } => (id, ReviewAction::Reject, false),
            };
            let item = library.review(id, &action, cache)?;
            eprintln!(
                "answer {} {}{}",
                item.id,
                item.status,
                item.cached_as.map_or(String::new(), |e| format!(
                    ", kept in the cache as entry {e}"
                ))
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Cache { command } => match command {
            CacheCommand::Show { json } => {
                let usage = library.answer_cache_usage()?;
                let cfg = &library.config().cache;
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "enabled": cfg.enabled, "threshold": cfg.threshold,
                            "max_bytes": cfg.max_bytes, "ttl_secs": cfg.ttl_secs,
                            "entries": usage.entries, "bytes": usage.bytes, "hits": usage.hits,
                        })
                    );
                } else {
                    println!(
                        "{} · {} entries, {:.1} of {:.1} MB, served {} times · threshold {} · kept {} days",
                        if cfg.enabled { "on" } else { "off" },
                        usage.entries,
                        usage.bytes as f64 / 1e6,
                        cfg.max_bytes as f64 / 1e6,
                        usage.hits,
                        cfg.threshold,
                        cfg.ttl_secs / 86_400
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            CacheCommand::Clear { collection } => {
                let removed = library.clear_answer_cache(collection.as_deref())?;
                eprintln!("removed {removed} cached answers");
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Audit { command } => match command {
            AuditCommand::List { last, json } => {
                let entries = library.audit(last)?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&entries)?);
                } else if entries.is_empty() {
                    eprintln!("nothing has left this device");
                }
                for e in entries.iter().filter(|_| !json) {
                    let redacted: Vec<String> = e
                        .redacted
                        .iter()
                        .map(|(k, n)| format!("{k} ×{n}"))
                        .collect();
                    println!(
                        "#{} {} → {}/{}: {} characters; redacted: {}",
                        e.id,
                        e.at,
                        e.provider,
                        e.model,
                        e.chars,
                        if redacted.is_empty() {
                            "nothing".into()
                        } else {
                            redacted.join(", ")
                        }
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            AuditCommand::Verify { json } => {
                let verdict = library.verify_audit()?;
                if json {
                    println!("{}", serde_json::to_string(&verdict)?);
                }
                match &verdict.broken {
                    None => {
                        eprintln!("the audit log is intact ({} entries)", verdict.entries);
                        Ok(ExitCode::SUCCESS)
                    }
                    Some((id, why)) => {
                        eprintln!(
                            "the audit log was tampered with at entry {id}: {why} ({} entries before it are intact)",
                            verdict.entries
                        );
                        Ok(ExitCode::FAILURE)
                    }
                }
            }
        },
        Command::Stats { days, json } => {
            let spend = library.spend()?;
            let stats = library.stats(days)?;
            if json {
                let mut value = serde_json::to_value(&spend)?;
                value["figures"] = serde_json::to_value(&stats)?;
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print!("{}", spend_text(&spend));
                print!("{}", stats_text(&stats));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Feedback {
            trace,
            verdict,
            correction,
        } => {
            library.feedback(trace, verdict == "up", correction.as_deref())?;
            eprintln!("recorded {verdict} for trace {trace}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            command: ExportCommand::Feedback,
        } => {
            let mut out = std::io::stdout().lock();
            for example in library.feedback_examples()? {
                writeln!(out, "{}", serde_json::to_string(&example)?)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Docs { collection, json } => {
            let docs = library.documents(collection.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&docs)?);
            } else {
                for d in &docs {
                    let state = serde_json::to_value(d.state)?
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let error = d
                        .error_message
                        .as_deref()
                        .map(|e| format!("  ({e})"))
                        .unwrap_or_default();
                    println!(
                        "{:<8} {:>5} chunks  {:<10} {}{error}",
                        state, d.chunk_count, d.collection, d.path
                    );
                }
                println!("{} document(s)", docs.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rm {
            paths,
            collection,
            json,
        } => {
            let report = library.remove(&paths, &collection).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for path in &report.removed {
                    println!("removed {path}");
                }
                println!(
                    "{} document(s), {} chunk(s) removed",
                    report.removed.len(),
                    report.chunks
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { collection, json } => {
            let report = library.check(&collection).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "{} documents, {} chunks recorded, {} rows in the index, {} orphan rows",
                    report.indexed_documents,
                    report.chunks_in_store,
                    report.rows_in_index,
                    report.orphan_rows
                );
                for (path, store, index) in &report.mismatched {
                    println!("mismatch: {path}: {store} recorded, {index} in the index");
                }
            }
            Ok(if report.is_consistent() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Collections { json } => {
            let collections = library.collections()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&collections)?);
            } else {
                for c in &collections {
                    println!(
                        "{:<20} {} ({}, {} dimensions)",
                        c.name, c.embedder_id, c.embedder_fingerprint, c.dimension
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn one_line(text: &str, max_chars: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// A token that fires on the first Ctrl-C; a second Ctrl-C exits at once.
fn guard(pii: cairn_guard::PiiConfig) -> anyhow::Result<ExitCode> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes)?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            eprintln!(
                "warning: stdin is not valid UTF-8; invalid bytes read as U+FFFD (offsets count those)"
            );
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    let mut redactor = cairn_guard::Redactor::new(cairn_guard::PiiScanner::new(pii));
    let red = redactor.redact(&text)?;
    let offsets = cairn_guard::char_offsets(&text, &red.entities);
    let entities: Vec<serde_json::Value> = red
        .entities
        .iter()
        .zip(offsets)
        .map(|(e, (start, end))| {
            serde_json::json!({"type": e.kind.label(), "start": start, "end": end, "score": e.score})
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({"redacted": red.text, "entities": entities})
    );
    Ok(ExitCode::SUCCESS)
}

/// Asks one question; with `stream`, writes the answer as it is generated, then its sources.
async fn ask(
    library: &Library,
    request: &AskRequest,
    stream: bool,
    cancel: &CancelToken,
) -> anyhow::Result<Answer> {
    let on_event: cairn_engine::OnAnswerEvent =
        std::sync::Arc::new(move |event| match (stream, event) {
            (true, AnswerEvent::Text { text }) => {
                print!("{text}");
                let _ = std::io::stdout().flush();
            }
            (true, AnswerEvent::Retracted { reason }) => {
                println!("\n\n[withdrawn: {reason}]\n");
            }
            _ => {}
        });
    let answer = library.ask(request, on_event, cancel).await?;
    if stream {
        println!();
        print_sources(&answer);
    }
    Ok(answer)
}

fn print_sources(answer: &Answer) {
    let mut err = std::io::stderr();
    if !answer.citations.is_empty() {
        let _ = writeln!(err, "\nSources:");
        for c in &answer.citations {
            let page = c.page.map(|p| format!(", page {p}")).unwrap_or_default();
            let heading = if c.heading.is_empty() {
                String::new()
            } else {
                format!(" — {}", c.heading)
            };
            let how = if c.cited_by == "overlap" {
                " (closest match; the model cited nothing)"
            } else {
                ""
            };
            let _ = writeln!(err, "  [{}] {}{page}{heading}{how}", c.n, c.doc_path);
        }
    }
    if let Some(review) = &answer.review {
        let _ = writeln!(
            err,
            "  ({} for review as #{}: {}; see `cairn review list`)",
            if review.mode == cairn_engine::ReviewMode::Hold {
                "held"
            } else {
                "shown, and queued"
            },
            review.id.unwrap_or_default(),
            review.reason
        );
    }
    for step in &answer.fallbacks {
        let _ = writeln!(
            err,
            "  (fell back: {} failed with {}: {})",
            step.target, step.code, step.reason
        );
    }
    let tier = match answer.tier {
        Tier::Primary => answer.model.clone(),
        Tier::Secondary => format!("{} (fallback)", answer.model),
        Tier::Deterministic => "fixed answer".into(),
    };
    let place = match answer.provider.as_str() {
        "local" | "none" => "on this device".to_string(),
        "cache" => match &answer.cache {
            Some(hit) if hit.similarity >= 1.0 => {
                format!("from the answer cache (asked before, entry {})", hit.entry)
            }
            Some(hit) => format!(
                "from the answer cache (\"{}\", {:.3} similar, entry {})",
                hit.question, hit.similarity, hit.entry
            ),
            None => "from the answer cache".to_string(),
        },
        provider => format!(
            "sent to {provider} ({} redacted first) · ${:.4}",
            answer.redacted, answer.cost
        ),
    };
    let _ = writeln!(
        err,
        "\n{} · {} · {place} · thread {}{}",
        answer.route.label(),
        tier,
        answer.thread_id,
        if answer.truncated {
            " · cut short"
        } else {
            ""
        }
    );
}

/// The `--json` shape of an answer.
fn answer_json(a: &Answer) -> serde_json::Value {
    serde_json::json!({
        "answer": a.answer,
        "citations": a.citations.iter().map(|c| serde_json::json!({
            "n": c.n,
            "doc_path": c.doc_path,
            "page": c.page,
            "chunk_id": c.chunk_id,
            "heading": c.heading,
            "cited_by": c.cited_by,
        })).collect::<Vec<_>>(),
        "route": a.route,
        "route_reason": a.route_reason,
        "tier": a.tier,
        "prompt_version": a.prompt_version,
        "tokens_in": a.tokens_in,
        "tokens_out": a.tokens_out,
        "thread_id": a.thread_id,
        "model": a.model,
        "closest": a.closest.iter().map(|c| serde_json::json!({
            "doc_path": c.doc_path, "page": c.page, "chunk_id": c.chunk_id,
        })).collect::<Vec<_>>(),
        "truncated": a.truncated,
        "timings_ms": a.timings_ms,
        "input_check": a.input_check,
        "passages_flagged": a.passages_flagged,
        "output_check": a.output_check,
        "provider": a.provider,
        "cost": a.cost,
        "model_route": a.model_route,
        "fallbacks": a.fallbacks,
        "redacted": a.redacted,
        "trace_id": a.trace_id,
        "cache": a.cache,
        "review": a.review,
    })
}

/// `cairn serve`: the local API until Ctrl-C.
async fn serve(
    library: Library,
    bind: std::net::IpAddr,
    port: Option<u16>,
    show_token: bool,
) -> anyhow::Result<ExitCode> {
    let addr = std::net::SocketAddr::new(bind, port.unwrap_or(library.config().api.port));
    let token = cairn_server::token(None)?;
    let running = cairn_server::start(std::sync::Arc::new(library), addr, token.clone()).await?;
    if show_token {
        println!("{token}");
        std::io::stdout().flush()?;
    }
    eprintln!(
        "Cairn's API is listening on {} (this device only); models: cairn, cairn/<collection>, {}. \
         The token: `cairn serve --show-token`. Ctrl-C stops it.",
        running.base_url(),
        cairn_server::EMBEDDING_MODEL
    );
    running
        .stop_on(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// `cairn prompts list|show|use|rollback`.
fn prompts(library: &Library, command: PromptsCommand) -> anyhow::Result<ExitCode> {
    let infos = library.prompts();
    let info = |name: &str| {
        infos.iter().find(|i| i.name == name).ok_or_else(|| {
            let names: Vec<&str> = infos.iter().map(|i| i.name.as_str()).collect();
            anyhow::anyhow!(
                "there is no prompt template called {name}; the templates are {}",
                names.join(", ")
            )
        })
    };
    let config = library.data_dir().join("config.toml");
    let switch = |name: &str, version: &str, default: &str| -> anyhow::Result<ExitCode> {
        // The default version is written out too, so that a later default does not move it.
        cairn_engine::set_prompt_version(&config, name, Some(version))?;
        eprintln!(
            "{name} now uses {version}{} (in {})",
            if version == default {
                ", its default"
            } else {
                ""
            },
            config.display()
        );
        Ok(ExitCode::SUCCESS)
    };
    match command {
        PromptsCommand::List { json } => {
            if json {
                println!("{}", serde_json::to_string_pretty(&infos)?);
            }
            for i in infos.iter().filter(|_| !json) {
                let versions: Vec<String> = i
                    .versions
                    .iter()
                    .map(|v| {
                        let mut label = v.clone();
                        if *v == i.default {
                            label.push_str(" (default)");
                        }
                        if *v == i.active {
                            format!("[{label}]")
                        } else {
                            label
                        }
                    })
                    .collect();
                println!("{:<12} {}", i.name, versions.join("  "));
            }
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Show { template } => {
            let (name, version) = match template.split_once('@') {
                Some((name, version)) => (name, version.to_string()),
                None => (template.as_str(), info(&template)?.active.clone()),
            };
            let t = cairn_engine::prompts::find(name, &version).ok_or_else(|| {
                anyhow::anyhow!("there is no {name}@{version}; see `cairn prompts list`")
            })?;
            println!("{}", t.text());
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Use { template } => {
            let (name, version) = template
                .split_once('@')
                .ok_or_else(|| anyhow::anyhow!("write name@version, e.g. grounded@1.0.0"))?;
            let default = info(name)?.default.clone();
            switch(name, version, &default)
        }
        PromptsCommand::Rollback { name } => {
            let i = info(&name)?;
            let previous = i.previous.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "{name} is at its first version, {}: nothing to roll back to",
                    i.active
                )
            })?;
            switch(&name, previous, &i.default)
        }
    }
}

/// `cairn keys set|rm|list`.
fn keys(command: &KeysCommand, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let keychain = cairn_providers::Keychain::default();
    match command {
        KeysCommand::Set { provider } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let key = cairn_providers::ApiKey::new(line.trim()).ok_or_else(|| {
                anyhow::anyhow!(
                    "no key on stdin: pipe it in, e.g. `cairn keys set {provider} < key.txt`"
                )
            })?;
            line.clear();
            keychain.set(provider, &key)?;
            eprintln!("stored the key of {provider} in the OS keychain");
        }
        KeysCommand::Rm { provider } => {
            if keychain.remove(provider)? {
                eprintln!("removed the key of {provider}");
            } else {
                eprintln!("there was no key for {provider}");
            }
        }
        KeysCommand::List => {
            let config = cairn_engine::Config::load(&data_dir.join("config.toml"))?;
            if config.providers.is_empty() {
                eprintln!("no providers are configured ([[providers]] in config.toml)");
            }
            for p in &config.providers {
                let state = match p.key_source() {
                    cairn_providers::KeySource::None => "needs no key",
                    cairn_providers::KeySource::Keychain if keychain.has(&p.name)? => "key stored",
                    cairn_providers::KeySource::Keychain => "no key",
                };
                println!("{}\t{state}", p.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Operations and quality, for `cairn stats`.
fn stats_text(s: &cairn_engine::Stats) -> String {
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}%", 100.0 * x));
    let mut out = format!(
        "\nlast {} days: {} questions, {} failed (error rate {})\n",
        s.days,
        s.questions,
        s.failed,
        pct(s.error_rate)
    );
    for (stage, p) in &s.latency_ms {
        out.push_str(&format!(
            "  {stage:<12} p50 {:>8.1} ms   p95 {:>8.1} ms\n",
            p.p50, p.p95
        ));
    }
    out.push_str(&format!(
        "guardrails acted: {} · answer cache hits: {} · local {} / cloud {}\n",
        pct(s.guardrail_rate),
        s.cache_hit_rate
            .map_or("no answer cache".to_string(), |x| pct(Some(x))),
        pct(s.local_share),
        pct(s.cloud_share)
    ));
    out.push_str(&format!(
        "tokens {} in / {} out · ${:.4}\n",
        s.tokens_in, s.tokens_out, s.cost
    ));
    out.push_str(&format!(
        "grounded {} · 👍 {} of {} rated · follow-ups {} · deterministic tier {}\n",
        pct(s.grounded_rate),
        pct(s.thumbs_up_rate),
        s.rated,
        pct(s.follow_up_rate),
        pct(s.deterministic_rate)
    ));
    for d in &s.by_day {
        out.push_str(&format!(
            "  {}: {} questions, {} local, {} cloud, {}+{} tokens, ${:.4}\n",
            d.day, d.questions, d.local, d.cloud, d.tokens_in, d.tokens_out, d.cost
        ));
    }
    out
}

/// Spend against the budgets, for `cairn stats`.
fn spend_text(spend: &cairn_engine::Spend) -> String {
    let limit = |l: &cairn_engine::Limit| -> String {
        let mut parts = Vec::new();
        if let Some(c) = l.cost {
            parts.push(format!("${c:.2}"));
        }
        if let Some(t) = l.tokens {
            parts.push(format!("{t} tokens"));
        }
        if parts.is_empty() {
            "no limit".into()
        } else {
            parts.join(", ")
        }
    };
    let mut out = String::new();
    out.push_str(&format!(
        "today:      ${:.4}  {} tokens  (budget: {})\n",
        spend.today.cost,
        spend.today.tokens,
        limit(&spend.budget.day)
    ));
    out.push_str(&format!(
        "this month: ${:.4}  {} tokens  (budget: {})\n",
        spend.month.cost,
        spend.month.tokens,
        limit(&spend.budget.month)
    ));
    out.push_str(&format!(
        "per conversation budget: {}\n",
        limit(&spend.budget.conversation)
    ));
    if spend.by_model.is_empty() {
        out.push_str("no cloud calls this month\n");
    }
    for m in &spend.by_model {
        out.push_str(&format!(
            "  {}/{}: {} calls, {} tokens, ${:.4}\n",
            m.provider, m.model, m.calls, m.spent.tokens, m.spent.cost
        ));
    }
    out
}

async fn chat(
    library: &Library,
    collection: String,
    mut thread: Option<i64>,
) -> anyhow::Result<ExitCode> {
    // Ctrl-C stops the answer being written, not the session.
    let current = std::sync::Arc::new(std::sync::Mutex::new(CancelToken::new()));
    let watched = current.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            watched.lock().unwrap_or_else(|p| p.into_inner()).cancel();
        }
    });
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    loop {
        if interactive {
            print!("\n› ");
            let _ = std::io::stdout().flush();
        }
        let mut line = String::new();
        if stdin.read_line(&mut line)? == 0 {
            return Ok(ExitCode::SUCCESS);
        }
        if line.trim().is_empty() {
            continue;
        }
        let cancel = CancelToken::new();
        *current.lock().unwrap_or_else(|p| p.into_inner()) = cancel.clone();
        let request = AskRequest {
            question: line,
            collection: collection.clone(),
            thread,
            policy: None,
        };
        match ask(library, &request, true, &cancel).await {
            Ok(answer) => thread = Some(answer.thread_id),
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
}

fn cancel_on_ctrl_c() -> CancelToken {
    let cancel = CancelToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nstopping after the current batch (Ctrl-C again to quit now)…");
            token.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(exit::CANCELLED));
            }
        }
    });
    cancel
}

/// `cairn watch`: registers the folders named, reconciles every watched folder, then syncs each
/// batch of changes until Ctrl-C.
async fn watch(
    library: &Library,
    folders: Vec<PathBuf>,
    collection: Option<String>,
    list: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !folders.is_empty() {
        let collection = collection
            .as_deref()
            .unwrap_or(cairn_engine::DEFAULT_COLLECTION);
        for folder in &folders {
            library.watch_folder(collection, folder)?;
        }
    }
    let watched = library.watched(collection.as_deref())?;
    if list {
        for f in &watched {
            println!("{}\t{}", f.collection, f.path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if watched.is_empty() {
        anyhow::bail!("no folder is watched: name one, as in `cairn watch ~/Documents/notes`");
    }
    let cancel = cancel_on_ctrl_c();
    let watcher = library.folder_watcher()?;
    let mut roots: std::collections::BTreeMap<String, Vec<PathBuf>> = Default::default();
    for folder in watched {
        // A folder that cannot be watched (gone, or over the system's limit) is reported; the
        // others are watched.
        match watcher.watch(folder.clone()) {
            Ok(()) => roots
                .entry(folder.collection)
                .or_default()
                .push(folder.path),
            Err(e) => eprintln!("{e}"),
        }
    }
    if roots.is_empty() {
        anyhow::bail!("none of the watched folders can be watched");
    }
    let debounce = library.config().watch.debounce();
    for (collection, paths) in &roots {
        eprintln!(
            "watching {} for {collection}: {}",
            paths.len(),
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let report = library.add(paths, collection, &|_| {}, &cancel).await?;
        print_pass(json, collection, "reconcile", paths.len(), &report);
    }
    while let Some(batches) = watcher.next(debounce, &cancel).await {
        for batch in batches {
            let report = library
                .sync(&batch.paths, &batch.collection, &|_| {}, &cancel)
                .await?;
            let kind = if batch.rescan { "rescan" } else { "changes" };
            print_pass(json, &batch.collection, kind, batch.events, &report);
        }
    }
    eprintln!("stopped watching");
    Ok(ExitCode::SUCCESS)
}

/// One line for a watch pass: a summary, or JSON with each file's outcome.
fn print_pass(json: bool, collection: &str, kind: &str, changes: usize, report: &AddReport) {
    if json {
        let line = serde_json::json!({
            "collection": collection, "pass": kind, "changes": changes,
            "indexed": report.indexed(), "unchanged": report.unchanged(),
            "removed": report.removed(), "failed": report.failed(),
            "seconds": report.elapsed.as_secs_f64(), "files": report.outcomes,
        });
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        return;
    }
    for outcome in &report.outcomes {
        if let FileStatus::Failed { reason, .. } = &outcome.status {
            eprintln!("failed: {}: {reason}", outcome.path);
        }
    }
    eprintln!(
        "{collection}: {kind} ({changes}): {} indexed, {} removed, {} failed, {} unchanged in {:.1}s",
        report.indexed(),
        report.removed(),
        report.failed(),
        report.unchanged(),
        report.elapsed.as_secs_f64()
    );
}

/// Shows an add-like operation: a progress bar on a terminal, or one JSON line per file with `--json`.
struct Reporter {
    json: bool,
    bar: Option<ProgressBar>,
}

/// Runs an add-like operation (add, retry, reindex) with its progress shown and Ctrl-C as
/// cancellation; its exit code.
async fn reported(
    json: bool,
    run: impl AsyncFnOnce(&(dyn Fn(Progress) + Sync), &CancelToken) -> cairn_engine::Result<AddReport>,
) -> anyhow::Result<ExitCode> {
    let cancel = cancel_on_ctrl_c();
    let reporter = Reporter::new(json);
    let report = reporter.finish(run(&|e| reporter.event(e), &cancel).await)?;
    Ok(add_exit_code(&report, json))
}

impl Reporter {
    fn new(json: bool) -> Reporter {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} files  {elapsed_precise}  eta {eta}  {wide_msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        Reporter { json, bar }
    }

    fn event(&self, event: Progress) {
        match &event {
            Progress::Discovered { files, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(*files as u64);
                }
            }
            Progress::Stage { path, stage } => {
                if let Some(bar) = &self.bar {
                    let name = std::path::Path::new(path)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned());
                    bar.set_message(
                        format!("{stage:?}: {}", name.unwrap_or_default()).to_lowercase(),
                    );
                }
            }
            Progress::Finished(outcome) => {
                if self.json {
                    let line = serde_json::to_string(outcome).unwrap_or_default();
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                    return;
                }
                let failure = match &outcome.status {
                    FileStatus::Failed { reason, .. } => {
                        Some(format!("failed: {}: {reason}", outcome.path))
                    }
                    _ => None,
                };
                match (&self.bar, failure) {
                    (Some(bar), failure) => {
                        if !matches!(outcome.status, FileStatus::Removed) {
                            bar.inc(1);
                        }
                        if let Some(line) = failure {
                            bar.println(line);
                        }
                    }
                    (None, Some(line)) => eprintln!("{line}"),
                    (None, None) => {}
                }
            }
        }
    }

    fn finish(&self, report: cairn_engine::Result<AddReport>) -> anyhow::Result<AddReport> {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let report = report?;
        if !self.json {
            eprintln!(
                "{} indexed, {} unchanged, {} removed, {} failed; {} chunks in {:.1}s{}",
                report.indexed(),
                report.unchanged(),
                report.removed(),
                report.failed(),
                report.chunks_written,
                report.elapsed.as_secs_f64(),
                if report.cancelled { " (cancelled)" } else { "" }
            );
        }
        Ok(report)
    }
}

fn add_exit_code(report: &AddReport, json: bool) -> ExitCode {
    if json {
        let summary = serde_json::json!({
            "summary": {
                "indexed": report.indexed(), "unchanged": report.unchanged(), "removed": report.removed(),
                "failed": report.failed(), "chunks": report.chunks_written, "cancelled": report.cancelled,
                "seconds": report.elapsed.as_secs_f64(),
            }
        });
        println!("{summary}");
    }
    if report.cancelled {
        ExitCode::from(exit::CANCELLED)
    } else if report.failed() > 0 && report.indexed() + report.unchanged() == 0 {
        ExitCode::from(exit::NONE_INDEXED)
    } else if report.failed() > 0 {
        ExitCode::from(exit::SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
