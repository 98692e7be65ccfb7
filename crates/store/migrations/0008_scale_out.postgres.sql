-- PostgreSQL only: S3 lists keys in byte order, which is the "C" collation (SQLite compares TEXT bytewise already).
ALTER TABLE objects ALTER COLUMN object_key TYPE TEXT COLLATE "C";
ALTER TABLE object_versions ALTER COLUMN object_key TYPE TEXT COLLATE "C"
