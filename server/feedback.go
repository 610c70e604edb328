package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
	"github.com/switchyard-ml/switchyard/tracking"
)

// Feedback joins ground-truth labels to logged predictions; the tracking
// Store implements it. It answers only once the labels are durable.
type Feedback interface {
	Feedback(ctx context.Context, labels []tracking.Label) ([]tracking.FeedbackResult, error)
}

// feedbackItem is one label of a POST /v1/feedback body.
type feedbackItem struct {
	PredictionID string          `json:"prediction_id"`
	Label        json.RawMessage `json:"label"`
}

// feedbackResult and feedbackAnswer are the answer's JSON.
type feedbackResult struct {
	PredictionID string                  `json:"prediction_id"`
	Status       tracking.FeedbackStatus `json:"status"`
	Message      string                  `json:"message,omitempty"`
}

type feedbackAnswer struct {
	Accepted int              `json:"accepted"`
	Results  []feedbackResult `json:"results"`
}

// feedback serves POST /v1/feedback: one {"prediction_id", "label"} or
// an array of them. It answers 200 when every label was accepted or a
// duplicate, 207 when some were refused (a conflict or an unknown id;
// the others are taken), and 400, writing nothing, for a malformed body.
// The accepted labels' predictions go on to the live quality monitor
// (Config.Quality), by a hand-off that never waits. With a fleet's
// stream (Config.Labels) the answer also waits for the stream to store
// the labels, and is 503 when it does not (shareLabels).
func (s *Server) feedback(ctx *fasthttp.RequestCtx, _ httpapi.Params) {
	if s.cfg.Feedback == nil {
		httpapi.WriteError(ctx, httpapi.Classify(httpapi.ErrUnavailable, "feedback needs the tracking store: serve with a data directory"))
		return
	}
	items, err := decodeFeedback(ctx.PostBody())
	if err != nil {
		httpapi.WriteError(ctx, err)
		return
	}
	labels := make([]tracking.Label, len(items))
	for i, it := range items {
		labels[i] = tracking.Label{PredictionID: it.PredictionID, Value: it.Label}
	}
	res, err := s.cfg.Feedback.Feedback(ctx, labels)
	if err != nil {
		httpapi.WriteError(ctx, fmt.Errorf("feedback: %w", err))
		return
	}
	ans, status := feedbackAnswer{Results: make([]feedbackResult, len(res))}, fasthttp.StatusOK
	var joined []tracking.Prediction
	for i, r := range res {
		ans.Results[i] = feedbackResult{PredictionID: r.PredictionID, Status: r.Status, Message: r.Message}
		switch r.Status {
		case tracking.FeedbackAccepted:
			ans.Accepted++
			if s.cfg.Quality != nil {
				joined = append(joined, r.Prediction)
			}
		case tracking.FeedbackDuplicate:
		default:
			status = fasthttp.StatusMultiStatus
		}
	}
	if len(joined) > 0 {
		// The labels are durable; the live quality monitor takes a copy
		// without blocking, or drops and counts it.
		s.cfg.Quality.Labelled(joined)
	}
	if s.cfg.Labels != nil {
		if err := s.shareLabels(ctx, res); err != nil {
			httpapi.WriteError(ctx, err)
			return
		}
	}
	httpapi.WriteJSON(ctx, status, ans)
}

// decodeFeedback reads a feedback body: one item or a non-empty array,
// each with exactly the fields prediction_id and label.
func decodeFeedback(body []byte) ([]feedbackItem, error) {
	body = bytes.TrimSpace(body)
	var items []feedbackItem
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var err error
	if len(body) > 0 && body[0] == '[' {
		err = dec.Decode(&items)
	} else {
		items = make([]feedbackItem, 1)
		err = dec.Decode(&items[0])
	}
	switch {
	case err != nil:
		return nil, &httpapi.RequestError{Msg: "malformed feedback: " + err.Error()}
	case dec.More():
		return nil, &httpapi.RequestError{Msg: "malformed feedback: more than one JSON value"}
	case len(items) == 0:
		return nil, &httpapi.RequestError{Msg: "malformed feedback: no labels"}
	}
	return items, nil
}

// feedbackOp documents POST /v1/feedback.
func feedbackOp() *openapi.Operation {
	item := openapi.Object("", []string{"prediction_id", "label"},
		openapi.Prop("prediction_id", openapi.Str("The prediction id the server answered with (parameters.prediction_id, or each record's).")),
		openapi.Prop("label", &openapi.Schema{Description: "The ground truth: a class name or index, or a regressor's number."}))
	answer := openapi.Object("", []string{"accepted", "results"},
		openapi.Prop("accepted", &openapi.Schema{Type: openapi.TypeInteger}),
		openapi.Prop("results", openapi.ArrayOf(openapi.Object("", []string{"prediction_id", "status"},
			openapi.Prop("prediction_id", openapi.Str("")),
			openapi.Prop("status", &openapi.Schema{Type: openapi.TypeString, Enum: []string{"accepted", "duplicate", "conflict", "unknown"}}),
			openapi.Prop("message", openapi.Str("Why a label was refused."))))))
	o := openapi.Op(tagRecords, "feedback", "Join ground-truth labels to logged predictions",
		openapi.JSONOK("Every label was accepted or already there; each is durable.", answer), "BadRequest", "Unavailable").
		WithBody(&openapi.Schema{OneOf: []*openapi.Schema{item, openapi.ArrayOf(item)}}, true)
	o.Responses["207"] = &openapi.Response{Description: "Some labels were refused (a conflicting label, an unknown or expired id); the others were taken.",
		Content: map[string]openapi.Media{httpapi.ContentTypeJSON: {Schema: answer}}}
	return o
}
