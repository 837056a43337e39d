-- Playlists: the play history behind the recently-played filter, and the log of genre
-- normalisations (`musicwb genres migrate --apply`) so that a migrated tag stays traceable.
--
-- play_history: one row per play of a track (DJ software export, a scrobble, an exported
-- playlist marked as played). played_at is UTC without a time zone. Recording the same play
-- twice (same track, time and source) keeps one row.
CREATE TABLE play_history (
    track_id BIGINT NOT NULL,
    played_at TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,
    PRIMARY KEY (track_id, played_at, source)
);
CREATE INDEX play_history_played_at ON play_history (played_at);

-- genre_changes: the genres of a track before and after one normalisation run.
CREATE TABLE genre_changes (
    run_id VARCHAR NOT NULL,
    track_id BIGINT NOT NULL,
    genres_before VARCHAR[],
    genres_after VARCHAR[],
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, track_id)
);
