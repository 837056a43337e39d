-- Foundation: the library's tracks, scan failures, runs, and tracklists (with the demo's
-- ground truth). Every metadata field carries the source and confidence it came with.

CREATE TABLE tracks (
    id BIGINT PRIMARY KEY,
    path VARCHAR NOT NULL UNIQUE,
    size BIGINT NOT NULL,
    mtime DOUBLE NOT NULL,
    content_hash VARCHAR NOT NULL,
    duration DOUBLE,
    sample_rate INTEGER,
    channels INTEGER,
    format VARCHAR,
    artist VARCHAR,
    artist_source VARCHAR,
    artist_confidence DOUBLE,
    title VARCHAR,
    title_source VARCHAR,
    title_confidence DOUBLE,
    album VARCHAR,
    album_source VARCHAR,
    album_confidence DOUBLE,
    label VARCHAR,
    label_source VARCHAR,
    label_confidence DOUBLE,
    catalog_number VARCHAR,
    catalog_number_source VARCHAR,
    catalog_number_confidence DOUBLE,
    genres VARCHAR[],
    genres_source VARCHAR,
    genres_confidence DOUBLE,
    bpm DOUBLE,
    bpm_source VARCHAR,
    bpm_confidence DOUBLE,
    key VARCHAR,
    key_source VARCHAR,
    key_confidence DOUBLE,
    isrc VARCHAR,
    isrc_source VARCHAR,
    isrc_confidence DOUBLE,
    added_run VARCHAR,
    added_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tracks_content_hash ON tracks (content_hash);

CREATE TABLE scan_errors (
    run_id VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, path)
);

CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,
    parameters JSON,
    summary JSON
);

CREATE TABLE tracklist_sets (
    set_id VARCHAR PRIMARY KEY,
    dj VARCHAR NOT NULL,
    title VARCHAR,
    source VARCHAR NOT NULL,
    source_file VARCHAR
);

CREATE TABLE tracklist_entries (
    set_id VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    raw VARCHAR NOT NULL,
    artist VARCHAR,
    title VARCHAR,
    label VARCHAR,
    is_unknown BOOLEAN NOT NULL,
    PRIMARY KEY (set_id, position)
);

-- The true identity of unknown tracklist entries where it is known (the demo library knows
-- all of them; real data never has this table filled by musicwb itself).
CREATE TABLE tracklist_truth (
    set_id VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    artist VARCHAR NOT NULL,
    title VARCHAR,
    label VARCHAR,
    PRIMARY KEY (set_id, position)
);
