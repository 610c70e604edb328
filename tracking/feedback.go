package tracking

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Label is one item of ground-truth feedback: the label of a logged
// prediction.
type Label struct {
	// PredictionID names the prediction the server answered.
	PredictionID string
	// Value is the label as JSON: a class name (a string), a class index
	// or a regressor's target (a number).
	Value json.RawMessage
}

// FeedbackStatus says what became of one label.
type FeedbackStatus string

// The statuses of a label.
const (
	// FeedbackAccepted: the label was joined to its prediction.
	FeedbackAccepted FeedbackStatus = "accepted"
	// FeedbackDuplicate: the prediction already had this very label.
	FeedbackDuplicate FeedbackStatus = "duplicate"
	// FeedbackConflict: the prediction already had another label, which
	// is kept (the first label wins).
	FeedbackConflict FeedbackStatus = "conflict"
	// FeedbackUnknown: no such prediction is logged (never answered, not
	// sampled, or removed by retention).
	FeedbackUnknown FeedbackStatus = "unknown"
)

// FeedbackResult is what became of one label, in the order given.
type FeedbackResult struct {
	PredictionID string
	Status       FeedbackStatus
	// Message explains a conflict or an unknown id; empty otherwise.
	Message string
	// Prediction is the logged prediction with the label just joined
	// (Label and LabelTime set), for an accepted label; zero otherwise.
	Prediction Prediction
}

// MaxFeedbackBatch bounds the labels of one Feedback call.
const MaxFeedbackBatch = 10000

// Feedback joins labels to the logged predictions in one transaction and
// returns, once it is committed with synchronous=FULL (an acknowledged
// label survives SIGKILL), what became of each label. The first label of
// a prediction wins: the same label again is a duplicate, another one a
// conflict. It fails with ErrInvalid, writing nothing, when a label lacks
// a prediction id, is not a JSON string or number, or there are more
// than MaxFeedbackBatch.
func (s *Store) Feedback(ctx context.Context, labels []Label) ([]FeedbackResult, error) {
	if len(labels) > MaxFeedbackBatch {
		return nil, fmt.Errorf("%w: %d labels in one batch; at most %d", ErrInvalid, len(labels), MaxFeedbackBatch)
	}
	values := make([]string, len(labels))
	for i, l := range labels {
		v, err := canonicalLabel(l)
		if err != nil {
			return nil, fmt.Errorf("%w: label %d: %w", ErrInvalid, i, err)
		}
		values[i] = v
	}
	// Find the predictions first, in the segment files, outside the
	// transaction; then check and record each label in it.
	found := make([]Prediction, len(labels))
	preds := s.preds.finder("")
	for i, l := range labels {
		p, ok, err := preds.find(l.PredictionID)
		if err != nil {
			return nil, fmt.Errorf("tracking: feedback: find prediction %q: %w", l.PredictionID, err)
		}
		if ok {
			found[i] = p
		}
	}
	results := make([]FeedbackResult, len(labels))
	now := time.Now()
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i, l := range labels {
			r, err := joinLabel(ctx, tx, l.PredictionID, values[i], found[i], now)
			if err != nil {
				return err
			}
			results[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tracking: feedback: %w", err)
	}
	return results, nil
}

// canonicalLabel checks l and returns its value as compact JSON, so that
// equal labels compare equal as text.
func canonicalLabel(l Label) (string, error) {
	if l.PredictionID == "" {
		return "", errors.New("no prediction_id")
	}
	v := bytes.TrimSpace(l.Value)
	if len(v) == 0 {
		return "", fmt.Errorf("prediction %q: no label", l.PredictionID)
	}
	var x any
	if err := json.Unmarshal(v, &x); err != nil {
		return "", fmt.Errorf("prediction %q: label: %w", l.PredictionID, err)
	}
	switch x.(type) {
	case string, float64:
	default:
		return "", fmt.Errorf("prediction %q: a label is a class name, a class index or a number, not %s", l.PredictionID, v)
	}
	out, err := json.Marshal(x)
	if err != nil {
		return "", fmt.Errorf("prediction %q: label: %w", l.PredictionID, err)
	}
	return string(out), nil
}

// joinLabel records the label value (canonical JSON) of prediction id,
// found in the log as p (zero when not found), within tx, unless it has
// one already. The insert goes first and yields to a label already there
// (ON CONFLICT DO NOTHING), so that two replicas joining labels to the
// same prediction at once both answer, the first label winning.
func joinLabel(ctx context.Context, tx *sql.Tx, id, value string, p Prediction, now time.Time) (FeedbackResult, error) {
	r := FeedbackResult{PredictionID: id}
	if p.ID != "" {
		res, err := tx.ExecContext(ctx, `INSERT INTO labels (`+labelColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (prediction_id) DO NOTHING`,
			id, p.Model, p.Version, p.Arm, p.Time.UnixNano(), encodeScores(p.Scores), value, now.UnixNano())
		if err != nil {
			return r, fmt.Errorf("join label to %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return r, fmt.Errorf("join label to %s: %w", id, err)
		}
		if n == 1 {
			p.Label, p.LabelTime = json.RawMessage(value), now
			r.Status, r.Prediction = FeedbackAccepted, p
			return r, nil
		}
	}
	// The prediction has a label (which stays), or is not in the log.
	var have string
	err := tx.QueryRowContext(ctx, `SELECT label FROM labels WHERE prediction_id = ?`, id).Scan(&have)
	switch {
	case err == nil && have == value:
		r.Status = FeedbackDuplicate
	case err == nil:
		r.Status, r.Message = FeedbackConflict, fmt.Sprintf("the prediction already has the label %s, which is kept", have)
	case !errors.Is(err, sql.ErrNoRows):
		return r, fmt.Errorf("join label to %s: %w", id, err)
	default:
		r.Status, r.Message = FeedbackUnknown, "no such prediction in the log: never answered, not sampled (log.sample), not written yet (the log writes every 100 ms) or past retention"
	}
	return r, nil
}
