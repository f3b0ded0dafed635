//! The answer cache: entries round-trip, and the least recently used are evicted to a size.

use cairn_store::{CacheUsage, NewCacheEntry, Store};

fn entry(question: &str, answer_len: usize) -> NewCacheEntry {
    NewCacheEntry {
        collection: "default".into(),
        question: question.into(),
        normalised: question.to_lowercase(),
        embedder_id: "e".into(),
        vector: vec![0.5, -1.0, 2.0],
        answer: "x".repeat(answer_len),
        sources: "[]".into(),
        trace_id: None,
    }
}

#[test]
fn entries_round_trip_and_the_least_recently_used_leave_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.sqlite")).unwrap();
    let (a, _) = store.cache_insert(&entry("a", 1000), 10_000).unwrap();
    let (b, _) = store.cache_insert(&entry("b", 1000), 10_000).unwrap();
    let (a, b) = (a.unwrap(), b.unwrap());
    let keys = store.cache_keys_after(0).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].vector, vec![0.5, -1.0, 2.0]);
    assert_eq!(store.cache_keys_after(a).unwrap()[0].id, b);
    // Same second: ties on used_at fall to the lower id, so touching `a` must move it past `b`.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(store.cache_take(a).unwrap().is_some());
    let used = store.cache_usage().unwrap();
    assert_eq!((used.entries, used.hits), (2, 1));
    // A third entry that fits only if one leaves: `b`, untouched, goes.
    let (c, evicted) = store
        .cache_insert(&entry("c", 1000), used.bytes + 10)
        .unwrap();
    assert_eq!(evicted, vec![b]);
    assert!(c.is_some());
    assert!(store.cache_take(b).unwrap().is_none());
    // An entry larger than the whole bound is not kept, and evicts nothing.
    let (big, evicted) = store.cache_insert(&entry("d", 50_000), 10_000).unwrap();
    assert_eq!((big, evicted), (None, vec![]));
    assert_eq!(store.cache_clear(None).unwrap(), 2);
    assert_eq!(store.cache_usage().unwrap(), CacheUsage::default());
}
