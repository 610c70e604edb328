package tracking

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"
)

// Prediction is one record of the prediction log: an answered prediction
// and, once feedback joined one, its label.
type Prediction struct {
	// ID is the prediction id the server answered with.
	ID string
	// Time is when it was answered; zero means now.
	Time time.Time
	// Model, Version and Arm say what answered it; Arm is empty when the
	// rollout did not name one.
	Model   string
	Version int
	Arm     string
	// Inputs are the request's input bytes when sampled, else nil.
	Inputs []byte
	// Scores are the outputs the model gave, one per row or class.
	Scores []float64
	// Label is the ground truth as JSON (a string or a number), nil until
	// joined; LabelTime is when it was joined.
	Label     json.RawMessage
	LabelTime time.Time
}

// predictionOverhead approximates a row's bytes besides its inputs and
// scores, for the retention by size.
const predictionOverhead = 96

// LogPredictions appends ps to the prediction log in one transaction and
// returns once it is committed. A prediction whose id is already logged
// is left as it is. It fails with ErrInvalid, writing nothing, when a
// prediction lacks an id or a model.
func (s *Store) LogPredictions(ctx context.Context, ps []Prediction) error {
	for i := range ps {
		if ps[i].ID == "" || ps[i].Model == "" {
			return fmt.Errorf("%w: prediction %d needs an id and a model", ErrInvalid, i)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	now := time.Now()
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO predictions
			(id, time_ns, model, version, arm, inputs, scores, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("log predictions: %w", err)
		}
		defer st.Close()
		for _, p := range ps {
			at := p.Time
			if at.IsZero() {
				at = now
			}
			scores, err := json.Marshal(nonNil(p.Scores))
			if err != nil {
				return fmt.Errorf("log prediction %s: %w", p.ID, err)
			}
			size := predictionOverhead + len(p.ID) + len(p.Model) + len(p.Arm) + len(p.Inputs) + len(scores)
			if _, err := st.ExecContext(ctx, p.ID, at.UnixNano(), p.Model, p.Version, p.Arm, p.Inputs, string(scores), size); err != nil {
				return fmt.Errorf("log prediction %s: %w", p.ID, err)
			}
		}
		return nil
	})
}

// nonNil returns xs, or an empty slice for nil, so that it encodes as [].
func nonNil(xs []float64) []float64 {
	if xs == nil {
		return []float64{}
	}
	return xs
}

// predictionColumns are the columns scanPrediction reads, in its order.
const predictionColumns = `id, time_ns, model, version, arm, inputs, scores, label, label_time_ns`

// scanPrediction reads a row of predictionColumns.
func scanPrediction(sc interface{ Scan(...any) error }) (Prediction, error) {
	var (
		p       Prediction
		at      int64
		scores  string
		label   sql.NullString
		labelAt sql.NullInt64
	)
	if err := sc.Scan(&p.ID, &at, &p.Model, &p.Version, &p.Arm, &p.Inputs, &scores, &label, &labelAt); err != nil {
		return p, err
	}
	p.Time = time.Unix(0, at)
	if err := json.Unmarshal([]byte(scores), &p.Scores); err != nil {
		return p, fmt.Errorf("prediction %s: scores: %w", p.ID, err)
	}
	if label.Valid {
		p.Label = json.RawMessage(label.String)
	}
	if labelAt.Valid {
		p.LabelTime = time.Unix(0, labelAt.Int64)
	}
	return p, nil
}

// Prediction returns the logged prediction id, with its label if one was
// joined. It fails with ErrNotFound when id is not logged (never, not
// sampled, or removed by retention).
func (s *Store) Prediction(ctx context.Context, id string) (Prediction, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+predictionColumns+` FROM predictions WHERE id = ?`, id)
	p, err := scanPrediction(row)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("%w: prediction %q is not in the log", ErrNotFound, id)
	}
	if err != nil {
		return p, fmt.Errorf("tracking: prediction %q: %w", id, err)
	}
	return p, nil
}

