-- Responses of metadata sources (MusicBrainz, Discogs), keyed by source and normalised query,
-- so that the same input gives the same output and a finished hunt re-runs with no request.
-- status: 'ok' (response holds the service's answer) or 'not_found' (the service said it has
-- nothing; response is NULL). Failures are never cached. No credential ever goes in here.

CREATE TABLE source_cache (
    source VARCHAR NOT NULL,
    query_key VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    response JSON,
    fetched_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, query_key)
);
