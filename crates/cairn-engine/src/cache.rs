//! The semantic answer cache: a question close enough in meaning to an earlier one, in the same
//! collection, whose sources are unchanged, gets the earlier answer without retrieval or a model.
//!
//! Closeness alone is not enough: "how do I enable sync" and "how do I disable sync" are nearer
//! than most true paraphrases. A candidate above the similarity threshold is therefore also read
//! word by word, and refused when the two questions differ in a number, a negation, a pair of
//! opposites, a name, the kind of thing asked for, or a single swapped word ([`conflict`]). Entries
//! live in SQLite (shared by every process on the library, bounded in bytes, least recently used
//! evicted, expired after a time to live); this module keeps their keys in memory.

use std::collections::BTreeSet;
use std::sync::Mutex;

use cairn_store::{CacheKeyRow, Store};
use serde::{Deserialize, Serialize};

use crate::answer::{Citation, Tier};
use crate::error::Result;
use crate::router::Route;

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

/// A source of a cached answer, as it was when the answer was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedSource {
    /// The document.
    pub doc_path: String,
    /// The document's content hash then.
    pub content_hash: Option<String>,
    /// The passage.
    pub chunk_id: String,
    /// SHA-256 of the passage's text.
    pub chunk_hash: String,
}

/// A cited passage, as cached (fields as on [`Citation`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedCitation {
    n: usize,
    doc_path: String,
    page: Option<u32>,
    chunk_id: String,
    heading: String,
    text: String,
    score: f32,
    cited_by: String,
    tokens: usize,
}

impl From<&Citation> for CachedCitation {
    fn from(c: &Citation) -> Self {
        CachedCitation {
            n: c.n,
            doc_path: c.doc_path.clone(),
            page: c.page,
            chunk_id: c.chunk_id.clone(),
            heading: c.heading.clone(),
            text: c.text.clone(),
            score: c.score,
            cited_by: c.cited_by.into(),
            tokens: c.tokens,
        }
    }
}

impl From<CachedCitation> for Citation {
    fn from(c: CachedCitation) -> Self {
        Citation {
            n: c.n,
            doc_path: c.doc_path,
            page: c.page,
            chunk_id: c.chunk_id,
            heading: c.heading,
            text: c.text,
            score: c.score,
            cited_by: if c.cited_by == "overlap" {
                "overlap"
            } else {
                "model"
            },
            tokens: c.tokens,
        }
    }
}

/// What an entry holds of its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedAnswer {
    /// The text.
    pub answer: String,
    /// Passages it cites.
    pub citations: Vec<CachedCitation>,
    /// The route it took.
    pub route: Route,
    /// The tier that made it.
    pub tier: Tier,
    /// The prompt template, `name@version`.
    pub prompt_version: String,
    /// The model.
    pub model: String,
    /// `local` or a provider.
    pub provider: String,
}

/// On an answer served from the cache: the entry and the question it answered first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheHit {
    /// The entry.
    pub entry: i64,
    /// The earlier question.
    pub question: String,
    /// Cosine similarity of the two questions (1 for the same words).
    pub similarity: f32,
    /// The trace of the answer when it was made.
    pub trace_id: Option<i64>,
    /// Who made it: `local` or a provider, and the model.
    pub made_by: String,
    /// When it was made, Unix seconds.
    pub made_at: i64,
}

/// The cache's part of a trace: the lookup and whether the answer was kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheTrace {
    /// `off` (disabled in the config), `skipped` (not a question the cache answers), `hit` or
    /// `miss`.
    pub lookup: &'static str,
    /// Why it was skipped or missed.
    pub reason: Option<String>,
    /// The nearest earlier question.
    pub nearest: Option<String>,
    /// Its similarity.
    pub similarity: Option<f32>,
    /// The threshold in force.
    pub threshold: f32,
    /// The entry served.
    pub entry: Option<i64>,
    /// Entries removed because one of their sources changed.
    pub invalidated: Vec<i64>,
    /// `stored` (entry id in `entry_stored`), or why the answer was not kept.
    pub store: Option<String>,
    /// The entry this answer was stored as.
    pub entry_stored: Option<i64>,
    /// Entries evicted to make room for it.
    pub evicted: usize,
}

