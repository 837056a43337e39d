-- The label hunter's results (issue 3). Every finding keeps where it came from, how sure it
-- is, why (evidence sentence and the named score parts as JSON) and when; tracks.label is
-- filled from an accepted finding only where the track carries no label of the user's own.
--
-- label_findings: one row per finding a hunt kept (the best answer per track and hunt, whether
--   accepted or left for review below min_confidence).
-- label_hunts: one row per track and hunt: the outcome (found, not_found, failed), the tiers
--   tried, the error of a failed source, and the time it took.

CREATE TABLE label_findings (
    track_id BIGINT NOT NULL,
    run_id VARCHAR,
    label VARCHAR NOT NULL,
    catalog VARCHAR,
    source VARCHAR NOT NULL,
    source_id VARCHAR,
    confidence DOUBLE NOT NULL,
    accepted BOOLEAN NOT NULL,
    applied BOOLEAN NOT NULL DEFAULT FALSE,
    evidence VARCHAR NOT NULL,
    parts JSON,
    found_at TIMESTAMP NOT NULL
);
CREATE INDEX label_findings_track ON label_findings (track_id);

CREATE TABLE label_hunts (
    track_id BIGINT NOT NULL,
    run_id VARCHAR,
    status VARCHAR NOT NULL,
    tried VARCHAR[],
    error VARCHAR,
    elapsed_s DOUBLE,
    hunted_at TIMESTAMP NOT NULL
);
CREATE INDEX label_hunts_track ON label_hunts (track_id);
