-- One trace per answered (or failed) question, whatever path it took: the columns dashboards and
-- lists read, and the whole record as JSON (route and reason, guard results, retrieval candidates
-- with every score, passages used, prompt version, model, tokens, cost, timings, fallbacks, the
-- final answer or the error).
CREATE TABLE traces (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    thread_id INTEGER,
    question TEXT NOT NULL,
    outcome TEXT NOT NULL,
    route TEXT,
    tier TEXT,
    provider TEXT,
    model TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0,
    total_ms REAL NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
CREATE INDEX traces_created ON traces (created_at);
CREATE INDEX traces_thread ON traces (thread_id);