impl CacheTrace {
    /// A trace for a lookup that did not happen.
    pub fn skipped(lookup: &'static str, reason: &str, threshold: f32) -> Self {
        CacheTrace {
            lookup,
            reason: Some(reason.into()),
            nearest: None,
            similarity: None,
            threshold,
            entry: None,
            invalidated: Vec::new(),
            store: None,
            entry_stored: None,
            evicted: 0,
        }
    }
}

/// A candidate the lookup found: an entry and how close it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The entry.
    pub id: i64,
    /// Its question.
    pub question: String,
    /// Cosine similarity to the question looked up.
    pub similarity: f32,
}

/// The outcome of looking in the keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lookup {
    /// The entry to serve, if its sources still hold.
    pub candidate: Option<Candidate>,
    /// The nearest entry, served or not.
    pub nearest: Option<Candidate>,
    /// Why the nearest was not served.
    pub refused: Option<String>,
}

/// The keys of the cached entries, kept in step with the store.
#[derive(Debug, Default)]
pub struct AnswerCache {
    state: Mutex<Keys>,
}

#[derive(Debug, Default)]
struct Keys {
    /// The highest id read from the store.
    seen: i64,
    rows: Vec<CacheKeyRow>,
}

impl AnswerCache {
    /// Finds the entry to serve for `question` (normalised `normalised`, embedded `vector`, or
    /// `None` to look for the same words only) in `collection`. Entries past their time to live
    /// are removed on the way.
    pub fn lookup(
        &self,
        store: &Store,
        config: &CacheConfig,
        collection: &str,
        embedder_id: &str,
        question: &str,
        vector: Option<&[f32]>,
    ) -> Result<Lookup> {
        let normalised = normalise(question);
        let mut keys = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = store.cache_keys_after(keys.seen)?;
        if let Some(last) = fresh.last() {
            keys.seen = last.id;
        }
        keys.rows.extend(fresh);
        // Served for `ttl_secs` after it was made: with 0, never.
        let expires = |r: &CacheKeyRow| r.created_at.saturating_add(config.ttl_secs as i64);
        let now = cairn_store::now_unix();
        let expired: Vec<i64> = keys
            .rows
            .iter()
            .filter(|r| expires(r) <= now)
            .map(|r| r.id)
            .collect();
        if !expired.is_empty() {
            store.cache_remove(&expired)?;
            keys.rows.retain(|r| expires(r) > now);
        }
        let mut candidates: Vec<Candidate> = keys
            .rows
            .iter()
            .filter(|r| r.collection == collection && r.embedder_id == embedder_id)
            .filter_map(|r| {
                let similarity = if r.normalised == normalised {
                    1.0
                } else {
                    cosine(vector?, &r.vector)
                };
                Some(Candidate {
                    id: r.id,
                    question: r.question.clone(),
                    similarity,
                })
            })
            .collect();
        candidates.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        let mut lookup = Lookup {
            nearest: candidates.first().cloned(),
            ..Lookup::default()
        };
        for candidate in candidates {
            if candidate.similarity < config.threshold {
                break;
            }
            match conflict(question, &candidate.question) {
                Some(why) if candidate.similarity < 1.0 => {
                    if lookup.refused.is_none() {
                        lookup.refused = Some(why);
                    }
                }
                _ => {
                    lookup.candidate = Some(candidate);
                    return Ok(lookup);
                }
            }
        }
        if lookup.refused.is_none() {
            lookup.refused = lookup.nearest.as_ref().map(|n| {
                format!(
                    "the nearest earlier question is {:.3} similar, below {:.3}",
                    n.similarity, config.threshold
                )
            });
        }
        Ok(lookup)
    }

