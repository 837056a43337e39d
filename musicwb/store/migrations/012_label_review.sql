-- Label review (issue 15): the user's decisions on findings, catalogue numbers as their own
-- rows, and the measured calibration of the label hunter's offline tiers.
--
-- label_decisions: one row per decision of the user (`musicwb labels accept|reject`). A
--   rejected (track, label_key) is never proposed to that track again; an accepted one is the
--   track's label with source 'manual' and confidence 1.0 in `tracks`.
-- catalogue_numbers: every catalogue number known for a track (a release may have several),
--   in the form it was written (`catalogue`) and in its normal form (`catalogue_key`: letters
--   and digits, upper case), with the source and confidence it came with.
-- label_calibrations: one row per tier and measurement: the isotonic map from the tier's raw
--   score to the precision observed on masked labels (`mapping`: JSON {"x": [...], "y": [...]}),
--   with where it was measured (`corpus`: 'store' or 'djmix'), when, on how many findings, and
--   the held-out check (`heldout`: JSON).

CREATE TABLE label_decisions (
    track_id BIGINT NOT NULL,
    decision VARCHAR NOT NULL,
    label VARCHAR,
    label_key VARCHAR,
    catalogue VARCHAR,
    finding_source VARCHAR,
    finding_confidence DOUBLE,
    decided_at TIMESTAMP NOT NULL
);
CREATE INDEX label_decisions_track ON label_decisions (track_id);

CREATE TABLE catalogue_numbers (
    track_id BIGINT NOT NULL,
    catalogue VARCHAR NOT NULL,
    catalogue_key VARCHAR NOT NULL,
    label VARCHAR,
    source VARCHAR NOT NULL,
    confidence DOUBLE,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (track_id, catalogue_key)
);
CREATE INDEX catalogue_numbers_key ON catalogue_numbers (catalogue_key);

CREATE TABLE label_calibrations (
    calibration_id VARCHAR PRIMARY KEY,
    tier VARCHAR NOT NULL,
    corpus VARCHAR NOT NULL,
    measured_at TIMESTAMP NOT NULL,
    sample_size INTEGER NOT NULL,
    precision DOUBLE NOT NULL,
    mapping JSON NOT NULL,
    heldout JSON
);
