package stream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchyard-ml/switchyard/tracking"
)

// wireLabel is one label of a feedback message: the labelled prediction
// as the labels table keeps it, so that a replica can join it without
// the prediction's record.
type wireLabel struct {
	PredictionID string          `json:"prediction_id"`
	Model        string          `json:"model"`
	Version      int             `json:"version"`
	Arm          string          `json:"arm,omitempty"`
	PredictedNS  int64           `json:"predicted_ns"`
	Scores       []float64       `json:"scores"`
	Label        json.RawMessage `json:"label"`
	LabelledNS   int64           `json:"labelled_ns"`
}

// PublishLabels publishes labelled, predictions of model whose label
// feedback joined on this replica (each with Label and LabelTime set),
// to the fleet, and returns once JetStream has stored them. It fails
// with ErrUnavailable when JetStream does not acknowledge them within
// Config.AckTimeout (or ctx ends first). Publishing the same labels
// again is harmless: JetStream drops a copy within its duplicate window
// and every replica keeps a prediction's first label. Safe for
// concurrent use.
func (c *Conn) PublishLabels(ctx context.Context, model string, labelled []tracking.Prediction) error {
	if len(labelled) == 0 {
		return nil
	}
	wire := make([]wireLabel, len(labelled))
	h := sha256.New()
	for i, p := range labelled {
		wire[i] = wireLabel{PredictionID: p.ID, Model: p.Model, Version: p.Version, Arm: p.Arm,
			PredictedNS: p.Time.UnixNano(), Scores: p.Scores, Label: p.Label, LabelledNS: p.LabelTime.UnixNano()}
		fmt.Fprintf(h, "%s\x00%s\x00", p.ID, p.Label)
	}
	data, err := json.Marshal(wire)
	if err != nil {
		return fmt.Errorf("stream: labels of %s: %w", model, err)
	}
	m := nats.NewMsg(FeedbackSubject + model)
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, "f-"+model+"-"+hex.EncodeToString(h.Sum(nil)[:16]))
	m.Header.Set(ReplicaHeader, c.replica)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.AckTimeout)
	defer cancel()
	if _, err := c.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("%w: labels of %s: %w", ErrUnavailable, model, err)
	}
	c.m.published.WithLabelValues("labels").Add(float64(len(labelled)))
	return nil
}

// decodeLabels decodes a feedback message of model: a non-empty list of
// labels of model, each with a prediction id and a label.
func decodeLabels(model string, data []byte) ([]tracking.Prediction, error) {
	var wire []wireLabel
	if err := json.Unmarshal(data, &wire); err != nil {
		return nil, fmt.Errorf("labels of %s: %w", model, err)
	}
	if len(wire) == 0 {
		return nil, fmt.Errorf("labels of %s: none", model)
	}
	ps := make([]tracking.Prediction, len(wire))
	for i, w := range wire {
		if w.PredictionID == "" || w.Model != model || len(w.Label) == 0 {
			return nil, fmt.Errorf("labels of %s: label %d needs a prediction id, the model %s and a label", model, i, model)
		}
		ps[i] = tracking.Prediction{ID: w.PredictionID, Model: w.Model, Version: w.Version, Arm: w.Arm,
			Time: time.Unix(0, w.PredictedNS), Scores: w.Scores, Label: w.Label, LabelTime: time.Unix(0, w.LabelledNS)}
	}
	return ps, nil
}