    /// Forgets entries (evicted, invalidated, or gone from the store).
    pub fn forget(&self, ids: &[i64]) {
        let mut keys = self.state.lock().unwrap_or_else(|p| p.into_inner());
        keys.rows.retain(|r| !ids.contains(&r.id));
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Words, lower-cased, with contractions opened ("don't" → "do not", "what's" → "what is") and
/// possessives dropped ("Anna's" → "anna").
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text
        .to_lowercase()
        .replace(['’', '‘'], "'")
        .split_whitespace()
    {
        let opened = match raw.split_once('\'') {
            Some((stem, tail)) => {
                let tail = tail.trim_end_matches(|c: char| !c.is_alphanumeric());
                match (stem, tail) {
                    ("can" | "ca", "t") => "can not".to_string(),
                    ("won" | "wo", "t") => "will not".to_string(),
                    (_, "t") if stem.ends_with('n') => format!("{} not", &stem[..stem.len() - 1]),
                    (
                        "what" | "it" | "that" | "there" | "who" | "where" | "how" | "he" | "she"
                        | "here" | "when" | "why" | "which",
                        "s",
                    ) => format!("{stem} is"),
                    (_, "s") => stem.to_string(),
                    (_, "re") => format!("{stem} are"),
                    (_, "ll") => format!("{stem} will"),
                    (_, "ve") => format!("{stem} have"),
                    (_, "m") => format!("{stem} am"),
                    (_, "d") => format!("{stem} would"),
                    _ => format!("{stem} {tail}"),
                }
            }
            None => raw.replace("cannot", "can not"),
        };
        out.extend(
            opened
                .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '%' || c == '$'))
                .map(|w| w.trim_matches('.'))
                .filter(|w| !w.is_empty())
                .map(str::to_string),
        );
    }
    out
}

