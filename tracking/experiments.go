package tracking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultExperimentID is the experiment runs go to when they name none.
const DefaultExperimentID = "0"

// CreateExperiment creates an experiment and returns its id. An empty
// artifactLocation means mlflow-artifacts:/ID, served by switchyard. It
// fails with ErrExists when the name is taken (by a deleted experiment
// too) and ErrInvalid for an empty name or a bad tag.
func (s *Store) CreateExperiment(ctx context.Context, name, artifactLocation string, tags []Tag) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", fmt.Errorf("%w: experiment name must not be empty", ErrInvalid)
	}
	if err := validateTags(tags); err != nil {
		return "", err
	}
	var id int64
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM experiments WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: experiment '%s' already exists", ErrExists, name)
		}
		t := now()
		err := tx.QueryRowContext(ctx, `INSERT INTO experiments (name, artifact_location, creation_time, last_update_time)
			VALUES (?, ?, ?, ?) RETURNING experiment_id`, name, artifactLocation, t, t).Scan(&id)
		if err != nil {
			return err
		}
		if artifactLocation == "" {
			if _, err := tx.ExecContext(ctx, `UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?`,
				"mlflow-artifacts:/"+strconv.FormatInt(id, 10), id); err != nil {
				return err
			}
		}
		for _, tag := range tags {
			if err := setExperimentTag(ctx, tx, id, tag); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(id, 10), nil
}

// Experiment returns the experiment with the given id, deleted or not. It
// fails with ErrNotFound when there is none.
func (s *Store) Experiment(ctx context.Context, id string) (*Experiment, error) {
	n, err := experimentID(id)
	if err != nil {
		return nil, err
	}
	return s.experimentWhere(ctx, `experiment_id = ?`, n, fmt.Sprintf("no experiment with id=%s", id))
}

// ExperimentByName returns the experiment with the given name, deleted or
// not. It fails with ErrNotFound when there is none.
func (s *Store) ExperimentByName(ctx context.Context, name string) (*Experiment, error) {
	return s.experimentWhere(ctx, `name = ?`, name, fmt.Sprintf("could not find experiment with name '%s'", name))
}

func (s *Store) experimentWhere(ctx context.Context, cond string, arg any, missing string) (*Experiment, error) {
	e := &Experiment{}
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time
		FROM experiments WHERE `+cond, arg).Scan(&id, &e.Name, &e.ArtifactLocation, &e.LifecycleStage, &e.CreationTime, &e.LastUpdateTime)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, missing)
	}
	if err != nil {
		return nil, fmt.Errorf("tracking: read experiment: %w", err)
	}
	e.ID = strconv.FormatInt(id, 10)
	tags, err := s.experimentTags(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	e.Tags = tags[id]
	return e, nil
}

// experimentTags returns the tags of the given experiments, by id.
func (s *Store) experimentTags(ctx context.Context, ids []int64) (map[int64][]Tag, error) {
	out := map[int64][]Tag{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT experiment_id, key, value FROM experiment_tags
		WHERE experiment_id IN (`+placeholders(len(ids))+`) ORDER BY key`, args...)
	if err != nil {
		return nil, fmt.Errorf("tracking: read experiment tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t Tag
		if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("tracking: read experiment tags: %w", err)
		}
		out[id] = append(out[id], t)
	}
	return out, rows.Err()
}

// UpdateExperiment renames an active experiment. It fails with
// ErrNotFound, ErrExists when the new name is taken, and ErrInvalid for an
// empty name or a deleted experiment.
func (s *Store) UpdateExperiment(ctx context.Context, id, newName string) error {
	n, err := experimentID(id)
	if err != nil {
		return err
	}
	if strings.TrimSpace(newName) == "" {
		return fmt.Errorf("%w: experiment name must not be empty", ErrInvalid)
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		stage, err := experimentStage(ctx, tx, n)
		if err != nil {
			return err
		}
		if stage != StageActive {
			return fmt.Errorf("%w: cannot rename a non-active experiment", ErrInvalid)
		}
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM experiments WHERE name = ? AND experiment_id != ?`, newName, n).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return fmt.Errorf("%w: experiment '%s' already exists", ErrExists, newName)
		}
		_, err = tx.ExecContext(ctx, `UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?`, newName, now(), n)
		return err
	})
}

// DeleteExperiment marks an experiment and its runs deleted. It fails
// with ErrNotFound, and ErrInvalid for the default experiment.
func (s *Store) DeleteExperiment(ctx context.Context, id string) error {
	return s.setExperimentStage(ctx, id, StageDeleted)
}

// RestoreExperiment makes a deleted experiment and the runs deleted with
// it active again. It fails with ErrNotFound.
func (s *Store) RestoreExperiment(ctx context.Context, id string) error {
	return s.setExperimentStage(ctx, id, StageActive)
}

func (s *Store) setExperimentStage(ctx context.Context, id, stage string) error {
	n, err := experimentID(id)
	if err != nil {
		return err
	}
	if n == 0 && stage == StageDeleted {
		return fmt.Errorf("%w: cannot delete the default experiment '0'", ErrInvalid)
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := experimentStage(ctx, tx, n); err != nil {
			return err
		}
		t := now()
		if _, err := tx.ExecContext(ctx, `UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?`, stage, t, n); err != nil {
			return err
		}
		from := StageActive
		if stage == StageActive {
			from = StageDeleted
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET lifecycle_stage = ? WHERE experiment_id = ? AND lifecycle_stage = ?`, stage, n, from)
		return err
	})
}

// SetExperimentTag sets a tag on an active experiment.
func (s *Store) SetExperimentTag(ctx context.Context, id string, tag Tag) error {
	n, err := experimentID(id)
	if err != nil {
		return err
	}
	if err := validateTags([]Tag{tag}); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		stage, err := experimentStage(ctx, tx, n)
		if err != nil {
			return err
		}
		if stage != StageActive {
			return fmt.Errorf("%w: the experiment %s must be in the 'active' state", ErrInvalid, id)
		}
		return setExperimentTag(ctx, tx, n, tag)
	})
}

func setExperimentTag(ctx context.Context, tx *sql.Tx, id int64, t Tag) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`, id, t.Key, t.Value)
	return err
}

// experimentStage returns an experiment's lifecycle stage, or ErrNotFound.
func experimentStage(ctx context.Context, tx *sql.Tx, id int64) (string, error) {
	var stage string
	err := tx.QueryRowContext(ctx, `SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?`, id).Scan(&stage)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: no experiment with id=%d", ErrNotFound, id)
	}
	return stage, err
}

// experimentID parses an experiment id; one that is not a number names
// no experiment.
func experimentID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: no experiment with id=%s", ErrNotFound, id)
	}
	return n, nil
}

// placeholders returns "?, ?, ..." for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
