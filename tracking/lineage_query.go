package tracking

import (
	"context"
	"fmt"
)

// VersionRef names one version of a model.
type VersionRef struct {
	Model   string
	Version int
}

// RunVersions returns the model versions that a run produced, as
// LinkVersion recorded them, ordered by model and version: the lineage
// read from the run's side. A run that produced none, or does not exist,
// has none.
func (s *Store) RunVersions(ctx context.Context, runID string) ([]VersionRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT model, version FROM lineage WHERE run_id = ? ORDER BY model, version`, runID)
	if err != nil {
		return nil, fmt.Errorf("tracking: read lineage: %w", err)
	}
	defer rows.Close()
	out := []VersionRef{}
	for rows.Next() {
		var v VersionRef
		if err := rows.Scan(&v.Model, &v.Version); err != nil {
			return nil, fmt.Errorf("tracking: read lineage: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracking: read lineage: %w", err)
	}
	return out, nil
}

// CheckBatch reports, wrapping ErrInvalid, what LogBatch would refuse in
// a batch by itself (MLflow's limits, a bad key, a value too long, one
// param given two values), without a store: a caller can check what it
// will log before it writes anything.
func CheckBatch(metrics []Metric, params []Param, tags []Tag) error {
	return validateBatch(metrics, params, tags)
}