/// The question as compared for the same words: lower case, contractions opened, punctuation and
/// spacing dropped.
pub fn normalise(question: &str) -> String {
    words(question)
        .into_iter()
        .filter(|w| !matches!(w.as_str(), "please" | "pls" | "plz"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A crude stem: enough that "enabled", "enables" and "enable" compare equal.
fn stem(word: &str) -> String {
    let mut w = word.to_string();
    for suffix in ["ing", "ed", "es", "s", "e"] {
        if w.len() > suffix.len() + 3 && w.ends_with(suffix) {
            w.truncate(w.len() - suffix.len());
            break;
        }
    }
    w
}

const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "never",
    "without",
    "none",
    "nobody",
    "nothing",
    "neither",
    "nor",
    "nowhere",
    "except",
    "excluding",
    "lack",
    "lacks",
    "missing",
];

const NUMBER_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "hundred", "thousand",
    "million", "billion", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
    "eighth", "ninth", "tenth", "last", "once", "twice", "half", "quarter", "double", "single",
    "dozen", "both",
];

/// Pairs of opposites (stemmed when compared). A question holding one and its pair holding the
/// other asks the opposite thing.
const OPPOSITES: &[(&str, &str)] = &[
    ("enable", "disable"),
    ("enabled", "disabled"),
    ("on", "off"),
    ("in", "out"),
    ("into", "out"),
    ("up", "down"),
    ("add", "remove"),
    ("add", "delete"),
    ("create", "delete"),
    ("create", "remove"),
    ("increase", "decrease"),
    ("raise", "lower"),
    ("raise", "reduce"),
    ("increase", "reduce"),
    ("start", "stop"),
    ("start", "end"),
    ("begin", "end"),
    ("open", "close"),
    ("opened", "closed"),
    ("lock", "unlock"),
    ("show", "hide"),
    ("import", "export"),
    ("upload", "download"),
    ("encrypt", "decrypt"),
    ("install", "uninstall"),
    ("allow", "block"),
    ("allow", "deny"),
    ("allow", "forbid"),
    ("allow", "prohibit"),
    ("permit", "prohibit"),
    ("include", "exclude"),
    ("before", "after"),
    ("buy", "sell"),
    ("purchase", "sell"),
    ("hire", "fire"),
    ("hire", "dismiss"),
    ("accept", "reject"),
    ("accept", "decline"),
    ("approve", "reject"),
    ("approve", "deny"),
    ("approve", "decline"),
    ("connect", "disconnect"),
    ("mount", "unmount"),
    ("subscribe", "unsubscribe"),
    ("inbound", "outbound"),
    ("incoming", "outgoing"),
    ("input", "output"),
    ("min", "max"),
    ("minimum", "maximum"),
    ("largest", "smallest"),
    ("biggest", "smallest"),
    ("larger", "smaller"),
    ("bigger", "smaller"),
    ("most", "least"),
    ("more", "less"),
    ("more", "fewer"),
    ("highest", "lowest"),
    ("higher", "lower"),
    ("high", "low"),
    ("best", "worst"),
    ("better", "worse"),
    ("good", "bad"),
    ("oldest", "newest"),
    ("oldest", "youngest"),
    ("older", "newer"),
    ("older", "younger"),
    ("old", "new"),
    ("earliest", "latest"),
    ("earlier", "later"),
    ("early", "late"),
    ("first", "last"),
    ("cheapest", "expensive"),
    ("cheaper", "expensive"),
    ("cheap", "expensive"),
    ("faster", "slower"),
    ("fastest", "slowest"),
    ("fast", "slow"),
    ("long", "short"),
    ("longer", "shorter"),
    ("longest", "shortest"),
    ("above", "below"),
    ("over", "under"),
    ("inside", "outside"),
    ("internal", "external"),
    ("public", "private"),
    ("win", "lose"),
    ("gain", "loss"),
    ("profit", "loss"),
    ("income", "expense"),
    ("revenue", "cost"),
    ("credit", "debit"),
    ("deposit", "withdraw"),
    ("send", "receive"),
    ("sent", "received"),
    ("push", "pull"),
    ("join", "leave"),
    ("arrive", "depart"),
    ("arrival", "departure"),
    ("enter", "exit"),
    ("login", "logout"),
    ("attach", "detach"),
    ("pass", "fail"),
    ("success", "failure"),
    ("true", "false"),
    ("yes", "no"),
    ("valid", "invalid"),
    ("legal", "illegal"),
    ("possible", "impossible"),
    ("safe", "unsafe"),
    ("upper", "lower"),
    ("top", "bottom"),
    ("left", "right"),
    ("north", "south"),
    ("east", "west"),
    ("hot", "cold"),
    ("warm", "cool"),
    ("heat", "cool"),
    ("wet", "dry"),
    ("light", "dark"),
    ("day", "night"),
    ("morning", "evening"),
    ("morning", "night"),
    ("yesterday", "tomorrow"),
    ("today", "tomorrow"),
    ("today", "yesterday"),
    ("past", "future"),
    ("previous", "next"),
    ("this", "next"),
    ("this", "last"),
    ("last", "next"),
    ("daily", "weekly"),
    ("daily", "monthly"),
    ("daily", "yearly"),
    ("daily", "annual"),
    ("weekly", "monthly"),
    ("weekly", "yearly"),
    ("monthly", "yearly"),
    ("monthly", "annual"),
    ("monthly", "quarterly"),
    ("hourly", "daily"),
    ("day", "week"),
    ("day", "month"),
    ("week", "month"),
    ("month", "year"),
    ("hour", "minute"),
    ("minute", "second"),
    ("employee", "employer"),
    ("buyer", "seller"),
    ("landlord", "tenant"),
    ("client", "server"),
    ("parent", "child"),
    ("male", "female"),
    ("men", "women"),
    ("man", "woman"),
    ("asc", "desc"),
    ("ascending", "descending"),
    ("read", "write"),
    ("source", "destination"),
    ("sender", "recipient"),
    ("full", "empty"),
    ("full", "partial"),
    ("with", "without"),
    ("always", "never"),
    ("all", "none"),
    ("everyone", "nobody"),
    ("can", "must"),
    ("may", "must"),
    ("should", "must"),
    ("required", "optional"),
    ("mandatory", "optional"),
    ("compress", "decompress"),
    ("zip", "unzip"),
    ("freeze", "unfreeze"),
    ("pause", "resume"),
    ("suspend", "resume"),
    ("activate", "deactivate"),
    ("grant", "revoke"),
    ("sign", "unsign"),
    ("follow", "unfollow"),
    ("pin", "unpin"),
    ("archive", "unarchive"),
    ("like", "dislike"),
    ("agree", "disagree"),
    ("expand", "collapse"),
    ("maximize", "minimize"),
    ("merge", "split"),
    ("encode", "decode"),
    ("serialize", "deserialize"),
    ("wake", "sleep"),
    ("plus", "minus"),
    ("positive", "negative"),
    ("pros", "cons"),
    ("advantage", "disadvantage"),
    ("benefit", "risk"),
    ("strength", "weakness"),
    ("cause", "effect"),
    ("question", "answer"),
    ("euro", "dollar"),
    ("euros", "dollars"),
];

/// Negating prefixes: "install"/"uninstall", "able"/"disable".
const PREFIXES: &[&str] = &[
    "un", "dis", "de", "non", "in", "im", "il", "ir", "anti", "mis",
];

/// Words that swap for each other without changing the question.
const SYNONYMS: &[&[&str]] = &[
    &["remove", "delete", "erase"],
    &["begin", "start", "commence"],
    &["buy", "purchase"],
    &["big", "large", "huge"],
    &["small", "little", "tiny"],
    &["fix", "repair", "resolve", "solve"],
    &["get", "obtain", "receive", "acquire"],
    &["show", "display", "view", "see"],
    &["quick", "fast", "rapid"],
    &["help", "assist", "support"],
    &["need", "require"],
    &["use", "utilize", "utilise", "employ"],
    &["find", "locate", "search"],
    &["change", "modify", "alter", "edit", "update", "adjust"],
    &["make", "create", "build", "generate"],
    &["end", "finish", "complete", "conclude"],
    &["cost", "price", "fee", "charge"],
    &["car", "automobile", "vehicle"],
    &["movie", "film"],
    &["job", "work", "position", "role"],
    &["phone", "telephone", "mobile"],
    &["photo", "picture", "image"],
    &["doc", "document", "file"],
    &["docs", "documentation", "manual", "guide"],
    &[
        "settings",
        "preferences",
        "options",
        "configuration",
        "config",
    ],
    &["setup", "configure", "set"],
    &["app", "application", "program", "software"],
    &["error", "problem", "issue", "bug", "fault"],
    &["allowed", "permitted"],
    &["allow", "permit", "let"],
    &["say", "state", "mention", "tell"],
    &["explain", "describe"],
    &["mean", "signify"],
    &["choose", "select", "pick"],
    &["send", "submit"],
    &["enable", "activate"],
    &["disable", "deactivate"],
    &["sign", "log"],
    &["login", "signin"],
    &["logout", "signout"],
    &["password", "passcode", "passphrase"],
    &["contract", "agreement"],
    &["rule", "policy", "regulation", "guideline"],
    &["rules", "policies", "regulations", "guidelines"],
    &["staff", "employees", "workers", "personnel"],
    &["employee", "worker", "staffer"],
    &["boss", "manager", "supervisor"],
    &[
        "company",
        "firm",
        "business",
        "organisation",
        "organization",
    ],
    &["customer", "client"],
    &["refund", "reimbursement"],
    &["cancel", "terminate"],
    &["holiday", "vacation", "leave"],
    &["salary", "pay", "wage", "compensation"],
    &["rapidly", "quickly", "fast"],
    &["method", "way", "approach", "procedure", "process", "steps"],
    &["recipe", "instructions"],
    &["cook", "prepare", "make"],
    &["happen", "occur"],
    &["talk", "speak"],
    &["answer", "reply", "respond"],
    &["aim", "goal", "purpose", "objective"],
    &["main", "primary", "principal", "key"],
    &[
        "platform",
        "service",
        "tool",
        "framework",
        "library",
        "repository",
        "hub",
    ],
    &[
        "state-of-the-art",
        "cutting-edge",
        "modern",
        "advanced",
        "latest",
    ],
];

/// Words that say little about what is asked.
const FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "am",
    "do",
    "does",
    "did",
    "i",
    "me",
    "my",
    "mine",
    "you",
    "your",
    "we",
    "our",
    "us",
    "it",
    "its",
    "they",
    "their",
    "them",
    "to",
    "of",
    "for",
    "on",
    "at",
    "by",
    "from",
    "about",
    "as",
    "and",
    "or",
    "so",
    "if",
    "then",
    "that",
    "this",
    "these",
    "those",
    "there",
    "here",
    "can",
    "could",
    "would",
    "will",
    "shall",
    "should",
    "may",
    "might",
    "please",
    "tell",
    "know",
    "want",
    "like",
    "need",
    "help",
    "any",
    "some",
    "what",
    "which",
    "how",
    "way",
    "ways",
    "just",
    "also",
    "really",
    "exactly",
    "currently",
    "actually",
    "possible",
    "able",
    "go",
    "going",
    "get",
    "have",
    "has",
    "had",
    "kindly",
    "quick",
    "question",
    "explain",
    "describe",
    "find",
    "out",
    "info",
    "information",
    "thing",
    "things",
    "one",
    "ones",
    "again",
    "still",
    "now",
    "thanks",
    "thank",
    "hi",
    "hello",
    "hey",
    "whats",
    "in",
    "into",
    "with",
    "up",
    "all",
    "every",
    "each",
];

