-- A person's verdict on an answer: thumbs up or down and an optional correction, one per trace (a
-- later verdict replaces the earlier one).
CREATE TABLE feedback (
    trace_id INTEGER PRIMARY KEY REFERENCES traces(id) ON DELETE CASCADE,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    correction TEXT,
    created_at INTEGER NOT NULL
);
