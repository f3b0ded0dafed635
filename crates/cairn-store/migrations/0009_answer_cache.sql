-- The semantic answer cache: an answered question, its embedding, the answer, and the sources it
-- was made from with their content hashes (an entry whose source changed is never served).
-- `bytes` is what the entry costs, so the cache can be held to a size; `used_at` orders eviction.
CREATE TABLE answer_cache (
    id INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    question TEXT NOT NULL,
    normalised TEXT NOT NULL,
    embedder_id TEXT NOT NULL,
    vector BLOB NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    trace_id INTEGER,
    created_at INTEGER NOT NULL,
    used_at INTEGER NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX answer_cache_used ON answer_cache (used_at, id);
CREATE INDEX answer_cache_exact ON answer_cache (collection, normalised);
