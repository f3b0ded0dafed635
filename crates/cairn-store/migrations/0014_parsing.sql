-- The hash of the content being read (parsed and chunked) right now. Written before the file is
-- read and cleared once it has been; a document still marked at the start of the next run was
-- being read when the program stopped, perhaps because the file crashed it, and is quarantined
-- rather than read again.
ALTER TABLE documents ADD COLUMN parsing_hash TEXT;
