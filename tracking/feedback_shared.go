package tracking

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// JoinLabels joins labels that feedback accepted on another replica of
// a fleet (package stream): each of labelled is a prediction with its
// Label and LabelTime set, as FeedbackResult.Prediction carries it. The
// first label of a prediction wins here as in Feedback, so joining one
// twice is harmless (FeedbackDuplicate). Unlike Feedback it needs no
// record of the prediction in this replica's log, since each carries
// what the labels table keeps, so labels may arrive before their
// predictions. It returns once the labels are committed, what became of
// each, and fails with ErrInvalid, writing nothing, as Feedback does.
func (s *Store) JoinLabels(ctx context.Context, labelled []Prediction) ([]FeedbackResult, error) {
	if len(labelled) > MaxFeedbackBatch {
		return nil, fmt.Errorf("%w: %d labels in one batch; at most %d", ErrInvalid, len(labelled), MaxFeedbackBatch)
	}
	values := make([]string, len(labelled))
	for i, p := range labelled {
		v, err := canonicalLabel(Label{PredictionID: p.ID, Value: p.Label})
		if err != nil {
			return nil, fmt.Errorf("%w: label %d: %w", ErrInvalid, i, err)
		}
		values[i] = v
	}
	results := make([]FeedbackResult, len(labelled))
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i, p := range labelled {
			at := p.LabelTime
			if at.IsZero() {
				at = time.Now()
			}
			r, err := joinLabel(ctx, tx, p.ID, values[i], p, at)
			if err != nil {
				return err
			}
			results[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tracking: join shared labels: %w", err)
	}
	return results, nil
}
