-- Conversations: threads, their messages, and the passages each answer cited.
CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    collection TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    route TEXT,
    tier TEXT,
    prompt_version TEXT,
    model TEXT,
    tokens_in INTEGER,
    tokens_out INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_thread ON messages (thread_id, id);
CREATE TABLE citations (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    chunk_id TEXT NOT NULL,
    doc_path TEXT NOT NULL,
    page INTEGER,
    heading TEXT,
    text TEXT NOT NULL,
    score REAL,
    PRIMARY KEY (message_id, n)
);