// Labelled yields, in the order they were answered, the predictions of
// version of model answered at or after since that have a label: the
// joined records the live quality windows read. It stops at the first
// error, which it yields.
func (s *Store) Labelled(ctx context.Context, model string, version int, since time.Time) iter.Seq2[Prediction, error] {
	return func(yield func(Prediction, error) bool) {
		rows, err := s.db.QueryContext(ctx, `SELECT `+predictionColumns+` FROM predictions
			WHERE model = ? AND version = ? AND time_ns >= ? AND label IS NOT NULL ORDER BY time_ns, id`,
			model, version, since.UnixNano())
		if err != nil {
			yield(Prediction{}, fmt.Errorf("tracking: labelled predictions of %s v%d: %w", model, version, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPrediction(rows)
			if err != nil {
				yield(p, fmt.Errorf("tracking: labelled predictions of %s v%d: %w", model, version, err))
				return
			}
			if !yield(p, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(Prediction{}, fmt.Errorf("tracking: labelled predictions of %s v%d: %w", model, version, err))
		}
	}
}

// PredictionQuery selects predictions of the log for Predictions.
type PredictionQuery struct {
	// Model is required.
	Model string
	// Version, when not 0, keeps only that version's predictions.
	Version int
	// Since, when not zero, keeps only predictions answered at or after it.
	Since time.Time
	// Labelled keeps only predictions with a label joined.
	Labelled bool
}

// Predictions yields the logged predictions q selects, with their labels
// joined, in the order they were answered. It holds one prediction at a
// time, so that an export of any size takes constant memory. It stops at
// the first error, which it yields.
func (s *Store) Predictions(ctx context.Context, q PredictionQuery) iter.Seq2[Prediction, error] {
	return func(yield func(Prediction, error) bool) {
		if q.Model == "" {
			yield(Prediction{}, fmt.Errorf("%w: a prediction query needs a model", ErrInvalid))
			return
		}
		query := `SELECT ` + predictionColumns + ` FROM predictions WHERE model = ? AND time_ns >= ?`
		args := []any{q.Model, q.Since.UnixNano()}
		if q.Since.IsZero() {
			args[1] = int64(math.MinInt64)
		}
		if q.Version != 0 {
			query += ` AND version = ?`
			args = append(args, q.Version)
		}
		if q.Labelled {
			query += ` AND label IS NOT NULL`
		}
		rows, err := s.db.QueryContext(ctx, query+` ORDER BY time_ns, id`, args...)
		if err != nil {
			yield(Prediction{}, fmt.Errorf("tracking: predictions of %s: %w", q.Model, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPrediction(rows)
			if err != nil {
				yield(p, fmt.Errorf("tracking: predictions of %s: %w", q.Model, err))
				return
			}
			if !yield(p, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(Prediction{}, fmt.Errorf("tracking: predictions of %s: %w", q.Model, err))
		}
	}
}

// PrunePredictions enforces the prediction log's retention: it removes
// the predictions answered before before, then the oldest until the
// rows' bytes are at most maxBytes (0: no bound by size). It returns how
// many it removed.
func (s *Store) PrunePredictions(ctx context.Context, before time.Time, maxBytes int64) (int64, error) {
	var removed int64
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		removed = 0
		res, err := tx.ExecContext(ctx, `DELETE FROM predictions WHERE time_ns < ?`, before.UnixNano())
		if err != nil {
			return fmt.Errorf("prune predictions by age: %w", err)
		}
		n, _ := res.RowsAffected()
		removed += n
		if maxBytes <= 0 {
			return nil
		}
		var total int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM predictions`).Scan(&total); err != nil {
			return fmt.Errorf("prune predictions by size: %w", err)
		}
		if total <= maxBytes {
			return nil
		}
		// Find the newest time that must go: walk from the oldest until
		// what remains fits.
		rows, err := tx.QueryContext(ctx, `SELECT time_ns, size FROM predictions ORDER BY time_ns`)
		if err != nil {
			return fmt.Errorf("prune predictions by size: %w", err)
		}
		cut := int64(-1)
		for rows.Next() && total > maxBytes {
			var at, size int64
			if err := rows.Scan(&at, &size); err != nil {
				rows.Close()
				return fmt.Errorf("prune predictions by size: %w", err)
			}
			total -= size
			cut = at
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("prune predictions by size: %w", err)
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM predictions WHERE time_ns <= ?`, cut)
		if err != nil {
			return fmt.Errorf("prune predictions by size: %w", err)
		}
		n, _ = res.RowsAffected()
		removed += n
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("tracking: %w", err)
	}
	return removed, nil
}
