-- The indexed file as the file system last described it (modification time in nanoseconds, inode
-- number; with size_bytes): a file whose description is unchanged is not read again to be hashed.
-- NULL when unknown, or when the file had been modified too recently to be trusted.
ALTER TABLE documents ADD COLUMN file_modified_ns INTEGER;
ALTER TABLE documents ADD COLUMN file_inode INTEGER;
