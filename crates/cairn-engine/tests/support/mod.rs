//! Shared by the engine's integration tests: a library over the sample corpus, an event recorder.

#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use cairn_engine::{AnswerEvent, CancelToken, Config, Library, LocalAnswers};

/// The sample documents every answer test indexes.
pub const CORPUS: [&str; 5] = [
    "nature/lighthouse-skerrow-point.md",
    "food/yeasted-sandwich-loaf.md",
    "nature/tides.md",
    "nature/ocean-currents.md",
    "tech/bloom-filters.md",
];

/// `config` with the fast model answering every question. The engine's tests check how answers
/// are made on the quick SmolLM2; the strong default (Qwen2.5-Coder-1.5B) answers in the app's,
/// the command's and the window's end-to-end tests and in `benches/answers.rs`.
pub fn fast(mut config: Config) -> Config {
    config.models.local_answers = LocalAnswers::Fast;
    config
}

/// A library in `data` with the sample corpus indexed into `default`, answering with the fast
/// model ([`fast`]).
pub async fn fixture_library(data: &Path, config: Config) -> Library {
    let library = Library::open(data, fast(config)).await.unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus");
    let paths: Vec<_> = CORPUS
        .iter()
        .map(|p| corpus.join(p))
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(
        paths.len(),
        CORPUS.len(),
        "tests/corpus is missing its sample documents"
    );
    let report = library
        .add(&paths, "default", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!(report.failed(), 0);
    library
}

/// An event callback, and what it received.
pub fn collect() -> (cairn_engine::OnAnswerEvent, Arc<Mutex<Vec<AnswerEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (Arc::new(move |e| sink.lock().unwrap().push(e)), events)
}

/// The text pieces streamed, joined.
pub fn streamed(events: &[AnswerEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            AnswerEvent::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}
