package tracking

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Limits MLflow enforces on dataset inputs (mlflow/utils/validation.py,
// _validate_dataset_inputs), in bytes.
const (
	MaxDatasetNameSize     = 500
	MaxDatasetDigestSize   = 36
	MaxDatasetSourceSize   = 65535
	MaxDatasetSchemaSize   = 1048575
	MaxDatasetProfileSize  = 16777215
	MaxInputTagKeySize     = 255
	MaxInputTagValueSize   = 500
	MaxDatasetInputsPerLog = MaxEntitiesPerBatch
)

// LoggedModelsTag is the run tag in which MLflow keeps, as a JSON list,
// the models logged to a run (mlflow.log-model.history).
const LoggedModelsTag = "mlflow.log-model.history"

// DatasetInput is a dataset as MLflow's client logs it as an input of a
// run (mlflow.log_input): what the client says the dataset is, kept as
// sent, and the tags of this use, such as mlflow.data.context = "eval".
// Name, Digest, SourceType and Source are required; Schema and Profile
// are JSON text or empty.
type DatasetInput struct {
	Name       string
	Digest     string
	SourceType string
	Source     string
	Schema     string
	Profile    string
	Tags       []Tag
}

// validateInputs checks dataset inputs as MLflow does.
func validateInputs(inputs []DatasetInput) error {
	if len(inputs) > MaxDatasetInputsPerLog {
		return fmt.Errorf("%w: a request may log at most %d dataset inputs, got %d", ErrInvalid, MaxDatasetInputsPerLog, len(inputs))
	}
	for i, in := range inputs {
		for _, f := range []struct {
			name, value string
			required    bool
			max         int // 0: no limit
		}{
			{"name", in.Name, true, MaxDatasetNameSize},
			{"digest", in.Digest, true, MaxDatasetDigestSize},
			{"source_type", in.SourceType, true, 0},
			{"source", in.Source, true, MaxDatasetSourceSize},
			{"schema", in.Schema, false, MaxDatasetSchemaSize},
			{"profile", in.Profile, false, MaxDatasetProfileSize},
		} {
			switch {
			case f.required && f.value == "":
				return fmt.Errorf("%w: datasets[%d].dataset.%s is required", ErrInvalid, i, f.name)
			case f.max > 0 && len(f.value) > f.max:
				return fmt.Errorf("%w: datasets[%d].dataset.%s exceeds the maximum length of %d", ErrInvalid, i, f.name, f.max)
			}
		}
		for j, t := range in.Tags {
			switch {
			case t.Key == "":
				return fmt.Errorf("%w: datasets[%d].tags[%d].key is required", ErrInvalid, i, j)
			case len(t.Key) > MaxInputTagKeySize:
				return fmt.Errorf("%w: datasets[%d].tags[%d].key exceeds the maximum length of %d", ErrInvalid, i, j, MaxInputTagKeySize)
			case len(t.Value) > MaxInputTagValueSize:
				return fmt.Errorf("%w: datasets[%d].tags[%d].value exceeds the maximum length of %d", ErrInvalid, i, j, MaxInputTagValueSize)
			}
		}
	}
	return nil
}

// LogInputs records dataset inputs of an active run, all or none, as
// MLflow does: a dataset is kept once per experiment, name and digest
// (the first one logged wins), and a run uses it once, with the tags of
// its first use. It fails with ErrNotFound, and ErrInvalid for a deleted
// run or an input over MLflow's limits.
func (s *Store) LogInputs(ctx context.Context, runID string, inputs []DatasetInput) error {
	if err := validateInputs(inputs); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := activeRun(ctx, tx, runID); err != nil {
			return err
		}
		for _, in := range inputs {
			var dataset int64
			err := tx.QueryRowContext(ctx, `INSERT INTO input_datasets (experiment_id, name, digest, source_type, source, schema, profile)
				SELECT experiment_id, ?, ?, ?, ?, ?, ? FROM runs WHERE run_id = ?
				ON CONFLICT (experiment_id, name, digest) DO UPDATE SET name = excluded.name
				RETURNING dataset_id`, in.Name, in.Digest, in.SourceType, in.Source, in.Schema, in.Profile, runID).Scan(&dataset)
			if err != nil {
				return fmt.Errorf("tracking: log inputs: %w", err)
			}
			var input int64
			err = tx.QueryRowContext(ctx, `INSERT INTO run_inputs (run_id, dataset_id) VALUES (?, ?)
				ON CONFLICT (run_id, dataset_id) DO NOTHING RETURNING input_id`, runID, dataset).Scan(&input)
			if errors.Is(err, sql.ErrNoRows) {
				continue // used before: MLflow keeps the first use's tags
			}
			if err != nil {
				return fmt.Errorf("tracking: log inputs: %w", err)
			}
			for _, t := range in.Tags {
				if _, err := tx.ExecContext(ctx, `INSERT INTO run_input_tags (input_id, key, value) VALUES (?, ?, ?)
					ON CONFLICT (input_id, key) DO UPDATE SET value = excluded.value`, input, t.Key, t.Value); err != nil {
					return fmt.Errorf("tracking: log inputs: %w", err)
				}
			}
		}
		return nil
	})
}

