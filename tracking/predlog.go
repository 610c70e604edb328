package tracking

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"time"

	"github.com/switchyard-ml/switchyard/internal/modelname"
)

// The prediction log is kept in two places. The predictions themselves
// go to append-only segment files, a directory per model under
// PredictionsDir (predlog_store.go): a batch is one write, with no index
// to maintain but the segment's own, which is what keeps logging every
// prediction cheap beside the hot path. The ground truth joined to them
// goes to the database's labels table, one row per labelled prediction,
// committed before POST /v1/feedback answers.

// Prediction is one record of the prediction log: an answered prediction
// and, once feedback joined one, its label.
type Prediction struct {
	// ID is the prediction id the server answered with.
	ID string
	// Time is when it was asked for (the request's arrival, for the
	// server); zero means now.
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

// LogPredictions appends ps to the prediction log and returns once they
// are written to the segment files (to the operating system: they survive
// the process's death, not the machine's). It sorts ps by model, and sets
// a zero Time to now. It fails with ErrInvalid, writing nothing, when a
// prediction lacks an id or has no valid model name.
func (s *Store) LogPredictions(ctx context.Context, ps []Prediction) error {
	for i := range ps {
		if ps[i].ID == "" || !modelname.Valid(ps[i].Model) {
			return fmt.Errorf("%w: prediction %d needs an id and a valid model name, not %q", ErrInvalid, i, ps[i].Model)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	for i := range ps {
		if ps[i].Time.IsZero() {
			ps[i].Time = now
		}
	}
	slices.SortStableFunc(ps, func(a, b Prediction) int { return cmp.Compare(a.Model, b.Model) })
	if err := s.preds.append(ps, now); err != nil {
		return fmt.Errorf("tracking: log predictions: %w", err)
	}
	return nil
}

// Prediction returns the logged prediction id, with its label if one was
// joined. It fails with ErrNotFound when id is not logged (never, not
// sampled, or removed by retention).
func (s *Store) Prediction(ctx context.Context, id string) (Prediction, error) {
	p, ok, err := s.preds.find("", id)
	if err != nil {
		return p, fmt.Errorf("tracking: prediction %q: %w", id, err)
	}
	if !ok {
		return p, fmt.Errorf("%w: prediction %q is not in the log", ErrNotFound, id)
	}
	if err := s.joinLabel(ctx, &p); err != nil {
		return p, fmt.Errorf("tracking: prediction %q: %w", id, err)
	}
	return p, nil
}

// joinLabel sets p's label from the labels table, if it has one.
func (s *Store) joinLabel(ctx context.Context, p *Prediction) error {
	var label string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT label, label_ns FROM labels WHERE prediction_id = ?`, p.ID).Scan(&label, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	p.Label, p.LabelTime = json.RawMessage(label), time.Unix(0, at)
	return nil
}

// labelColumns are the columns scanLabelled reads, in its order.
const labelColumns = `prediction_id, model, version, arm, predicted_ns, scores, label, label_ns`

// scanLabelled reads a row of labelColumns: a labelled prediction
// without its inputs.
func scanLabelled(sc interface{ Scan(...any) error }) (Prediction, error) {
	var (
		p             Prediction
		at, labelAt   int64
		scores, label []byte
	)
	if err := sc.Scan(&p.ID, &p.Model, &p.Version, &p.Arm, &at, &scores, &label, &labelAt); err != nil {
		return p, err
	}
	p.Time, p.LabelTime, p.Label = time.Unix(0, at), time.Unix(0, labelAt), json.RawMessage(label)
	var err error
	p.Scores, err = decodeScores(scores)
	return p, err
}

// encodeScores and decodeScores are the labels table's form of scores:
// little-endian float64s.
func encodeScores(xs []float64) []byte {
	b := make([]byte, 0, 8*len(xs))
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func decodeScores(b []byte) ([]float64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("scores of %d bytes, not a multiple of 8", len(b))
	}
	xs := make([]float64, len(b)/8)
	for i := range xs {
		xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return xs, nil
}

// Labelled yields, in the order they were answered, the predictions of
// version of model answered at or after since that have a label, without
// their inputs: the joined records the live quality windows read. With
// last > 0 it yields only the last that many, which is what a window of
// that many reads at start, at a cost that does not grow with the log's
// history. It stops at the first error, which it yields.
func (s *Store) Labelled(ctx context.Context, model string, version int, since time.Time, last int) iter.Seq2[Prediction, error] {
	return s.labelled(ctx, PredictionQuery{Model: model, Version: version, Since: since, Labelled: true}, last)
}

// labelled yields the labelled predictions q selects, from the labels
// table, without their inputs; with last > 0, only the last that many.
func (s *Store) labelled(ctx context.Context, q PredictionQuery, last int) iter.Seq2[Prediction, error] {
	return func(yield func(Prediction, error) bool) {
		query := `SELECT ` + labelColumns + ` FROM labels WHERE model = ? AND predicted_ns >= ?`
		args := []any{q.Model, int64(math.MinInt64)}
		if !q.Since.IsZero() {
			args[1] = q.Since.UnixNano()
		}
		if q.Version != 0 {
			query += ` AND version = ?`
			args = append(args, q.Version)
		}
		if last > 0 { // the newest, by the index, then put back in order
			query = `SELECT ` + labelColumns + ` FROM (` + query + ` ORDER BY predicted_ns DESC, prediction_id DESC LIMIT ?) AS newest`
			args = append(args, last)
		}
		rows, err := s.db.QueryContext(ctx, query+` ORDER BY predicted_ns, prediction_id`, args...)
		if err != nil {
			yield(Prediction{}, fmt.Errorf("tracking: labelled predictions of %s: %w", q.Model, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanLabelled(rows)
			if err != nil {
				yield(p, fmt.Errorf("tracking: labelled predictions of %s: %w", q.Model, err))
				return
			}
			if !yield(p, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(Prediction{}, fmt.Errorf("tracking: labelled predictions of %s: %w", q.Model, err))
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

// Predictions yields the logged predictions q selects, with their inputs
// and their labels joined. Labelled ones come in the order they were
// answered; all of them, segment by segment in the order the segments
// were begun, each in the order written, which is the order answered
// but for requests that overtook each other within a batch. It holds one
// prediction at a time, so that an export of any size takes constant
// memory. A labelled prediction whose record retention removed comes
// without its inputs. It stops at the first error, which it yields.
func (s *Store) Predictions(ctx context.Context, q PredictionQuery) iter.Seq2[Prediction, error] {
	return func(yield func(Prediction, error) bool) {
		if !modelname.Valid(q.Model) {
			yield(Prediction{}, fmt.Errorf("%w: a prediction query needs a valid model name, not %q", ErrInvalid, q.Model))
			return
		}
		if q.Labelled {
			preds := s.preds.finder(q.Model)
			for p, err := range s.labelled(ctx, q, 0) {
				if err == nil {
					var rec Prediction
					var ok bool
					if rec, ok, err = preds.find(p.ID); ok {
						p.Inputs = rec.Inputs
					}
				}
				if !yield(p, err) || err != nil {
					return
				}
			}
			return
		}
		for p, err := range s.preds.scan(q.Model, q.Since) {
			if err == nil && q.Version != 0 && p.Version != q.Version {
				continue
			}
			if err == nil {
				err = s.joinLabel(ctx, &p)
			}
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				yield(p, fmt.Errorf("tracking: predictions of %s: %w", q.Model, err))
				return
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

// LoggedModels lists the models the prediction log holds segments of.
func (s *Store) LoggedModels() ([]string, error) {
	ms, err := s.preds.models()
	if err != nil {
		return nil, fmt.Errorf("tracking: prediction log: %w", err)
	}
	return ms, nil
}

// PrunePredictions enforces model's retention of the prediction log: it
// removes the segments whose predictions were all answered before
// before, and the labels of predictions answered before it, then the
// oldest segments until model's take at most maxBytes (0: no bound by
// size). Segments go whole, so the log keeps up to a segment more than
// the bounds (DefaultSegmentBytes, DefaultSegmentAge). It returns how
// many predictions it removed.
func (s *Store) PrunePredictions(ctx context.Context, model string, before time.Time, maxBytes int64) (int64, error) {
	n, err := s.preds.prune(model, before, maxBytes)
	if err != nil {
		return n, fmt.Errorf("tracking: prune the prediction log of %s: %w", model, err)
	}
	err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM labels WHERE model = ? AND predicted_ns < ?`, model, before.UnixNano())
		return err
	})
	if err != nil {
		return n, fmt.Errorf("tracking: prune the labels of %s: %w", model, err)
	}
	return n, nil
}
