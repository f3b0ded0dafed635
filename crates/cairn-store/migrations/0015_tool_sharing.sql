-- Whether other AI tools (through `cairn mcp`) may read a collection: off until the person says so.
ALTER TABLE collections ADD COLUMN shared_with_tools INTEGER NOT NULL DEFAULT 0;
