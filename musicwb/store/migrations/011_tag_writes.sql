-- Tags written back into the user's files (issue 15), one row per file and run.
-- A `tags write` run (runs.kind 'tag_write') records, before it replaces a file, the file's
-- original tag blocks byte for byte (original_tags: the tag spans of `layout`, concatenated;
-- layout: JSON of the file's tag and audio spans), the digest of the whole original file, and
-- the size, mtime and tag-block digest of the file it wrote, so that `tags undo` (runs.kind
-- 'tag_undo', rows with outcome 'restored') can tell an untouched file from one changed since.
-- outcome: 'written', 'restored', 'skipped' or 'failed'; reason: a short code ('gone',
-- 'read_only', 'unsupported', 'changed_since_scan', 'changed_since_write', 'disk_full',
-- 'error'), message: what happened, for people. undoes: the write run an undo row restores.

CREATE TABLE tag_writes (
    run_id VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    track_id BIGINT,
    format VARCHAR,
    outcome VARCHAR NOT NULL,
    reason VARCHAR,
    message VARCHAR,
    changes JSON,
    undoes VARCHAR,
    layout JSON,
    original_tags BLOB,
    original_digest VARCHAR,
    written_tags_digest VARCHAR,
    size_before BIGINT,
    mtime_before DOUBLE,
    size_after BIGINT,
    mtime_after DOUBLE,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, path)
);
CREATE INDEX tag_writes_path ON tag_writes (path);