// LogModel appends model, the JSON object of a logged model's MLmodel,
// to the LoggedModelsTag list of an active run, as MLflow's
// record_logged_model does. It fails with ErrNotFound, and ErrInvalid
// for a deleted run, a model that is not a JSON object, or a list that
// would pass MaxTagValueLength.
func (s *Store) LogModel(ctx context.Context, runID string, model json.RawMessage) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(model, &obj); err != nil || obj == nil {
		return fmt.Errorf("%w: the model is not a JSON object", ErrInvalid)
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := activeRun(ctx, tx, runID); err != nil {
			return err
		}
		var history []json.RawMessage
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT value FROM run_tags WHERE run_id = ? AND key = ?`, runID, LoggedModelsTag).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("tracking: log model: %w", err)
		default:
			if err := json.Unmarshal([]byte(cur), &history); err != nil {
				return fmt.Errorf("%w: the run's tag %s is not a JSON list", ErrInvalid, LoggedModelsTag)
			}
		}
		value, err := json.Marshal(append(history, model))
		if err != nil {
			return fmt.Errorf("%w: the model is not JSON: %v", ErrInvalid, err)
		}
		if err := validateTags([]Tag{{LoggedModelsTag, string(value)}}); err != nil {
			return err
		}
		return setRunTag(ctx, tx, runID, Tag{LoggedModelsTag, string(value)})
	})
}

// runInputs reads the dataset inputs of the runs in ids (placeholders
// in in) into byID, in the order they were logged.
func runInputs(ctx context.Context, db *sql.DB, in string, ids []any, byID map[string]*Run) error {
	rows, err := db.QueryContext(ctx, `SELECT u.input_id, u.run_id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile
		FROM run_inputs u JOIN input_datasets d ON d.dataset_id = u.dataset_id
		WHERE u.run_id IN `+in+` ORDER BY u.input_id`, ids...)
	if err != nil {
		return fmt.Errorf("tracking: read run inputs: %w", err)
	}
	defer rows.Close()
	type ref struct {
		run string
		i   int
	}
	byInput := make(map[int64]ref)
	var inputIDs []any
	for rows.Next() {
		var input int64
		var run string
		var d DatasetInput
		if err := rows.Scan(&input, &run, &d.Name, &d.Digest, &d.SourceType, &d.Source, &d.Schema, &d.Profile); err != nil {
			return fmt.Errorf("tracking: read run inputs: %w", err)
		}
		r := byID[run]
		byInput[input] = ref{run, len(r.Inputs)}
		inputIDs = append(inputIDs, input)
		r.Inputs = append(r.Inputs, d)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("tracking: read run inputs: %w", err)
	}
	if len(inputIDs) == 0 {
		return nil
	}
	tags, err := db.QueryContext(ctx, `SELECT input_id, key, value FROM run_input_tags
		WHERE input_id IN (`+placeholders(len(inputIDs))+`) ORDER BY input_id, key`, inputIDs...)
	if err != nil {
		return fmt.Errorf("tracking: read run inputs: %w", err)
	}
	defer tags.Close()
	for tags.Next() {
		var input int64
		var t Tag
		if err := tags.Scan(&input, &t.Key, &t.Value); err != nil {
			return fmt.Errorf("tracking: read run inputs: %w", err)
		}
		at := byInput[input]
		d := &byID[at.run].Inputs[at.i]
		d.Tags = append(d.Tags, t)
	}
	return tags.Err()
}
