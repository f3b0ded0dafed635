//! The answer-level evaluation: every question of `tests/eval` asked end to end through
//! `Library::ask` over `tests/corpus`, once per chat model, and judged against its gold answers
//! (`tests/eval/answers.jsonl`: an answer is correct when it contains any gold string,
//! case-insensitively, whitespace collapsed). Prints one Markdown table row per model and split.
//!
//! ```sh
//! cargo bench --profile dev -p cairn-engine --bench answers     # held-out part, every model under models/
//! cargo bench --profile dev -p cairn-engine --bench answers -- --split dev --model /abs/path.gguf --limit 10 --show
//! cargo bench --profile dev -p cairn-engine --bench answers -- --prompt grounded=1.1.0   # another template version
//! cargo bench --profile dev -p cairn-engine --bench answers -- --tiers   # the two local tiers, as shipped
//! cargo bench --profile dev -p cairn-engine --bench answers -- --tiers --fast /abs/0.5b.gguf   # another fast tier
//! cargo bench --profile dev -p cairn-engine --bench answers -- --whole-passages   # passages not condensed
//! cargo bench --profile dev -p cairn-engine --bench answers -- --corpus licenses   # the second corpus
//! cargo bench --profile dev -p cairn-engine --bench answers -- --split dev --only q004,q008   # those alone
//! ```
//!
//! `--corpus licenses` asks the questions of `tests/eval/licenses.jsonl` over the ten licence
//! texts Debian ships in `/usr/share/common-licenses` (text no one here wrote) instead.
//!
//! `--summarise FILE` times one whole-document summary instead ("Summarise <file name>" over a
//! library of that file alone, the two tiers as shipped): parts read, time to the first progress
//! event, to the first token of the answer, and in all.
//!
//! Each `--model` row is that model alone (`models.local_answers = "fast"`). `--tiers` adds the
//! two tiers: the fast model (`models.chat`) for simple questions and the strong one
//! (`models.strong_chat`) for the rest, picked by the complexity classifier; with `--tiers` and no
//! `--model`, only that row. (The default, the strong model for every question, is the
//! Qwen2.5-Coder-1.5B `--model` row.)
//!
//! The dev profile builds the model crates optimised (see the workspace's `Cargo.toml`), so the
//! model's times are the product's, and reuses the test build instead of a cold release build of
//! LanceDB.
//!
//! Outcomes of an answerable question: **correct**; **correct and cited** (it also cites a
//! passage of a relevant document); **wrong** (a model's answer without the gold: the worst
//! outcome); **withheld** (a fixed answer without it: nothing found, quoted passages, declined; a
//! fixed answer that cites nothing never counts as correct).
//! An unanswerable question is **declined** when the answer is a fixed one or the model says the
//! passages do not hold it, else it is answered-but-wrong. Time to first token is from the question
//! to the first streamed piece of text of a model's answer (routing, search and reranking
//! included; the first question also loads the models).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_engine::{AnswerEvent, AskRequest, CancelToken, Config, Library, Tier};
use serde::Deserialize;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The same allocator as the `cairn` binary, so the figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The chat models compared when none is named: the default and the two Qwen sizes, where
/// `scripts/fetch-models` has put them.
const MODELS: [&str; 3] = [
    "models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf",
    "models/Qwen2.5-Coder-0.5B-Instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    "models/Qwen2.5-Coder-1.5B-Instruct/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
];

#[derive(Deserialize)]
struct Question {
    id: String,
    question: String,
    #[serde(default)]
    relevant: Vec<Relevant>,
}

#[derive(Deserialize)]
struct Relevant {
    doc: String,
}

/// A question of the licence set: question, gold and split on one line.
#[derive(Deserialize)]
struct LicenceCase {
    id: String,
    question: String,
    #[serde(default)]
    gold: Vec<String>,
    #[serde(default)]
    relevant: Vec<Relevant>,
    #[serde(default)]
    unanswerable: bool,
    split: String,
}

/// Where Debian's `base-files` keeps the licence texts of the second corpus.
const LICENCES_DIR: &str = "/usr/share/common-licenses";

/// The licence texts of the second corpus (`tests/eval/licenses.jsonl`).
const LICENCES: [&str; 10] = [
    "Apache-2.0",
    "Artistic",
    "BSD",
    "CC0-1.0",
    "GFDL-1.3",
    "GPL-2",
    "GPL-3",
    "LGPL-2.1",
    "LGPL-3",
    "MPL-2.0",
];

