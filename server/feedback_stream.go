package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/tracking"
)

// LabelStream shares the labels POST /v1/feedback joined with the other
// replicas of a fleet (serve --stream); stream.Conn implements it.
type LabelStream interface {
	// PublishLabels returns once the stream has stored labelled, the
	// predictions of model with their labels; publishing them again is
	// harmless.
	PublishLabels(ctx context.Context, model string, labelled []tracking.Prediction) error
}

// labelledLookup is what shareLabels needs to publish again a label the
// store already had (a client's retry after a 503): the store's record
// of the labelled prediction. *tracking.Store implements it.
type labelledLookup interface {
	Prediction(ctx context.Context, id string) (tracking.Prediction, error)
}

// shareLabels publishes the labels of res that this replica holds, the
// accepted ones and the duplicates (which a retry after a failed publish
// brings back), to the fleet's stream, model by model, and returns once
// the stream has stored them. It fails with httpapi.ErrUnavailable (503
// with Retry-After) when the stream does not take them: the labels are
// durable on this replica, and sending them again publishes them again.
func (s *Server) shareLabels(ctx context.Context, res []tracking.FeedbackResult) error {
	// ctx is the request's fasthttp.RequestCtx, which fasthttp recycles
	// once the handler returns; a deadline derived from it (the stream's
	// wait for its ack) reads it as its timer fires, perhaps after that.
	// The waits below keep its values but not its cancellation, and are
	// bounded by the stream's own timeout.
	ctx = context.WithoutCancel(ctx)
	byModel := map[string][]tracking.Prediction{}
	lookup, _ := s.cfg.Feedback.(labelledLookup)
	for _, r := range res {
		p := r.Prediction
		switch {
		case r.Status == tracking.FeedbackAccepted:
		case r.Status == tracking.FeedbackDuplicate && lookup != nil:
			var err error
			if p, err = lookup.Prediction(ctx, r.PredictionID); errors.Is(err, tracking.ErrNotFound) {
				continue // its record never reached this replica: the label came from the stream
			} else if err != nil {
				return fmt.Errorf("feedback: share the label of %s: %w", r.PredictionID, err)
			}
			p.Inputs = nil
		default:
			continue
		}
		byModel[p.Model] = append(byModel[p.Model], p)
	}
	for model, ps := range byModel {
		if err := s.cfg.Labels.PublishLabels(ctx, model, ps); err != nil {
			s.log.Warn("feedback: labels committed here were not shared with the fleet; the client is told to send them again", "model", model, "labels", len(ps), "error", err)
			return httpapi.Classify(httpapi.ErrUnavailable, fmt.Sprintf("the labels are saved on this replica but the fleet's stream did not take them (%v); send them again", err))
		}
	}
	return nil
}
