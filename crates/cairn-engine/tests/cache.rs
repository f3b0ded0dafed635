//! The semantic answer cache, end to end: real weights, LanceDB and SQLite. A repeated question is
//! answered from the cache; a question that differs in meaning is not; editing a source removes
//! the entries that relied on it.

use std::path::{Path, PathBuf};

use cairn_engine::cache::{AnswerCache, CacheConfig};
use cairn_engine::{AskRequest, CancelToken, Config, Library, Provenance};
use cairn_models::Embedder;

mod support;

use support::{CORPUS, collect, streamed};

const QUESTION: &str = "When was the Fresnel lens of Skerrow Point lighthouse made?";

/// A library over a copy of the sample corpus (so a test may edit a document).
async fn copied_library(data: &Path) -> (Library, PathBuf) {
    let docs = data.join("docs");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus");
    let mut paths = Vec::new();
    for p in CORPUS {
        let to = docs.join(p);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(corpus.join(p), &to).unwrap();
        paths.push(to);
    }
    // Whole passages: the small model's answer to QUESTION is then the grounded one these
    // tests need to keep (cut to the question, it invents a year, which the checks withdraw).
    let mut config = Config::default();
    config.answer.condense = false;
    let library = Library::open(&data.join("lib"), support::fast(config))
        .await
        .unwrap();
    let report = library
        .add(&paths, "default", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!(report.failed(), 0);
    (library, docs.join(CORPUS[0]))
}

async fn ask(library: &Library, question: &str) -> (cairn_engine::Answer, serde_json::Value) {
    let (on_event, events) = collect();
    let answer = library
        .ask(&AskRequest::new(question), on_event, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!(streamed(&events.lock().unwrap()).trim(), answer.answer);
    let trace = library.trace(answer.trace_id.unwrap()).unwrap().unwrap().1;
    (answer, trace)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_question_is_served_until_its_source_changes() {
    let data = tempfile::tempdir().unwrap();
    let (library, lighthouse) = copied_library(data.path()).await;

    // First asked: the model answers, and the grounded, cited answer is kept.
    let (first, t) = ask(&library, QUESTION).await;
    assert_eq!(first.provenance, Provenance::Local, "{}", first.answer);
    assert_eq!(t["cache"]["lookup"], "miss");
    assert_eq!(t["cache"]["store"], "stored", "{}", t["cache"]);
    let entry = t["cache"]["entry_stored"].as_i64().unwrap();

    // Asked again, spelt differently: the same answer and sources, from the cache, made by no model.
    let (again, t) = ask(
        &library,
        "  when was the fresnel lens of skerrow point lighthouse made ",
    )
    .await;
    assert_eq!(again.provenance, Provenance::Cache);
    assert_eq!(again.answer, first.answer);
    assert_eq!(again.citations, first.citations);
    assert_eq!((again.tokens_in, again.tokens_out, again.cost), (0, 0, 0.0));
    let hit = again.cache.as_ref().unwrap();
    assert_eq!((hit.entry, hit.similarity), (entry, 1.0));
    assert_eq!(hit.trace_id, first.trace_id, "it links to how it was made");
    assert_eq!(t["cache"]["lookup"], "hit");
    assert_eq!(t["cache"]["entry"], entry);
    assert_eq!(t["answer"]["provider"], "cache");
    assert_ne!(again.thread_id, first.thread_id, "saved in its own thread");
    assert_eq!(library.thread_messages(again.thread_id).unwrap().len(), 2);

    // The same question in other words, close enough in meaning: served too.
    let (near, t) = ask(
        &library,
        "When was the Fresnel lens of the Skerrow Point lighthouse made?",
    )
    .await;
    assert_eq!(near.provenance, Provenance::Cache, "{}", t["cache"]);
    let similarity = near.cache.as_ref().unwrap().similarity;
    assert!((0.98..1.0).contains(&similarity), "{similarity}");

    // Close in words, different in meaning: never the earlier answer.
    for other in [
        "When was the Fresnel lens of Skerrow Point lighthouse removed?",
        "When was the first Fresnel lens of Skerrow Point lighthouse made?",
        "Where was the Fresnel lens of Skerrow Point lighthouse made?",
    ] {
        let (answer, t) = ask(&library, other).await;
        assert_ne!(answer.provenance, Provenance::Cache, "{other}");
        assert_ne!(t["cache"]["lookup"], "hit", "{other}");
    }

    // A follow-up depends on its thread: not looked up.
    let (on_event, _) = collect();
    let follow = library
        .ask(
            &AskRequest {
                thread: Some(first.thread_id),
                ..AskRequest::new(QUESTION)
            },
            on_event,
            &CancelToken::new(),
        )
        .await
        .unwrap();
    assert_ne!(follow.provenance, Provenance::Cache);
    let t = library.trace(follow.trace_id.unwrap()).unwrap().unwrap().1;
    assert_eq!(t["cache"]["lookup"], "skipped");

    // The lighthouse page is edited and indexed again: its entry goes, the model answers afresh.
    let mut text = std::fs::read_to_string(&lighthouse).unwrap();
    text.push_str("\n\nThe keepers' cottage was rebuilt in 1921.\n");
    std::fs::write(&lighthouse, text).unwrap();
    library
        .add(
            std::slice::from_ref(&lighthouse),
            "default",
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    let (fresh, t) = ask(&library, QUESTION).await;
    assert_ne!(fresh.provenance, Provenance::Cache);
    assert_eq!(t["cache"]["lookup"], "miss");
    let invalidated: Vec<i64> = serde_json::from_value(t["cache"]["invalidated"].clone()).unwrap();
    assert!(invalidated.contains(&entry), "{}", t["cache"]);
    assert!(
        t["cache"]["reason"]
            .as_str()
            .unwrap()
            .contains("lighthouse-skerrow-point.md"),
        "{}",
        t["cache"]
    );

    // Removed from the library: the entry made after the edit goes too.
    library.remove(&[lighthouse], "default").await.unwrap();
    let (gone, _) = ask(&library, QUESTION).await;
    assert_ne!(gone.provenance, Provenance::Cache);

    // The figures: lookups that hit against lookups that missed.
    let stats = library.stats(7).unwrap();
    assert!(stats.cache_hit_rate.unwrap() > 0.0);

    // Deleting the collection empties its part of the cache.
    library.delete_collection("default").await.unwrap();
    assert_eq!(library.answer_cache_usage().unwrap().entries, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cache_can_be_turned_off() {
    let data = tempfile::tempdir().unwrap();
    let library = support::fixture_library(
        data.path(),
        Config {
            cache: CacheConfig {
                enabled: false,
                ..CacheConfig::default()
            },
            ..Config::default()
        },
    )
    .await;
    for _ in 0..2 {
        let (answer, t) = ask(&library, QUESTION).await;
        assert_eq!(answer.provenance, Provenance::Local);
        assert_eq!(t["cache"]["lookup"], "off");
    }
    assert_eq!(library.answer_cache_usage().unwrap().entries, 0);
}

/// Every pair of the negative set (same words, another meaning): with the first question cached,
/// the second must never be served its answer, at the configured threshold, with real embeddings.
#[tokio::test(flavor = "multi_thread")]
async fn no_negative_pair_is_ever_served() {
    #[derive(serde::Deserialize)]
    struct Pair {
        a: String,
        b: String,
    }
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/cache/negatives.jsonl"),
    )
    .unwrap();
    let pairs: Vec<Pair> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(pairs.len() >= 200, "{} pairs", pairs.len());

    let data = tempfile::tempdir().unwrap();
    let library = Library::open(data.path(), Config::default()).await.unwrap();
    let embedder = library.embedder().unwrap();
    let store = cairn_store::Store::open(&data.path().join("cache.sqlite")).unwrap();
    let config = CacheConfig::default();
    let id = embedder.info().id.clone();
    let mut wrong = Vec::new();
    for (i, pair) in pairs.iter().enumerate() {
        let vectors = embedder.embed(&[pair.a.as_str(), pair.b.as_str()]).unwrap();
        // Each pair in its own collection, so only its own first question can match.
        let collection = format!("pair-{i}");
        store
            .cache_insert(
                &cairn_store::NewCacheEntry {
                    collection: collection.clone(),
                    question: pair.a.clone(),
                    normalised: cairn_engine::cache::normalise(&pair.a),
                    embedder_id: id.clone(),
                    vector: vectors[0].clone(),
                    answer: "{}".into(),
                    sources: "[]".into(),
                    trace_id: None,
                },
                1 << 40,
            )
            .unwrap();
        let cache = AnswerCache::default();
        let found = cache
            .lookup(
                &store,
                &config,
                &collection,
                &id,
                &pair.b,
                Some(&vectors[1]),
            )
            .unwrap();
        if let Some(c) = found.candidate {
            wrong.push(format!("{} / {} ({:.3})", pair.a, pair.b, c.similarity));
        }
        // The question itself is found: the test could fail.
        let same = cache
            .lookup(
                &store,
                &config,
                &collection,
                &id,
                &pair.a,
                Some(&vectors[0]),
            )
            .unwrap();
        assert!(same.candidate.is_some(), "{}", pair.a);
    }
    assert!(
        wrong.is_empty(),
        "served a wrong answer:\n{}",
        wrong.join("\n")
    );
}