/// What kind of answer a question asks for, where the words say so plainly.
fn asks_for(words: &[String]) -> Option<&'static str> {
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).map(String::as_str);
        let kind = match (w.as_str(), next) {
            ("how", Some("many" | "much" | "long" | "often" | "old" | "far" | "big")) => {
                Some(match next {
                    Some("many") => "count",
                    Some("much") => "amount",
                    Some("long") => "duration",
                    Some("often") => "frequency",
                    Some("old") => "age",
                    _ => "size",
                })
            }
            ("when", _) => Some("time"),
            ("where", _) => Some("place"),
            ("who" | "whom" | "whose", _) => Some("person"),
            ("why", _) => Some("reason"),
            ("what", Some("time" | "year" | "date" | "day" | "month")) => Some("time"),
            _ => None,
        };
        if kind.is_some() {
            return kind;
        }
    }
    None
}

fn is_number(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&word)
}

/// Words written with a capital inside a sentence, an inner capital or a digit, lower-cased: the
/// names a question is about.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut sentence_start = true;
    for raw in text.split_whitespace() {
        let word: String = raw.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
        let looks_named = word.chars().skip(1).any(char::is_uppercase)
            || (!sentence_start && word.chars().next().is_some_and(char::is_uppercase));
        if looks_named && word.len() > 1 && word != "I" {
            out.insert(word.to_lowercase());
        }
        sentence_start = raw.ends_with(['.', '?', '!', ':']);
    }
    out
}

