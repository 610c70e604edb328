package tracking

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// The roles a dataset plays in a run.
const (
	RoleTrain = "train"
	RoleEval  = "eval"
)

// UseDataset records that a run used a dataset in a role. The dataset is
// recorded once by its sha256 and referenced afterwards; recording the
// same sha256 again with other rows or columns fails with ErrInvalid. It
// fails with ErrNotFound for an unknown run.
func (s *Store) UseDataset(ctx context.Context, runID, role string, d Dataset) error {
	if len(d.SHA256) != 64 {
		return fmt.Errorf("%w: dataset sha256 %q is not 64 hex digits", ErrInvalid, d.SHA256)
	}
	if role != RoleTrain && role != RoleEval {
		return fmt.Errorf("%w: dataset role %q: want %q or %q", ErrInvalid, role, RoleTrain, RoleEval)
	}
	cols, err := json.Marshal(d.Columns)
	if err != nil {
		return fmt.Errorf("tracking: %w", err)
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE run_id = ?`, runID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: run with id=%s not found", ErrNotFound, runID)
		}
		var id, rows int64
		var oldCols string
		err := tx.QueryRowContext(ctx, `SELECT dataset_id, rows, columns FROM datasets WHERE sha256 = ?`, d.SHA256).Scan(&id, &rows, &oldCols)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			err = tx.QueryRowContext(ctx, `INSERT INTO datasets (sha256, path, rows, columns, created_at) VALUES (?, ?, ?, ?, ?)
				RETURNING dataset_id`, d.SHA256, d.Path, d.Rows, string(cols), now()).Scan(&id)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case rows != d.Rows || oldCols != string(cols):
			return fmt.Errorf("%w: dataset %s was recorded with %d rows and columns %s, not %d rows and %s", ErrInvalid, d.SHA256, rows, oldCols, d.Rows, cols)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO run_datasets (run_id, dataset_id, role) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, runID, id, role)
		return err
	})
}

// LinkVersion records that version of model was produced by a run. A
// version is linked once: linking it again to another run fails with
// ErrExists. It fails with ErrNotFound for an unknown run.
func (s *Store) LinkVersion(ctx context.Context, model string, version int, runID string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return linkVersion(ctx, tx, model, version, runID)
	})
}

// linkVersion is LinkVersion within tx.
func linkVersion(ctx context.Context, tx *sql.Tx, model string, version int, runID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE run_id = ?`, runID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: run with id=%s not found", ErrNotFound, runID)
	}
	var old string
	err := tx.QueryRowContext(ctx, `SELECT run_id FROM lineage WHERE model = ? AND version = ?`, model, version).Scan(&old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO lineage (model, version, run_id, created_at) VALUES (?, ?, ?, ?)`, model, version, runID, now())
		return err
	case err != nil:
		return err
	case old != runID:
		return fmt.Errorf("%w: %s version %d is already linked to run %s", ErrExists, model, version, old)
	}
	return nil
}

// VersionRun returns the id of the run that produced version of model. It
// fails with ErrNotFound when the version has no recorded lineage.
func (s *Store) VersionRun(ctx context.Context, model string, version int) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT run_id FROM lineage WHERE model = ? AND version = ?`, model, version).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: no lineage recorded for %s version %d", ErrNotFound, model, version)
	}
	if err != nil {
		return "", fmt.Errorf("tracking: read lineage: %w", err)
	}
	return id, nil
}