/// The licence texts copied into `into` as `NAME.txt` (they have no extension to tell their
/// format by), and the licence set's questions, their documents named as copied.
fn licence_corpus(into: &Path) -> Result<Vec<Case>> {
    std::fs::create_dir_all(into)?;
    for name in LICENCES {
        let from = Path::new(LICENCES_DIR).join(name);
        std::fs::copy(&from, into.join(format!("{name}.txt"))).map_err(|e| {
            format!(
                "{}: {e} (Debian's base-files package has it)",
                from.display()
            )
        })?;
    }
    let set: Vec<LicenceCase> = read_jsonl(&root().join("tests/eval/licenses.jsonl"))?;
    Ok(set
        .into_iter()
        .map(|c| Case {
            id: c.id,
            question: c.question,
            gold: c.gold,
            relevant_docs: c
                .relevant
                .iter()
                .map(|r| format!("{}.txt", r.doc))
                .collect(),
            unanswerable: c.unanswerable,
            split: c.split,
        })
        .collect())
}

#[derive(Deserialize)]
struct Gold {
    id: String,
    #[serde(default)]
    gold: Vec<String>,
    #[serde(default)]
    question: Option<String>,
    #[serde(default)]
    unanswerable: bool,
    split: String,
}

/// One question to ask, with what judges its answer.
struct Case {
    id: String,
    question: String,
    gold: Vec<String>,
    relevant_docs: Vec<String>,
    unanswerable: bool,
    split: String,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        out.push(
            serde_json::from_str(line)
                .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?,
        );
    }
    Ok(out)
}

fn cases() -> Result<Vec<Case>> {
    let eval = root().join("tests/eval");
    let questions: Vec<Question> = read_jsonl(&eval.join("questions.jsonl"))?;
    let golds: Vec<Gold> = read_jsonl(&eval.join("answers.jsonl"))?;
    let mut out = Vec::new();
    for g in golds {
        let asked = questions.iter().find(|q| q.id == g.id);
        let question = match (&g.question, asked) {
            (Some(q), _) => q.clone(),
            (None, Some(q)) => q.question.clone(),
            (None, None) => return Err(format!("{}: no such question", g.id).into()),
        };
        if !g.unanswerable && g.gold.is_empty() {
            return Err(format!("{}: an answerable question without gold answers", g.id).into());
        }
        out.push(Case {
            id: g.id,
            question,
            gold: g.gold,
            relevant_docs: asked
                .map(|q| q.relevant.iter().map(|r| r.doc.clone()).collect())
                .unwrap_or_default(),
            unanswerable: g.unanswerable,
            split: g.split,
        });
    }
    Ok(out)
}

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Phrases with which a model says the passages do not hold the answer.
const DECLINES: [&str; 13] = [
    "not mention",
    "could not find",
    "couldn't find",
    "does not say",
    "doesn't say",
    "not stated",
    "no information",
    "don't know",
    "do not know",
    "cannot find",
    "can't find",
    "not provided",
    "do not contain",
];

#[derive(Default)]
struct Tally {
    answerable: usize,
    correct: usize,
    cited: usize,
    wrong: usize,
    withheld: usize,
    unanswerable: usize,
    declined: usize,
    first_token: Vec<Duration>,
    total: Vec<Duration>,
    retrieve: Vec<Duration>,
    prompt_tokens: Vec<usize>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn share(n: usize, of: usize) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{:.2} ({n}/{of})", n as f64 / of as f64)
    }
}

