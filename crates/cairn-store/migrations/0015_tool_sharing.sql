-- Whether other AI tools (through `cairn mcp`) may read a collection: off until the person says so.
ALTER TABLE collections ADD COLUMN shared_with_tools INTEGER NOT NULL DEFAULT 0;

-- The first time a server for other tools was turned on, and the collection that turning it on
-- shares (now, or when it is made): later starts change nothing, so a collection the person
-- stopped sharing stays private.
CREATE TABLE tool_server (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    first_started_at INTEGER NOT NULL,
    default_collection TEXT NOT NULL
);
