-- A shared collection's tables live in an object store, not in this library's `lance/` folder:
-- where (`s3://bucket/prefix`), through which endpoint and region. NULL for a local collection.
-- The credentials are in the OS keychain, never here.
ALTER TABLE collections ADD COLUMN shared_uri TEXT;
ALTER TABLE collections ADD COLUMN shared_endpoint TEXT;
ALTER TABLE collections ADD COLUMN shared_region TEXT;
