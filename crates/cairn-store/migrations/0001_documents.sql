-- Collections and documents.
CREATE TABLE collections (
    name TEXT PRIMARY KEY,
    embedder_id TEXT NOT NULL,
    embedder_fingerprint TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    collection TEXT NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
    path TEXT NOT NULL,
    kind TEXT,
    state TEXT NOT NULL DEFAULT 'new',
    content_hash TEXT,
    pending_hash TEXT,
    size_bytes INTEGER,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    page_count INTEGER,
    error_code TEXT,
    error_message TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    indexed_at INTEGER,
    UNIQUE (collection, path)
);
CREATE INDEX documents_state ON documents (collection, state);
