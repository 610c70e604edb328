-- The gate's verdicts: one row each time the gate judged a version, with
-- the whole verdict (every number and reason) as the gate wrote it.

CREATE TABLE gate_verdicts (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	time    INTEGER NOT NULL,
	model   TEXT    NOT NULL,
	version INTEGER NOT NULL,
	pass    INTEGER NOT NULL,
	reason  TEXT    NOT NULL,
	verdict TEXT    NOT NULL
);

CREATE INDEX gate_verdicts_model_version ON gate_verdicts (model, version, id);
