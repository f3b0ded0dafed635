-- The review queue: answers that failed the output checks or a policy wait here for a person.
-- `answer` and `sources` have the answer cache's shapes, so an approved answer can seed it;
-- `message_id` is the thread message the person saw, replaced when the answer is approved or edited.
CREATE TABLE review_queue (
    id INTEGER PRIMARY KEY,
    trace_id INTEGER,
    thread_id INTEGER,
    message_id INTEGER,
    collection TEXT NOT NULL,
    question TEXT NOT NULL,
    reason TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('hold', 'warn')),
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'edited', 'rejected')),
    final_text TEXT,
    created_at INTEGER NOT NULL,
    decided_at INTEGER
);
CREATE INDEX review_queue_status ON review_queue (status, id);
