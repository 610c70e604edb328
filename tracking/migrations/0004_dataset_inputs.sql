-- MLflow's dataset inputs (mlflow.log_input): datasets named by their
-- client, one per (experiment, name, digest) as MLflow keeps them, the
-- runs that used each, and the tags of each use (mlflow.data.context).
-- They are what the client logged, kept apart from the datasets table,
-- whose rows switchyard hashed itself.

CREATE TABLE input_datasets (
	dataset_id    INTEGER PRIMARY KEY,
	experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
	name          TEXT    NOT NULL,
	digest        TEXT    NOT NULL,
	source_type   TEXT    NOT NULL,
	source        TEXT    NOT NULL,
	schema        TEXT    NOT NULL DEFAULT '',
	profile       TEXT    NOT NULL DEFAULT '',
	UNIQUE (experiment_id, name, digest)
);

CREATE TABLE run_inputs (
	input_id   INTEGER PRIMARY KEY,
	run_id     TEXT    NOT NULL REFERENCES runs (run_id),
	dataset_id INTEGER NOT NULL REFERENCES input_datasets (dataset_id),
	UNIQUE (run_id, dataset_id)
);

CREATE TABLE run_input_tags (
	input_id INTEGER NOT NULL REFERENCES run_inputs (input_id),
	key      TEXT    NOT NULL,
	value    TEXT    NOT NULL,
	PRIMARY KEY (input_id, key)
);
