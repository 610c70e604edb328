package tracking

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strconv"
)

// RunNameTag is the tag MLflow mirrors a run's name into.
const RunNameTag = "mlflow.runName"

// RunSpec describes a run to create.
type RunSpec struct {
	// ExperimentID is the experiment; empty means DefaultExperimentID.
	ExperimentID string
	// UserID names who runs it.
	UserID string
	// RunName names it; empty means a generated name.
	RunName string
	// StartTime is in Unix milliseconds; 0 means now.
	StartTime int64
	// Tags are set on the run as it is created.
	Tags []Tag
}

// CreateRun creates a RUNNING run in an active experiment. It fails with
// ErrNotFound for an unknown experiment and ErrInvalid for a deleted one
// or a bad tag.
func (s *Store) CreateRun(ctx context.Context, spec RunSpec) (*Run, error) {
	if spec.ExperimentID == "" {
		spec.ExperimentID = DefaultExperimentID
	}
	exp, err := experimentID(spec.ExperimentID)
	if err != nil {
		return nil, err
	}
	if err := validateTags(spec.Tags); err != nil {
		return nil, err
	}
	if spec.RunName == "" {
		for _, t := range spec.Tags {
			if t.Key == RunNameTag {
				spec.RunName = t.Value
			}
		}
	}
	if spec.RunName == "" {
		spec.RunName = randomRunName()
	}
	if spec.StartTime == 0 {
		spec.StartTime = now()
	}
	id := newRunID()
	err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var stage, location string
		err := tx.QueryRowContext(ctx, `SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = ?`, exp).Scan(&stage, &location)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no experiment with id=%s", ErrNotFound, spec.ExperimentID)
		}
		if err != nil {
			return err
		}
		if stage != StageActive {
			return fmt.Errorf("%w: the experiment %s must be in the 'active' state", ErrInvalid, spec.ExperimentID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO runs (run_id, experiment_id, run_name, user_id, status, start_time, artifact_uri)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, exp, spec.RunName, spec.UserID, StatusRunning, spec.StartTime,
			location+"/"+id+"/artifacts"); err != nil {
			return err
		}
		tags := append(spec.Tags, Tag{Key: RunNameTag, Value: spec.RunName})
		for _, t := range tags {
			if err := setRunTag(ctx, tx, id, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Run(ctx, id)
}

// Run returns a run with its latest metrics, params, tags and datasets,
// deleted or not. It fails with ErrNotFound.
func (s *Store) Run(ctx context.Context, id string) (*Run, error) {
	runs, err := s.runsWhere(ctx, `r.run_id = ?`, []any{id}, "", 0, 1)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%w: run with id=%s not found", ErrNotFound, id)
	}
	return runs[0], nil
}

// RunUpdate is what UpdateRun changes; zero fields are left as they are.
type RunUpdate struct {
	Status  string
	EndTime int64
	RunName string
}

// UpdateRun changes an active run's status, end time or name and returns
// its info. It fails with ErrNotFound, and ErrInvalid for an unknown
// status or a deleted run.
func (s *Store) UpdateRun(ctx context.Context, id string, u RunUpdate) (*RunInfo, error) {
	if u.Status != "" && !validStatus(u.Status) {
		return nil, fmt.Errorf("%w: invalid run status '%s'", ErrInvalid, u.Status)
	}
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := activeRun(ctx, tx, id); err != nil {
			return err
		}
		if u.Status != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ? WHERE run_id = ?`, u.Status, id); err != nil {
				return err
			}
		}
		if u.EndTime != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET end_time = ? WHERE run_id = ?`, u.EndTime, id); err != nil {
				return err
			}
		}
		if u.RunName != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET run_name = ? WHERE run_id = ?`, u.RunName, id); err != nil {
				return err
			}
			return setRunTag(ctx, tx, id, Tag{Key: RunNameTag, Value: u.RunName})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r, err := s.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	return &r.Info, nil
}

// DeleteRun marks a run deleted; RestoreRun makes it active again. Both
// fail with ErrNotFound.
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	return s.setRunStage(ctx, id, StageDeleted)
}

// RestoreRun makes a deleted run active again. It fails with ErrNotFound.
func (s *Store) RestoreRun(ctx context.Context, id string) error {
	return s.setRunStage(ctx, id, StageActive)
}

func (s *Store) setRunStage(ctx context.Context, id, stage string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET lifecycle_stage = ? WHERE run_id = ?`, stage, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: run with id=%s not found", ErrNotFound, id)
		}
		return nil
	})
}

