-- Reliability of background enrichment (issue 11).
-- enrich_worker.pid, host, process_started: the process that runs (or ran) the worker, so that
-- `musicwb enrich status` tells a live worker from one that was killed and left 'running'
-- behind (process_started tells a reused PID from the worker's own process).
-- label_hunts.reasons: the short reason of each failed tier, naming the service and not the
-- request ("MusicBrainz: cannot reach musicbrainz.org (Name or service not known)"), so equal
-- failures are counted together in summaries.

ALTER TABLE enrich_worker ADD COLUMN pid INTEGER;
ALTER TABLE enrich_worker ADD COLUMN host VARCHAR;
ALTER TABLE enrich_worker ADD COLUMN process_started DOUBLE;
ALTER TABLE label_hunts ADD COLUMN reasons VARCHAR[];
