-- Background enrichment: the work queue of the label hunter, the worker's persistent counters,
-- and the cool-down queue of tracks to retry months later. Every hunt the worker finishes is
-- recorded by the label hunter (label_hunts, label_findings) in the same transaction as the
-- queue update and the counters.

-- One row per track ever queued. state: 'pending' (waiting for the worker), 'done' (a label
-- was found), 'not_found' (every tier answered, none knew a label), 'failed' (a source failed
-- on max_attempts tries). priority: higher first (manual 30, last scan 20, cool-down 10,
-- missing labels 0). reason names the enqueue policy that put it there last.
CREATE TABLE enrich_queue (
    track_id BIGINT PRIMARY KEY,
    priority INTEGER NOT NULL,
    reason VARCHAR NOT NULL,
    queued_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error VARCHAR,
    state VARCHAR NOT NULL DEFAULT 'pending',
    finished_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

-- The worker's state and cumulative counters (one row, id = 1), so a restart resumes them.
CREATE TABLE enrich_worker (
    id INTEGER PRIMARY KEY,
    state VARCHAR NOT NULL,
    processed BIGINT NOT NULL DEFAULT 0,
    enriched BIGINT NOT NULL DEFAULT 0,
    not_found BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    attempt_errors BIGINT NOT NULL DEFAULT 0,
    busy_s DOUBLE NOT NULL DEFAULT 0,
    started_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

-- Tracks to retry later. state: 'waiting' (until next_retry_at), 'queued' (back in the queue),
-- 'resolved' (a later retry found a label), 'permanent' (gave up after the last retry; a
-- manual re-queue still works). retry_count: retries already made from here. history: JSON
-- list of {"at", "retry", "delay_days", "reason"} for every parking.
CREATE TABLE enrich_cooldown (
    track_id BIGINT PRIMARY KEY,
    strategy VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    retry_count INTEGER NOT NULL DEFAULT 0,
    next_retry_at TIMESTAMP,
    last_error VARCHAR,
    permanently_failed BOOLEAN NOT NULL DEFAULT false,
    state VARCHAR NOT NULL,
    entered_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    history JSON
);
