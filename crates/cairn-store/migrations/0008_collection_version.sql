-- A collection's version: bumped by every change to its documents (added, re-indexed, failed,
-- removed), in any process. The retrieval cache keys on it, so a change to the index is never
-- answered from results cached before it.
ALTER TABLE collections ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER documents_insert_version AFTER INSERT ON documents
BEGIN
    UPDATE collections SET version = version + 1 WHERE name = NEW.collection;
END;
CREATE TRIGGER documents_update_version AFTER UPDATE ON documents
BEGIN
    UPDATE collections SET version = version + 1 WHERE name = NEW.collection;
END;
CREATE TRIGGER documents_delete_version AFTER DELETE ON documents
BEGIN
    UPDATE collections SET version = version + 1 WHERE name = OLD.collection;
END;
