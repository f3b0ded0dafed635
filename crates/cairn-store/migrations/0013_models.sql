-- Chat models Cairn knows: downloaded from its catalog into <data dir>/models/ (source = the
-- catalog id), or registered in place from elsewhere on disk (source = 'local'). Only a downloaded
-- file is deleted when its model is removed.
CREATE TABLE models (
    name TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT,
    architecture TEXT NOT NULL,
    added_at INTEGER NOT NULL
);
