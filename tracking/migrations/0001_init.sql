-- Experiments, runs and their params, tags and metrics, shaped as MLflow
-- keeps them; datasets, lineage and the audit trail.

CREATE TABLE experiments (
	experiment_id     INTEGER PRIMARY KEY,
	name              TEXT    NOT NULL UNIQUE,
	artifact_location TEXT    NOT NULL,
	lifecycle_stage   TEXT    NOT NULL DEFAULT 'active',
	creation_time     INTEGER NOT NULL,
	last_update_time  INTEGER NOT NULL
);

CREATE TABLE experiment_tags (
	experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
	key           TEXT    NOT NULL,
	value         TEXT    NOT NULL,
	PRIMARY KEY (experiment_id, key)
);

CREATE TABLE runs (
	run_id          TEXT    PRIMARY KEY,
	experiment_id   INTEGER NOT NULL REFERENCES experiments (experiment_id),
	run_name        TEXT    NOT NULL,
	user_id         TEXT    NOT NULL,
	status          TEXT    NOT NULL,
	start_time      INTEGER NOT NULL,
	end_time        INTEGER,
	lifecycle_stage TEXT    NOT NULL DEFAULT 'active',
	artifact_uri    TEXT    NOT NULL
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);

CREATE TABLE run_tags (
	run_id TEXT NOT NULL REFERENCES runs (run_id),
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
);

CREATE TABLE params (
	run_id TEXT NOT NULL REFERENCES runs (run_id),
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
);

-- Every logged value: the full history.
CREATE TABLE metrics (
	run_id    TEXT    NOT NULL REFERENCES runs (run_id),
	key       TEXT    NOT NULL,
	value     REAL,   -- NULL for NaN, which SQLite cannot store
	is_nan    INTEGER NOT NULL DEFAULT 0,
	timestamp INTEGER NOT NULL,
	step      INTEGER NOT NULL,
	seq       INTEGER PRIMARY KEY AUTOINCREMENT
);
CREATE INDEX metrics_by_key ON metrics (run_id, key, seq);

-- The latest value of each metric: the greatest step, then timestamp,
-- then value, as MLflow chooses it.
CREATE TABLE latest_metrics (
	run_id    TEXT    NOT NULL REFERENCES runs (run_id),
	key       TEXT    NOT NULL,
	value     REAL,
	is_nan    INTEGER NOT NULL DEFAULT 0,
	timestamp INTEGER NOT NULL,
	step      INTEGER NOT NULL,
	PRIMARY KEY (run_id, key)
);

-- A data version: recorded once by its sha256, referenced by runs.
CREATE TABLE datasets (
	dataset_id INTEGER PRIMARY KEY,
	sha256     TEXT    NOT NULL UNIQUE,
	path       TEXT    NOT NULL,
	rows       INTEGER NOT NULL,
	columns    TEXT    NOT NULL, -- JSON array of names
	created_at INTEGER NOT NULL
);

CREATE TABLE run_datasets (
	run_id     TEXT    NOT NULL REFERENCES runs (run_id),
	dataset_id INTEGER NOT NULL REFERENCES datasets (dataset_id),
	role       TEXT    NOT NULL, -- train, eval
	PRIMARY KEY (run_id, dataset_id, role)
);

-- Model version -> run.
CREATE TABLE lineage (
	model      TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	run_id     TEXT    NOT NULL REFERENCES runs (run_id),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (model, version)
);

CREATE TABLE audit (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	time     INTEGER NOT NULL, -- unix milliseconds
	actor    TEXT    NOT NULL,
	action   TEXT    NOT NULL,
	model    TEXT    NOT NULL,
	versions TEXT    NOT NULL, -- JSON array of numbers
	reason   TEXT    NOT NULL,
	details  TEXT    NOT NULL  -- JSON object
);
CREATE INDEX audit_by_model ON audit (model, time);

INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active',
        CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
