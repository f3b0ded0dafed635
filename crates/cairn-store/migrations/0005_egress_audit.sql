-- The egress audit log: one row per request that left the device, never its text: when, to which
-- provider and model, how many characters, and how many entities of each type were redacted first.
-- Append-only (the triggers refuse changes) and hash-chained: each row's hash covers its fields and
-- the previous row's hash, so an edited, removed or reordered row breaks the chain.
CREATE TABLE egress_audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    chars INTEGER NOT NULL,
    redacted TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER egress_audit_no_update BEFORE UPDATE ON egress_audit
BEGIN
    SELECT RAISE(ABORT, 'the egress audit log is append-only');
END;
CREATE TRIGGER egress_audit_no_delete BEFORE DELETE ON egress_audit
BEGIN
    SELECT RAISE(ABORT, 'the egress audit log is append-only');
END;
