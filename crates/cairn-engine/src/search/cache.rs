//! Recent retrievals, keyed by normalised query, collection and the collection's version: a
//! cached result is never served after the index changed, because every change bumps the version.

use cairn_index::Hit;

use crate::search::request::SearchMode;

/// What a cached retrieval is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub(crate) query: String,
    pub(crate) collection: String,
    pub(crate) version: (i64, i64),
    pub(crate) k: Option<usize>,
    pub(crate) mode: SearchMode,
    pub(crate) rerank: Option<bool>,
}

/// `What is X?` and `  what is   x ` are one query: lower case, single spaces, no closing
/// punctuation.
pub(crate) fn normalise(query: &str) -> String {
    query
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_end_matches(['?', '!', '.', ' '])
        .to_string()
}

/// A use clock, and each entry with the tick it was last used.
type Entries = (u64, std::collections::HashMap<CacheKey, (u64, Vec<Hit>)>);

/// Recent retrievals, least recently used dropped first, at most `capacity`.
#[derive(Debug)]
pub(crate) struct RetrievalCache {
    capacity: usize,
    entries: std::sync::Mutex<Entries>,
    hits: std::sync::atomic::AtomicU64,
}

impl RetrievalCache {
    pub(crate) fn new(capacity: usize) -> Self {
        RetrievalCache {
            capacity,
            entries: Default::default(),
            hits: Default::default(),
        }
    }

    pub(crate) fn get(&self, key: &CacheKey) -> Option<Vec<Hit>> {
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, map) = &mut *guard;
        *clock += 1;
        let (used, hits) = map.get_mut(key)?;
        *used = *clock;
        self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(hits.clone())
    }

    pub(crate) fn put(&self, key: CacheKey, hits: Vec<Hit>) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, map) = &mut *guard;
        *clock += 1;
        if map.len() >= self.capacity && !map.contains_key(&key) {
            // Entries of an older version of a collection are never used again: they go first.
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(k, (used, _))| (k.version == key.version, *used))
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(key, (*clock, hits));
    }

    /// Searches answered from the cache since the library opened.
    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(std::sync::atomic::Ordering::Relaxed)
    }
}
