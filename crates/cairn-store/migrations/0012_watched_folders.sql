-- Watched folders: kept in sync with their collection while the app runs, and reconciled when it
-- starts. A folder may be watched before its collection exists (the first sync creates it).
CREATE TABLE watched_folders (
    collection TEXT NOT NULL,
    path TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (collection, path)
);
