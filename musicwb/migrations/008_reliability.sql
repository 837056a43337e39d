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