impl Tally {
    fn row(&mut self, model: &str, split: &str) -> String {
        self.first_token.sort();
        self.total.sort();
        self.retrieve.sort();
        self.prompt_tokens.sort();
        let tokens = self
            .prompt_tokens
            .get(self.prompt_tokens.len() / 2)
            .copied()
            .unwrap_or(0);
        format!(
            "| {model} | {split} | {} | {} | {} | {} | {} | {:.1} s | {:.1} s | {:.1} s | {:.1} s | {tokens} |",
            share(self.correct, self.answerable),
            share(self.cited, self.answerable),
            share(self.wrong, self.answerable),
            share(self.withheld, self.answerable),
            share(self.declined, self.unanswerable),
            percentile(&self.first_token, 0.5).as_secs_f64(),
            percentile(&self.first_token, 0.95).as_secs_f64(),
            percentile(&self.total, 0.5).as_secs_f64(),
            percentile(&self.retrieve, 0.5).as_secs_f64(),
        )
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| -> Vec<String> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].clone())
            .collect()
    };
    if let Some(file) = value("--summarise").pop() {
        return summarise(Path::new(&file), args.iter().any(|a| a == "--show"));
    }
    let split = value("--split").pop().unwrap_or_else(|| "held_out".into());
    let limit: usize = value("--limit")
        .pop()
        .map_or(Ok(usize::MAX), |v| v.parse())?;
    let show = args.iter().any(|a| a == "--show");
    let tiers = args.iter().any(|a| a == "--tiers");
    // `--tiers --fast PATH`: that model as the fast tier instead of `models.chat`'s default.
    let fast_model: Option<PathBuf> = value("--fast").pop().map(PathBuf::from);
    let whole_passages = args.iter().any(|a| a == "--whole-passages");
    let mut models: Vec<PathBuf> = value("--model").into_iter().map(PathBuf::from).collect();
    if models.is_empty() && !tiers {
        models = MODELS
            .iter()
            .map(|m| root().join(m))
            .filter(|p| p.exists())
            .collect();
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let data = tempfile::tempdir()?;
    let copied = tempfile::tempdir()?;
    let corpus = value("--corpus").pop().unwrap_or_else(|| "tests".into());
    let (all_cases, documents, corpus_name) = match corpus.as_str() {
        "tests" => (cases()?, root().join("tests/corpus"), "tests/corpus"),
        "licenses" => {
            let dir = copied.path().join("licenses");
            (licence_corpus(&dir)?, dir, "Debian's licence texts")
        }
        other => return Err(format!("--corpus is tests or licenses, not {other}").into()),
    };
    // `--only q004,q008`: those questions alone (of the split).
    let only: Vec<String> = value("--only")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|id| id.trim().to_string())
        .collect();
    let cases: Vec<Case> = all_cases
        .into_iter()
        .filter(|c| split == "all" || c.split == split)
        .filter(|c| only.is_empty() || only.contains(&c.id))
        .take(limit)
        .collect();
    // The corpus is indexed once; each model opens the same library.
    runtime.block_on(async {
        let library = Library::open(data.path(), Config::default()).await?;
        library
            .add(
                std::slice::from_ref(&documents),
                "default",
                &|_| {},
                &CancelToken::new(),
            )
            .await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;

    println!(
        "## Answers on {corpus_name} ({split}: {} questions, {} of them unanswerable)\n",
        cases.len(),
        cases.iter().filter(|c| c.unanswerable).count()
    );
    println!(
        "| model | split | correct | correct and cited | answered but wrong | withheld | unanswerable declined | TTFT p50 | TTFT p95 | total p50 | of which search p50 | prompt tokens p50 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    // `None`: the two local tiers as shipped.
    let mut strategies: Vec<Option<PathBuf>> = models.into_iter().map(Some).collect();
    if tiers {
        strategies.push(None);
    }
    for strategy in &strategies {
        let mut config = Config::default();
        let name = match strategy {
            Some(model) => {
                config.models.chat = Some(model.clone());
                config.models.local_answers = cairn_engine::LocalAnswers::Fast;
                model
                    .file_stem()
                    .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
            }
            None => {
                config.models.local_answers = cairn_engine::LocalAnswers::Tiers;
                let fast_name = match &fast_model {
                    Some(fast) => {
                        config.models.chat = Some(fast.clone());
                        fast.file_stem()
                            .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
                    }
                    None => "SmolLM2-135M".to_string(),
                };
                format!("two tiers: {fast_name} fast, Qwen2.5-Coder-1.5B strong")
            }
        };
        // Every question answered afresh.
        config.cache.enabled = false;
        config.answer.condense = !whole_passages;
        for pick in value("--prompt") {
            let (name, version) = pick.split_once('=').ok_or("--prompt wants name=version")?;
            config.prompts.insert(name.into(), version.into());
        }
        let mut tally = Tally::default();
        runtime.block_on(async {
            let library = Library::open(data.path(), config).await?;
            for case in &cases {
                let started = Instant::now();
                let first = Arc::new(Mutex::new(None::<Duration>));
                let seen = first.clone();
                let on_event = Arc::new(move |event: AnswerEvent| {
                    if matches!(event, AnswerEvent::Text { .. }) {
                        seen.lock().unwrap().get_or_insert(started.elapsed());
                    }
                });
                let answer = library
                    .ask(
                        &AskRequest::new(case.question.clone()),
                        on_event,
                        &CancelToken::new(),
                    )
                    .await?;
                let total = started.elapsed();
                let text = normalise(&answer.answer);
                let fixed = answer.tier == Tier::Deterministic;
                let verdict = if case.unanswerable {
                    tally.unanswerable += 1;
                    let declined = fixed || DECLINES.iter().any(|d| text.contains(d));
                    tally.declined += usize::from(declined);
                    if declined { "declined" } else { "answered" }
                } else {
                    tally.answerable += 1;
                    // A fixed answer that cites nothing (nothing found, a refusal) may name a
                    // heading that holds a gold string; it does not answer.
                    let answers = !(fixed && answer.citations.is_empty());
                    let correct = answers && case.gold.iter().any(|g| text.contains(&normalise(g)));
                    let cited = correct
                        && answer.citations.iter().any(|c| {
                            case.relevant_docs
                                .iter()
                                .any(|d| c.doc_path.ends_with(d.as_str()))
                        });
                    tally.correct += usize::from(correct);
                    tally.cited += usize::from(cited);
                    match (correct, fixed) {
                        (true, _) => "correct",
                        (false, true) => {
                            tally.withheld += 1;
                            "withheld"
                        }
                        (false, false) => {
                            tally.wrong += 1;
                            "wrong"
                        }
                    }
                };
                if !fixed && let Some(t) = *first.lock().unwrap() {
                    tally.first_token.push(t);
                    tally.prompt_tokens.push(answer.tokens_in);
                }
                tally
                    .retrieve
                    .push(Duration::from_secs_f64(answer.timings_ms.retrieve / 1e3));
                tally.total.push(total);
                if show {
                    eprintln!(
                        "{name} {} [{verdict}] {:.1} s ({}, {}): {}\n  → {}\n",
                        case.id,
                        total.as_secs_f64(),
                        answer.model,
                        answer.route.label(),
                        case.question,
                        answer.answer.replace('\n', " ")
                    );
                }
            }
            Ok::<_, Box<dyn std::error::Error>>(())
        })?;
        println!("{}", tally.row(&name, &split));
    }
    println!();
    Ok(())
}

/// Times "Summarise <file name>" over a library holding `file` alone.
fn summarise(file: &Path, show: bool) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let data = tempfile::tempdir()?;
    let name = file
        .file_name()
        .ok_or("--summarise wants a file")?
        .to_string_lossy()
        .into_owned();
    let words = std::fs::read_to_string(file)?.split_whitespace().count();
    runtime.block_on(async {
        let mut config = Config::default();
        config.cache.enabled = false;
        let library = Library::open(data.path(), config).await?;
        library
            .add(&[file.to_path_buf()], "default", &|_| {}, &CancelToken::new())
            .await?;
        // The models load before the clock starts, as in a running app.
        library.chat_model()?;
        library.chat_model_for(cairn_engine::LocalTier::Strong)?;
        let started = Instant::now();
        let seen = Arc::new(Mutex::new((None::<Duration>, None::<Duration>, 0usize)));
        let sink = seen.clone();
        let on_event = Arc::new(move |event: AnswerEvent| {
            let mut s = sink.lock().unwrap();
            match event {
                AnswerEvent::Progress { total, .. } => {
                    s.0.get_or_insert(started.elapsed());
                    s.2 = total;
                }
                AnswerEvent::Text { .. } => {
                    s.1.get_or_insert(started.elapsed());
                }
                _ => {}
            }
        });
        let answer = library
            .ask(
                &AskRequest::new(format!("Summarise {name}")),
                on_event,
                &CancelToken::new(),
            )
            .await?;
        let total = started.elapsed();
        let (progress, first_token, parts) = *seen.lock().unwrap();
        println!("## Whole-document summary\n");
        println!(
            "| document | words | parts read | first progress | TTFT | total | answer words | parts cited | route |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        println!(
            "| {name} | {words} | {parts} | {:.1} s | {:.1} s | {:.1} s | {} | {} | {} |",
            progress.unwrap_or_default().as_secs_f64(),
            first_token.unwrap_or_default().as_secs_f64(),
            total.as_secs_f64(),
            answer.answer.split_whitespace().count(),
            answer.citations.len(),
            answer.route.label()
        );
        if show {
            eprintln!("{}", answer.answer);
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
