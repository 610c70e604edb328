package tracking

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Verdict is one judgement of the gate on a model version, as kept by the
// tracking store.
type Verdict struct {
	// ID orders the verdicts; set by the store.
	ID int64 `json:"id"`
	// Time is when the gate judged; zero means now.
	Time time.Time `json:"time"`
	// Model and Version name the version judged.
	Model   string `json:"model"`
	Version int    `json:"version"`
	// Pass is the verdict.
	Pass bool `json:"pass"`
	// Reason is the verdict's reasons, as one text.
	Reason string `json:"reason"`
	// Detail is the whole verdict as JSON (a gate.Verdict), every number
	// and reason.
	Detail json.RawMessage `json:"verdict"`
}

// RecordVerdict keeps v and, in the same transaction, appends its entry to
// the audit trail (actor "gate", action "gate_pass" or "gate_fail"). It
// returns once both are committed, and fails with ErrInvalid when v names
// no model or version or its Detail is not a JSON object.
func (s *Store) RecordVerdict(ctx context.Context, v Verdict) error {
	var detail map[string]any
	if v.Model == "" || v.Version <= 0 || json.Unmarshal(v.Detail, &detail) != nil || detail == nil {
		return fmt.Errorf("%w: a verdict needs a model, a version and a JSON object", ErrInvalid)
	}
	if v.Time.IsZero() {
		v.Time = time.Now()
	}
	action := "gate_fail"
	if v.Pass {
		action = "gate_pass"
	}
	versions, _ := json.Marshal([]int{v.Version})
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO gate_verdicts (time, model, version, pass, reason, verdict) VALUES (?, ?, ?, ?, ?, ?)`,
			v.Time.UnixMilli(), v.Model, v.Version, v.Pass, v.Reason, string(v.Detail))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO audit (time, actor, action, model, versions, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			v.Time.UnixMilli(), "gate", action, v.Model, string(versions), v.Reason, string(v.Detail))
		return err
	})
}

// VerdictQuery selects verdicts.
type VerdictQuery struct {
	// Model, when set, keeps only that model's verdicts; Version, when
	// positive, only that version's.
	Model   string
	Version int
	// Limit bounds the verdicts returned, newest first; 0 means 100.
	Limit int
}

// Verdicts returns the verdicts matching q, newest first.
func (s *Store) Verdicts(ctx context.Context, q VerdictQuery) ([]Verdict, error) {
	cond, args := []string{"TRUE"}, []any{}
	if q.Model != "" {
		cond, args = append(cond, "model = ?"), append(args, q.Model)
	}
	if q.Version > 0 {
		cond, args = append(cond, "version = ?"), append(args, q.Version)
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, time, model, version, pass, reason, verdict FROM gate_verdicts
		WHERE `+strings.Join(cond, " AND ")+` ORDER BY id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("tracking: read verdicts: %w", err)
	}
	defer rows.Close()
	out := []Verdict{}
	for rows.Next() {
		var v Verdict
		var t int64
		var detail string
		if err := rows.Scan(&v.ID, &t, &v.Model, &v.Version, &v.Pass, &v.Reason, &detail); err != nil {
			return nil, fmt.Errorf("tracking: read verdicts: %w", err)
		}
		v.Time, v.Detail = time.UnixMilli(t), json.RawMessage(detail)
		out = append(out, v)
	}
	return out, rows.Err()
}