fn synonyms(a: &str, b: &str) -> bool {
    SYNONYMS
        .iter()
        .any(|set| set.iter().any(|w| stem(w) == a) && set.iter().any(|w| stem(w) == b))
}

/// Why two questions, however close in meaning, must not share an answer; `None` when nothing in
/// their words forbids it.
pub fn conflict(a: &str, b: &str) -> Option<String> {
    let (wa, wb) = (words(a), words(b));
    // Numbers (digits, number words, ordinals) must be the same.
    let numbers =
        |w: &[String]| -> BTreeSet<String> { w.iter().filter(|x| is_number(x)).cloned().collect() };
    let (na, nb) = (numbers(&wa), numbers(&wb));
    if na != nb {
        return Some(format!(
            "the numbers differ ({} / {})",
            na.into_iter().collect::<Vec<_>>().join(" "),
            nb.into_iter().collect::<Vec<_>>().join(" ")
        ));
    }
    // A negation on one side only.
    let negations = |w: &[String]| w.iter().filter(|x| NEGATIONS.contains(&x.as_str())).count();
    if negations(&wa) % 2 != negations(&wb) % 2 {
        return Some("one of them is negated".into());
    }
    // The kind of answer asked for, where either says it plainly ("where" against "how").
    let (ka, kb) = (asks_for(&wa), asks_for(&wb));
    if ka != kb {
        return Some(format!(
            "one asks for a {}, the other for a {}",
            ka.unwrap_or("description"),
            kb.unwrap_or("description")
        ));
    }
    // Names.
    let (ca, cb) = (names(a), names(b));
    let (la, lb): (BTreeSet<String>, BTreeSet<String>) =
        (wa.iter().cloned().collect(), wb.iter().cloned().collect());
    let unmatched = ca
        .iter()
        .filter(|n| !lb.contains(*n))
        .chain(cb.iter().filter(|n| !la.contains(*n)))
        .next();
    if let Some(name) = unmatched {
        return Some(format!("\"{name}\" is named in only one of them"));
    }
    // Words on one side only, stemmed.
    let sa: BTreeSet<String> = wa.iter().map(|w| stem(w)).collect();
    let sb: BTreeSet<String> = wb.iter().map(|w| stem(w)).collect();
    let only_a: Vec<&String> = sa.difference(&sb).collect();
    let only_b: Vec<&String> = sb.difference(&sa).collect();
    for (x, y) in OPPOSITES {
        let (x, y) = (stem(x), stem(y));
        if (only_a.contains(&&x) && only_b.contains(&&y))
            || (only_a.contains(&&y) && only_b.contains(&&x))
        {
            return Some(format!("\"{x}\" and \"{y}\" are opposites"));
        }
    }
    for x in &only_a {
        for y in &only_b {
            let (short, long) = if x.len() < y.len() { (x, y) } else { (y, x) };
            if short.len() >= 3
                && PREFIXES
                    .iter()
                    .any(|p| long.strip_prefix(p) == Some(short.as_str()))
            {
                return Some(format!("\"{long}\" negates \"{short}\""));
            }
        }
    }
    // One content word swapped for another that is not its synonym: "reset my password" and
    // "reset my username" are close in meaning and ask different things.
    let content = |only: &[&String]| -> Vec<String> {
        only.iter()
            .filter(|w| !FILLER.iter().any(|f| stem(f) == ***w))
            .map(|w| (*w).clone())
            .collect()
    };
    let (xa, xb) = (content(&only_a), content(&only_b));
    let unpaired_a: Vec<&String> = xa
        .iter()
        .filter(|x| !xb.iter().any(|y| synonyms(x, y)))
        .collect();
    let unpaired_b: Vec<&String> = xb
        .iter()
        .filter(|y| !xa.iter().any(|x| synonyms(x, y)))
        .collect();
    if unpaired_a.len() == 1 && unpaired_b.len() == 1 {
        return Some(format!(
            "\"{}\" was swapped for \"{}\"",
            unpaired_a[0], unpaired_b[0]
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_keeps_to_its_collection_and_embedder_and_drops_what_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cairn.sqlite")).unwrap();
        let put = |collection: &str, embedder: &str, question: &str| {
            store
                .cache_insert(
                    &cairn_store::NewCacheEntry {
                        collection: collection.into(),
                        question: question.into(),
                        normalised: normalise(question),
                        embedder_id: embedder.into(),
                        vector: vec![1.0, 0.0],
                        answer: "{}".into(),
                        sources: "[]".into(),
                        trace_id: None,
                    },
                    1 << 20,
                )
                .unwrap()
                .0
                .unwrap()
        };
        let kept = put("notes", "minilm", "What is a tide?");
        put("work", "minilm", "What is a tide?");
        put("notes", "other-model", "What is a tide?");
        let cache = AnswerCache::default();
        let config = CacheConfig::default();
        let look = |cache: &AnswerCache, config: &CacheConfig, q: &str, v: Option<&[f32]>| {
            cache
                .lookup(&store, config, "notes", "minilm", q, v)
                .unwrap()
        };
        // The same words, another spelling: only this collection's entry for this embedder.
        let found = look(&cache, &config, "what is a TIDE", None);
        assert_eq!(
            found.candidate.map(|c| (c.id, c.similarity)),
            Some((kept, 1.0))
        );
        // Other words, the same vector: found by similarity; with no vector, not at all.
        let near = look(&cache, &config, "Tides: what are they?", Some(&[1.0, 0.0]));
        assert_eq!(near.candidate.map(|c| c.id), Some(kept));
        assert!(
            look(&cache, &config, "Tides: what are they?", None)
                .candidate
                .is_none()
        );
        // A time to live of 0: nothing is served, and the entries go.
        let expired = CacheConfig {
            ttl_secs: 0,
            ..CacheConfig::default()
        };
        assert!(
            look(&cache, &expired, "What is a tide?", None)
                .candidate
                .is_none()
        );
        assert_eq!(store.cache_usage().unwrap().entries, 0);
        assert!(
            look(&AnswerCache::default(), &config, "What is a tide?", None)
                .candidate
                .is_none()
        );
    }

    #[test]
    fn opposite_questions_conflict_and_rephrasings_do_not() {
        for (a, b) in [
            ("How do I enable sync?", "How do I disable sync?"),
            (
                "Which files are backed up?",
                "Which files aren't backed up?",
            ),
            (
                "What changed in version 2.1?",
                "What changed in version 2.2?",
            ),
            (
                "What is the refund policy in Germany?",
                "What is the refund policy in France?",
            ),
            (
                "When was the contract signed?",
                "Where was the contract signed?",
            ),
            ("How do I reset my password?", "How do I reset my username?"),
            (
                "How do I install the agent?",
                "How do I uninstall the agent?",
            ),
            ("what is the largest file", "what is the smallest file"),
            ("how many days of leave", "how much leave"),
        ] {
            assert!(conflict(a, b).is_some(), "{a} / {b}");
            assert!(conflict(b, a).is_some(), "{b} / {a}");
        }
        for (a, b) in [
            ("How do I enable dark mode?", "how do i enable dark mode"),
            (
                "What's the refund policy?",
                "What is the refund policy, please?",
            ),
            ("How can I delete a file?", "How do I remove a file?"),
            (
                "What does the contract say about notice?",
                "What does the agreement say about notice?",
            ),
        ] {
            assert_eq!(conflict(a, b), None, "{a} / {b}");
        }
        assert_eq!(
            normalise("What's  the PLAN?"),
            normalise("what is the plan")
        );
    }
}
