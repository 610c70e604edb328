package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Predictor runs a model for the gate. gate declares it so that it needs
// no other switchyard package; modelstore implements it over a loaded
// version, and switchyard eval over an onnxruntime session.
type Predictor interface {
	// Predict computes the outputs of rows rows of features (Subject.Width
	// float32 values each, row-major) into out: Subject.Classes
	// probabilities per row for a classifier, one value per row for a
	// regressor. It is called from up to Policy.Concurrency goroutines at
	// once, and must honour ctx. It must not modify features, and must not
	// retain features or out after it returns. An error fails the
	// evaluation of the whole subject.
	Predict(ctx context.Context, features []float32, rows int, out []float64) error
}

// Subject is a model the gate evaluates.
type Subject struct {
	// Name names it in reports and reasons, such as "version 4".
	Name string
	// Classes is the number of classes of a classifier, at least 2, or 0
	// for a regressor.
	Classes int
	// Width is the number of features per row of its input.
	Width int
	// Predictor runs it.
	Predictor Predictor
}

// Verdict is the gate's judgement of a candidate version: whether it
// passes, every number it was judged on (the candidate's and, on the same
// set in the same run, the stable version's), and every reason as a
// sentence for the audit trail and the status API. It marshals to JSON as
// the verdicts of tracking, /admin and switchyard eval --json show it.
type Verdict struct {
	// Pass is true when the candidate may take traffic.
	Pass bool `json:"pass"`
	// Candidate and Stable name the versions judged; Stable is empty when
	// none serves.
	Candidate string `json:"candidate"`
	Stable    string `json:"stable,omitempty"`
	// Rows is the number of rows of the evaluation set; 0 when there was
	// none.
	Rows int `json:"rows"`
	// Metrics holds every metric computed, whole set first, then each
	// slice, each sorted by name.
	Metrics []Metric `json:"metrics"`
	// Reasons says why the candidate failed, one sentence per failed check
	// or sanity problem; when it passed, what it passed and what it was
	// not judged on (no stable version to compare with, slices too small).
	Reasons []string `json:"reasons"`
}

// Metric is one metric of a verdict, for the candidate and the stable
// version.
type Metric struct {
	// Name is the metric's name, such as "auc".
	Name string `json:"name"`
	// Slice is empty for the whole set, or names a slice as
	// "country=FR".
	Slice string `json:"slice,omitempty"`
	// Rows is the number of rows it was computed on.
	Rows int `json:"rows"`
	// Candidate and Stable are its values; NaN (null in JSON) when it is
	// undefined (the AUC of a single class) or, for Stable, when no stable
	// version was evaluated.
	Candidate Number `json:"candidate"`
	Stable    Number `json:"stable"`
	// GreaterIsBetter says which way is better.
	GreaterIsBetter bool `json:"greater_is_better"`
	// Threshold is the threshold it was held to, if any.
	Threshold *Threshold `json:"threshold,omitempty"`
	// Pass is false when it broke its threshold.
	Pass bool `json:"pass"`
}

// Number is a float64 that is null in JSON when it is NaN, since JSON has
// no NaN.
type Number float64

// MarshalJSON writes n, or null for NaN and infinities.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, or null as NaN.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("gate: number: %w", err)
	}
	*n = Number(f)
	return nil
}
