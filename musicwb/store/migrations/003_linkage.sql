-- Linkage of unknown tracklist entries: what was imported (a file's hash makes re-import a
-- no-op), the rows that could not be read, the proposals with their evidence, and the
-- evaluation runs. Proposals never overwrite tracklist_entries: they live here.

CREATE TABLE tracklist_imports (
    file_hash VARCHAR PRIMARY KEY,
    file_path VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    n_sets INTEGER NOT NULL,
    n_entries INTEGER NOT NULL,
    n_errors INTEGER NOT NULL,
    imported_at TIMESTAMP NOT NULL
);

CREATE TABLE tracklist_import_errors (
    file_hash VARCHAR NOT NULL,
    file_path VARCHAR NOT NULL,
    location VARCHAR NOT NULL,  -- "line 7" (CSV) or "sets[2].entries[4]" (JSON)
    line INTEGER,
    reason VARCHAR NOT NULL,
    PRIMARY KEY (file_hash, location)
);

CREATE TABLE linkage_proposals (
    set_id VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    artist VARCHAR NOT NULL,
    artist_key VARCHAR NOT NULL,
    probability DOUBLE NOT NULL,
    tier VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    evidence VARCHAR[] NOT NULL,
    run_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (set_id, position, rank)
);

CREATE TABLE linkage_evaluations (
    run_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    parameters JSON,
    summary JSON
);
