-- The embedded S3 endpoint: buckets, the S3 ETag and version of each object, every version of an object, and the
-- bundles built from Git commits.

CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    create_time BIGINT NOT NULL
);

-- Buckets that objects were uploaded to before buckets had rows of their own.
INSERT INTO buckets (name, create_time) SELECT bucket, MIN(create_time) FROM objects GROUP BY bucket;

-- The current version of each object keeps its S3 ETag (MD5 or multipart form; NULL for objects stored before this
-- migration, whose ETag was their sha256), version id and content type.
ALTER TABLE objects ADD COLUMN etag TEXT;
ALTER TABLE objects ADD COLUMN version_id TEXT;
ALTER TABLE objects ADD COLUMN content_type TEXT;

-- Every version ever put, so a revision that names a version stays deployable after the key is overwritten.
CREATE TABLE object_versions (
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    version_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    etag TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (bucket, object_key, version_id)
);

-- The tar bundle built from a commit of a Git repository (GitHub revisions), so each commit is fetched once.
CREATE TABLE git_bundles (
    repository TEXT NOT NULL,
    commit_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (repository, commit_id)
);
