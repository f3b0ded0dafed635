//! Deleting a thread or a collection forgets what was asked there, and old traces are pruned.

use cairn_store::{CollectionRecord, NewCacheEntry, NewReview, NewTrace, Store, TraceSummary};

fn trace(store: &Store, thread: Option<i64>, collection: &str, question: &str) -> i64 {
    store
        .record_trace(&NewTrace {
            summary: TraceSummary {
                id: 0,
                created_at: 0,
                thread_id: thread,
                question: question.into(),
                outcome: "answered".into(),
                route: None,
                tier: None,
                provider: None,
                model: None,
                tokens_in: 0,
                tokens_out: 0,
                cost: 0.0,
                total_ms: 1.0,
            },
            data: serde_json::json!({ "question": question, "collection": collection }).to_string(),
        })
        .unwrap()
}

fn cached(store: &Store, collection: &str, question: &str, trace_id: i64) -> i64 {
    store
        .cache_insert(
            &NewCacheEntry {
                collection: collection.into(),
                question: question.into(),
                normalised: question.into(),
                embedder_id: "e".into(),
                vector: vec![1.0, 0.0],
                answer: "{}".into(),
                sources: "[]".into(),
                trace_id: Some(trace_id),
            },
            1 << 30,
        )
        .unwrap()
        .0
        .unwrap()
}

fn review(store: &Store, thread: Option<i64>, collection: &str, trace_id: i64) -> i64 {
    let id = store
        .review_add(&NewReview {
            thread_id: thread,
            message_id: None,
            collection: collection.into(),
            question: "q".into(),
            reason: "not grounded".into(),
            mode: "hold".into(),
            answer: "{}".into(),
            sources: "[]".into(),
        })
        .unwrap();
    store.review_set_trace(id, trace_id).unwrap();
    id
}

fn count(path: &std::path::Path, table: &str) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn deleting_a_thread_deletes_its_traces_feedback_reviews_and_cached_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cairn.sqlite");
    let store = Store::open(&db).unwrap();
    let gone = store.create_thread("secret", "default").unwrap().id;
    let kept = store.create_thread("other", "default").unwrap().id;
    for thread in [gone, kept] {
        let t = trace(&store, Some(thread), "default", &format!("q{thread}"));
        store.set_feedback(t, false, Some("wrong")).unwrap();
        cached(&store, "default", &format!("q{thread}"), t);
        review(&store, Some(thread), "default", t);
    }
    let forgotten = store.forget_thread(gone).unwrap().unwrap();
    assert_eq!(
        (
            forgotten.traces,
            forgotten.reviews,
            forgotten.cached_answers
        ),
        (1, 1, 1)
    );
    for table in ["traces", "feedback", "answer_cache", "review_queue"] {
        assert_eq!(
            count(&db, table),
            1,
            "{table}: only the other thread's row stays"
        );
    }
    let left = store.traces(10).unwrap();
    assert_eq!(left[0].thread_id, Some(kept));
    assert!(store.delete_thread(kept).unwrap());
    assert!(!store.delete_thread(kept).unwrap(), "already gone");
    for table in [
        "traces",
        "feedback",
        "answer_cache",
        "review_queue",
        "threads",
    ] {
        assert_eq!(count(&db, table), 0, "{table}");
    }
}

#[test]
fn deleting_a_collection_deletes_what_was_asked_of_it_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cairn.sqlite");
    let store = Store::open(&db).unwrap();
    for c in ["private", "work"] {
        store
            .create_collection(&CollectionRecord::new(c, "e", "f", 2))
            .unwrap();
        let t = trace(&store, None, c, &format!("about {c}"));
        store.set_feedback(t, true, None).unwrap();
        cached(&store, c, "q", t);
        review(&store, None, c, t);
    }
    assert!(store.delete_collection("private").unwrap());
    for table in ["traces", "feedback", "answer_cache", "review_queue"] {
        assert_eq!(
            count(&db, table),
            1,
            "{table}: the other collection's row stays"
        );
    }
    assert_eq!(store.traces(10).unwrap()[0].question, "about work");
}

#[test]
fn traces_older_than_the_retention_period_are_pruned_with_their_feedback() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cairn.sqlite");
    let store = Store::open(&db).unwrap();
    let old = trace(&store, None, "default", "old");
    let new = trace(&store, None, "default", "new");
    store.set_feedback(old, false, None).unwrap();
    let entry = cached(&store, "default", "old", old);
    let queued = review(&store, None, "default", old);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE traces SET created_at = created_at - 91 * 86400 WHERE id = ?1",
            [old],
        )
        .unwrap();
    assert_eq!(store.prune_traces(0).unwrap(), 0, "0 keeps every trace");
    assert_eq!(store.prune_traces(90).unwrap(), 1);
    let left: Vec<i64> = store.traces(10).unwrap().iter().map(|t| t.id).collect();
    assert_eq!(left, vec![new]);
    assert_eq!(count(&db, "feedback"), 0);
    // A pending review and a cached answer outlive the trace that made them.
    assert_eq!(store.review(queued).unwrap().unwrap().trace_id, None);
    assert!(store.cache_take(entry).unwrap().is_some());
}
