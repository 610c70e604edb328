-- The sampled prediction log and the ground truth joined to it: one row
-- per logged prediction, found by its id through the primary key. The
-- label columns stay NULL until POST /v1/feedback joins a label; the
-- first label is kept. size is the row's approximate bytes, summed by
-- the retention sweep that enforces log.max_bytes.

CREATE TABLE predictions (
    id            TEXT PRIMARY KEY,
    time_ns       INTEGER NOT NULL,
    model         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    arm           TEXT NOT NULL DEFAULT '',
    inputs        BLOB,
    scores        TEXT NOT NULL DEFAULT '[]',
    size          INTEGER NOT NULL,
    label         TEXT,
    label_time_ns INTEGER
) WITHOUT ROWID;

CREATE INDEX predictions_time ON predictions (time_ns);
CREATE INDEX predictions_version_time ON predictions (model, version, time_ns);
