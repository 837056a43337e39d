-- Beat3tower sonic features: one row per analysed track holding its four segment vectors
-- (full, start, mid, end; FLOAT[137] in musicwb.sonic.towers.feature_names() order), the tempo
-- summary and, per segment, whether a fixed time grid replaced the beats. content_hash is the
-- track's hash when it was analysed: a track whose file changed since counts as not analysed.
-- One error row per track that could not be analysed, with its reason; a success clears it.

CREATE TABLE sonic_features (
    track_id BIGINT PRIMARY KEY,
    content_hash VARCHAR NOT NULL,
    extractor_version VARCHAR NOT NULL,
    duration_s DOUBLE NOT NULL,
    n_beats INTEGER NOT NULL,
    bpm DOUBLE NOT NULL,
    half_tempo_likely BOOLEAN NOT NULL,
    double_tempo_likely BOOLEAN NOT NULL,
    tempo_stability DOUBLE NOT NULL,
    pulse_clarity DOUBLE NOT NULL,
    grid_full BOOLEAN NOT NULL,
    grid_start BOOLEAN NOT NULL,
    grid_mid BOOLEAN NOT NULL,
    grid_end BOOLEAN NOT NULL,
    vec_full FLOAT[137] NOT NULL,
    vec_start FLOAT[137] NOT NULL,
    vec_mid FLOAT[137] NOT NULL,
    vec_end FLOAT[137] NOT NULL,
    extracted_at TIMESTAMP NOT NULL
);

CREATE TABLE sonic_errors (
    track_id BIGINT PRIMARY KEY,
    path VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    extractor_version VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