// LogBatch logs metrics, params and tags to an active run, all or none.
// It fails with ErrNotFound, and ErrInvalid for a deleted run, a batch
// over MLflow's limits, a bad key or value, or a param logged before with
// another value (MLflow forbids changing one).
func (s *Store) LogBatch(ctx context.Context, id string, metrics []Metric, params []Param, tags []Tag) error {
	if err := validateBatch(metrics, params, tags); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := activeRun(ctx, tx, id); err != nil {
			return err
		}
		for _, p := range params {
			if err := logParam(ctx, tx, id, p); err != nil {
				return err
			}
		}
		for _, t := range tags {
			if err := setRunTag(ctx, tx, id, t); err != nil {
				return err
			}
			if t.Key == RunNameTag {
				if _, err := tx.ExecContext(ctx, `UPDATE runs SET run_name = ? WHERE run_id = ?`, t.Value, id); err != nil {
					return err
				}
			}
		}
		for _, m := range metrics {
			if err := logMetric(ctx, tx, id, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteTag removes a tag from an active run. It fails with ErrNotFound
// for an unknown run or tag, and ErrInvalid for a deleted run.
func (s *Store) DeleteTag(ctx context.Context, id, key string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := activeRun(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM run_tags WHERE run_id = ? AND key = ?`, id, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: no tag with name: %s in run with id %s", ErrNotFound, key, id)
		}
		return nil
	})
}

// MetricHistory returns every value logged for a run's metric, by step,
// then timestamp, then the order they were logged. It fails with
// ErrNotFound for an unknown run.
func (s *Store) MetricHistory(ctx context.Context, id, key string) ([]Metric, error) {
	if _, err := s.Run(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT value, is_nan, timestamp, step FROM metrics
		WHERE run_id = ? AND key = ? ORDER BY step, timestamp, seq`, id, key)
	if err != nil {
		return nil, fmt.Errorf("tracking: read metric history: %w", err)
	}
	defer rows.Close()
	out := []Metric{}
	for rows.Next() {
		m := Metric{Key: key}
		var v sql.NullFloat64
		var isNaN bool
		if err := rows.Scan(&v, &isNaN, &m.Timestamp, &m.Step); err != nil {
			return nil, fmt.Errorf("tracking: read metric history: %w", err)
		}
		m.Value = loadedValue(v, isNaN)
		out = append(out, m)
	}
	return out, rows.Err()
}

// activeRun fails with ErrNotFound or, for a deleted run, ErrInvalid.
func activeRun(ctx context.Context, tx *sql.Tx, id string) error {
	var stage string
	err := tx.QueryRowContext(ctx, `SELECT lifecycle_stage FROM runs WHERE run_id = ?`, id).Scan(&stage)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: run with id=%s not found", ErrNotFound, id)
	}
	if err != nil {
		return err
	}
	if stage != StageActive {
		return fmt.Errorf("%w: the run %s must be in the 'active' state; current state is %s", ErrInvalid, id, stage)
	}
	return nil
}

func setRunTag(ctx context.Context, tx *sql.Tx, id string, t Tag) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`, id, t.Key, t.Value)
	return err
}

func logParam(ctx context.Context, tx *sql.Tx, id string, p Param) error {
	var old string
	err := tx.QueryRowContext(ctx, `SELECT value FROM params WHERE run_id = ? AND key = ?`, id, p.Key).Scan(&old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)`, id, p.Key, p.Value)
		return err
	case err != nil:
		return err
	case old != p.Value:
		return fmt.Errorf("%w: changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run ID='%s'. Attempted logging new value '%s'",
			ErrInvalid, p.Key, old, id, p.Value)
	}
	return nil
}

// logMetric appends a value to a metric's history and keeps latest_metrics
// at the value with the greatest step, then timestamp, then value.
func logMetric(ctx context.Context, tx *sql.Tx, id string, m Metric) error {
	v, isNaN := storedValue(m.Value)
	if _, err := tx.ExecContext(ctx, `INSERT INTO metrics (run_id, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)`,
		id, m.Key, v, isNaN, m.Timestamp, m.Step); err != nil {
		return err
	}
	var cur Metric
	var cv sql.NullFloat64
	var cNaN bool
	err := tx.QueryRowContext(ctx, `SELECT value, is_nan, timestamp, step FROM latest_metrics WHERE run_id = ? AND key = ?`, id, m.Key).
		Scan(&cv, &cNaN, &cur.Timestamp, &cur.Step)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err == nil {
		cur.Value = loadedValue(cv, cNaN)
		if !newer(m, cur) {
			return nil
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO latest_metrics (run_id, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan,
		timestamp = excluded.timestamp, step = excluded.step`, id, m.Key, v, isNaN, m.Timestamp, m.Step)
	return err
}

// newer reports whether m replaces cur as a metric's latest value: a
// greater step, then timestamp, then value (NaN counting as least).
func newer(m, cur Metric) bool {
	if m.Step != cur.Step {
		return m.Step > cur.Step
	}
	if m.Timestamp != cur.Timestamp {
		return m.Timestamp > cur.Timestamp
	}
	switch {
	case math.IsNaN(m.Value):
		return math.IsNaN(cur.Value)
	case math.IsNaN(cur.Value):
		return true
	}
	return m.Value >= cur.Value
}

func loadedValue(v sql.NullFloat64, isNaN bool) float64 {
	if isNaN || !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// newRunID returns 32 random hex digits, as MLflow's run ids are.
func newRunID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var (
	nameAdjectives = []string{"amber", "bold", "brisk", "calm", "clever", "crisp", "eager", "gentle", "keen", "lucid", "nimble", "quiet", "rapid", "steady", "sunny", "vivid"}
	nameNouns      = []string{"badger", "crane", "falcon", "fox", "heron", "lynx", "marten", "otter", "owl", "panda", "raven", "seal", "sparrow", "stoat", "swift", "wren"}
)

// randomRunName returns a name such as "steady-otter-417", as MLflow
// names runs that are given none.
func randomRunName() string {
	return nameAdjectives[mrand.IntN(len(nameAdjectives))] + "-" + nameNouns[mrand.IntN(len(nameNouns))] + "-" + strconv.Itoa(mrand.IntN(1000))
}
