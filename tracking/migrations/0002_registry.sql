-- What MLflow's model registry keeps that switchyard's registry directory
-- does not: descriptions, tags, aliases and the source of each version.
-- The directory stays the truth about which models and versions exist.

CREATE TABLE registered_models (
	name              TEXT    PRIMARY KEY,
	description       TEXT    NOT NULL DEFAULT '',
	creation_time     INTEGER NOT NULL,
	last_updated_time INTEGER NOT NULL
);

CREATE TABLE registered_model_tags (
	name  TEXT NOT NULL,
	key   TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (name, key)
);

CREATE TABLE registered_model_aliases (
	name    TEXT    NOT NULL,
	alias   TEXT    NOT NULL,
	version INTEGER NOT NULL,
	PRIMARY KEY (name, alias)
);

CREATE TABLE model_versions (
	name              TEXT    NOT NULL,
	version           INTEGER NOT NULL,
	description       TEXT    NOT NULL DEFAULT '',
	source            TEXT    NOT NULL DEFAULT '',
	user_id           TEXT    NOT NULL DEFAULT '',
	creation_time     INTEGER NOT NULL,
	last_updated_time INTEGER NOT NULL,
	PRIMARY KEY (name, version)
);

CREATE TABLE model_version_tags (
	name    TEXT    NOT NULL,
	version INTEGER NOT NULL,
	key     TEXT    NOT NULL,
	value   TEXT    NOT NULL,
	PRIMARY KEY (name, version, key)
);
