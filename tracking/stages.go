package tracking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MLflow's model version stages, as it spells them.
const (
	StageNone       = "None"
	StageStaging    = "Staging"
	StageProduction = "Production"
	StageArchived   = "Archived"
)

// Stages lists MLflow's model version stages in MLflow's order.
var Stages = []string{StageNone, StageStaging, StageProduction, StageArchived}

// CanonicalStage returns stage spelled as MLflow spells it, matched
// without regard to case as MLflow's get_canonical_stage does, or an
// error wrapping ErrInvalid in MLflow's words for a name that is no
// stage.
func CanonicalStage(stage string) (string, error) {
	i := slices.IndexFunc(Stages, func(s string) bool { return strings.EqualFold(s, stage) })
	if i < 0 {
		return "", fmt.Errorf("%w: Invalid Model Version stage: %s. Value must be one of %s.", ErrInvalid, stage, strings.Join(Stages, ", "))
	}
	return Stages[i], nil
}

// CheckTransition checks a transition to stage (a canonical name) as
// MLflow does: archiveExisting is valid only for Staging and Production.
// It fails with ErrInvalid in MLflow's words.
func CheckTransition(stage string, archiveExisting bool) error {
	if archiveExisting && stage != StageStaging && stage != StageProduction {
		return fmt.Errorf("%w: Model version transition cannot archive existing model versions because '%s' is not an Active stage. Valid stages are ['%s', '%s']",
			ErrInvalid, stage, StageStaging, StageProduction)
	}
	return nil
}

// TransitionModelVersionStage records that a version is now in stage (a
// canonical name, see CanonicalStage) and, when archiveExisting is true,
// that the model's other versions in that stage are now Archived, in one
// transaction. archiveExisting is valid only for Staging and Production,
// as in MLflow; otherwise it fails with ErrInvalid and records nothing.
// It returns the stage the version was in and the versions archived, and
// moves the model's and the versions' last update times. The caller
// checks that the version exists.
func (s *Store) TransitionModelVersionStage(ctx context.Context, name string, version int, stage string, archiveExisting bool) (from string, archived []int, err error) {
	if !slices.Contains(Stages, stage) {
		return "", nil, fmt.Errorf("%w: stage %q is not a canonical stage name", ErrInvalid, stage)
	}
	if err := CheckTransition(stage, archiveExisting); err != nil {
		return "", nil, err
	}
	err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		from, archived = StageNone, nil
		t := now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET last_updated_time = excluded.last_updated_time`, name, t, t); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT current_stage FROM model_versions WHERE name = ? AND version = ?`, name, version).Scan(&from)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if archiveExisting {
			rows, err := tx.QueryContext(ctx, `SELECT version FROM model_versions WHERE name = ? AND version != ? AND current_stage = ? ORDER BY version`,
				name, version, stage)
			if err != nil {
				return err
			}
			for rows.Next() {
				var v int
				if err := rows.Scan(&v); err != nil {
					rows.Close()
					return err
				}
				archived = append(archived, v)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET current_stage = ?, last_updated_time = ?
				WHERE name = ? AND version != ? AND current_stage = ?`, StageArchived, t, name, version, stage); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO model_versions (name, version, current_stage, creation_time, last_updated_time)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE SET current_stage = excluded.current_stage,
			last_updated_time = excluded.last_updated_time`, name, version, stage, t, t)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("tracking: transition %s version %d to %s: %w", name, version, stage, err)
	}
	return from, archived, nil
}

// ModelVersionStages returns the stage of each of a model's versions
// that is in a stage other than None.
func (s *Store) ModelVersionStages(ctx context.Context, name string) (map[int]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, current_stage FROM model_versions WHERE name = ? AND current_stage != ?`, name, StageNone)
	if err != nil {
		return nil, fmt.Errorf("tracking: read stages: %w", err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var v int
		var st string
		if err := rows.Scan(&v, &st); err != nil {
			return nil, fmt.Errorf("tracking: read stages: %w", err)
		}
		out[v] = st
	}
	return out, rows.Err()
}
