-- One row per request to a model that is not free (cloud) or whose latency is measured (all):
-- what it cost, how long it took, and whether its cost is only reserved (a request in flight) or
-- settled. Budgets sum these rows; the latency-aware router reads their timings.
CREATE TABLE model_calls (
    id INTEGER PRIMARY KEY,
    thread_id INTEGER,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('reserved', 'settled')),
    outcome TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0,
    first_token_ms REAL,
    total_ms REAL,
    day TEXT NOT NULL,
    month TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX model_calls_day ON model_calls (day);
CREATE INDEX model_calls_month ON model_calls (month);
CREATE INDEX model_calls_thread ON model_calls (thread_id);
CREATE INDEX model_calls_model ON model_calls (provider, model, id);
