-- Quarantine: the hash of the content a file failed with. The same content is not parsed again
-- (a file that hangs or crashes a parser would cost its time limit on every run) until the file
-- changes or a person asks for a retry.
ALTER TABLE documents ADD COLUMN failed_hash TEXT;
