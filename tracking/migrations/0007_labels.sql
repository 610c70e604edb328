-- The prediction log moved to append-only segment files (predictions/
-- beside tracking.db): one SQLite row per prediction cost the hot path a
-- fifth of a small model's throughput. The database keeps the ground
-- truth joined to it: one row per labelled prediction, with what the
-- live quality windows read (the version, the scores, when it was
-- answered and labelled), found by the prediction's id.

DROP TABLE predictions;

CREATE TABLE labels (
    prediction_id TEXT PRIMARY KEY,
    model         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    arm           TEXT NOT NULL DEFAULT '',
    predicted_ns  INTEGER NOT NULL,
    scores        BLOB NOT NULL,
    label         TEXT NOT NULL,
    label_ns      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX labels_version_time ON labels (model, version, predicted_ns);
