-- Reliability (issue 11).
-- tracks.missing_since: when a scan last found the track's file gone (NULL: present). Such a
-- track stays in the store until `musicwb scan --prune`, but is left out of artifacts and
-- playlists.
-- sonic_features.content_flag: NULL for music, else 'silence', 'near_silence' or 'steady_tone',
-- with a human-readable content_reason; flagged tracks are left out of validation and
-- playlists by default.

ALTER TABLE tracks ADD COLUMN missing_since TIMESTAMP;
ALTER TABLE sonic_features ADD COLUMN content_flag VARCHAR;
ALTER TABLE sonic_features ADD COLUMN content_reason VARCHAR;

-- store_info: facts about the store itself. 'store_id' is a random id drawn when the store is
-- created (or first migrated): files derived from the store (the sonic artifact) record it, so
-- one library's artifact is never used with another library.
CREATE TABLE store_info (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
INSERT INTO store_info VALUES ('store_id', uuid()::VARCHAR);
