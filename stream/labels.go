package stream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
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
	Scores       wireScores      `json:"scores"`
	Label        json.RawMessage `json:"label"`
	LabelledNS   int64           `json:"labelled_ns"`
}

// wireScores are a label's scores on the wire: JSON numbers, and a score
// that is not finite (a model may answer NaN), which a JSON number
// cannot carry, as the string "NaN", "+Inf" or "-Inf".
type wireScores []float64

// MarshalJSON implements json.Marshaler.
func (s wireScores) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, x := range s {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case math.IsNaN(x):
			b = append(b, `"NaN"`...)
		case math.IsInf(x, 1):
			b = append(b, `"+Inf"`...)
		case math.IsInf(x, -1):
			b = append(b, `"-Inf"`...)
		default:
			b = strconv.AppendFloat(b, x, 'g', -1, 64)
		}
	}
	return append(b, ']'), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *wireScores) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("scores: %w", err)
	}
	out := make(wireScores, len(raw))
	for i, r := range raw {
		var text string
		if json.Unmarshal(r, &text) == nil {
			x, err := strconv.ParseFloat(text, 64)
			if err != nil || !math.IsNaN(x) && !math.IsInf(x, 0) {
				return fmt.Errorf("score %d: %s is a number or one of \"NaN\", \"+Inf\" and \"-Inf\"", i, r)
			}
			out[i] = x
			continue
		}
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return fmt.Errorf("score %d: %w", i, err)
		}
	}
	*s = out
	return nil
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
