-- The hash of the content being read (parsed and chunked) right now, written before the file is
-- read and cleared once it has been; and the content a stopped run was reading. A document still
-- marked at the start of a run was being read when the program stopped: the first time it is read
-- again (a kill or a power cut stops good files too), the second time in a row it is quarantined.
ALTER TABLE documents ADD COLUMN parsing_hash TEXT;
ALTER TABLE documents ADD COLUMN interrupted_hash TEXT;
