package quality

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
)

// CalibrationFile is the name under which a version's Calibration is
// stored, beside its profile.json, when it is published.
const CalibrationFile = "calibration.json"

// methodIsotonic is the only calibration method so far; it is written into
// the file so that other methods can be added without guessing.
const methodIsotonic = "isotonic"

// Calibration maps a binary classifier's positive-class score to a
// calibrated probability: a non-decreasing function, linear between its
// thresholds and constant (clipped) outside them, as scikit-learn's
// IsotonicRegression(out_of_bounds="clip") predicts. It is immutable once
// built by Fit or ParseCalibration and safe for concurrent use.
type Calibration struct {
	// Method names the fitting method; always "isotonic".
	Method string `json:"method"`
	// Thresholds are the scores at which the function is known, strictly
	// increasing and finite.
	Thresholds []float64 `json:"thresholds"`
	// Values are the calibrated probabilities at Thresholds,
	// non-decreasing and within [0, 1].
	Values []float64 `json:"values"`
}

// Fit fits an isotonic regression of labels (0 or 1) on scores by pool
// adjacent violators, as scikit-learn's IsotonicRegression does with unit
// weights: rows with equal scores are first merged into their mean label,
// the means are pooled until non-decreasing, and only the ends of each flat
// run are kept as thresholds. scores and labels are read, not retained.
//
// Fit returns ErrCalibration (wrapped) if the slices differ in length or
// are empty, a label is not 0 or 1, or a score is NaN or infinite.
func Fit(scores []float64, labels []int) (*Calibration, error) {
	if len(scores) != len(labels) {
		return nil, fmt.Errorf("fit calibration: %d scores, %d labels: %w", len(scores), len(labels), ErrCalibration)
	}
	if len(scores) == 0 {
		return nil, fmt.Errorf("fit calibration: no rows: %w", ErrCalibration)
	}
	idx := make([]int, len(scores))
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("fit calibration: row %d: score %v is not finite: %w", i, s, ErrCalibration)
		}
		if labels[i] != 0 && labels[i] != 1 {
			return nil, fmt.Errorf("fit calibration: row %d: label %d is not 0 or 1: %w", i, labels[i], ErrCalibration)
		}
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })

	// One block per distinct score, holding its mean label and weight.
	var xs, ys, ws []float64
	for _, i := range idx {
		if n := len(xs); n > 0 && xs[n-1] == scores[i] {
			ys[n-1] += float64(labels[i])
			ws[n-1]++
			continue
		}
		xs, ys, ws = append(xs, scores[i]), append(ys, float64(labels[i])), append(ws, 1)
	}
	for k := range ys {
		ys[k] /= ws[k]
	}
	fitted := pav(ys, ws)

	c := &Calibration{Method: methodIsotonic}
	for k := range xs {
		last := k == len(xs)-1
		if k == 0 || last || fitted[k] != fitted[k-1] || fitted[k] != fitted[k+1] {
			c.Thresholds = append(c.Thresholds, xs[k])
			c.Values = append(c.Values, fitted[k])
		}
	}
	return c, nil
}

// pav returns the weighted least-squares non-decreasing fit of y with
// weights w (pool adjacent violators), one value per input.
func pav(y, w []float64) []float64 {
	type block struct {
		mean, weight float64
		n            int
	}
	blocks := make([]block, 0, len(y))
	for i := range y {
		blocks = append(blocks, block{mean: y[i], weight: w[i], n: 1})
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.mean <= b.mean {
				break
			}
			wt := a.weight + b.weight
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{mean: (a.mean*a.weight + b.mean*b.weight) / wt, weight: wt, n: a.n + b.n})
		}
	}
	out := make([]float64, 0, len(y))
	for _, b := range blocks {
		for range b.n {
			out = append(out, b.mean)
		}
	}
	return out
}

// Apply returns the calibrated probability of score: the fitted value
// interpolated linearly between the two thresholds around score, or the
// first (last) value for a score at or below the first (at or above the
// last) threshold. A NaN score gives NaN.
func (c *Calibration) Apply(score float64) float64 {
	t, v := c.Thresholds, c.Values
	switch {
	case math.IsNaN(score):
		return math.NaN()
	case score <= t[0]:
		return v[0]
	case score >= t[len(t)-1]:
		return v[len(v)-1]
	}
	// t[0] < score < t[last], so 1 <= j <= last.
	j := sort.SearchFloat64s(t, score)
	if t[j] == score {
		return v[j]
	}
	frac := (score - t[j-1]) / (t[j] - t[j-1])
	return v[j-1] + frac*(v[j]-v[j-1])
}

// Marshal returns c as indented JSON, the content of CalibrationFile.
func (c *Calibration) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal calibration: %w", err)
	}
	return append(data, '\n'), nil
}

// ParseCalibration reads a Calibration written by Marshal. It returns
// ErrCalibration (wrapped, saying what is wrong) if data is not such JSON,
// has unknown fields or trailing data, names another method, has no
// thresholds or more thresholds than values (or fewer), thresholds that are
// not finite and strictly increasing, or values that are not
// non-decreasing within [0, 1].
func ParseCalibration(data []byte) (*Calibration, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Calibration
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse calibration: %w: %w", ErrCalibration, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse calibration: trailing data: %w", ErrCalibration)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("parse calibration: %w", err)
	}
	return &c, nil
}

func (c *Calibration) validate() error {
	if c.Method != methodIsotonic {
		return fmt.Errorf("method %q, want %q: %w", c.Method, methodIsotonic, ErrCalibration)
	}
	if len(c.Thresholds) == 0 || len(c.Thresholds) != len(c.Values) {
		return fmt.Errorf("%d thresholds, %d values: %w", len(c.Thresholds), len(c.Values), ErrCalibration)
	}
	for i, t := range c.Thresholds {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("threshold %d is %v: %w", i, t, ErrCalibration)
		}
		if i > 0 && t <= c.Thresholds[i-1] {
			return fmt.Errorf("threshold %d (%v) does not exceed the one before: %w", i, t, ErrCalibration)
		}
		v := c.Values[i]
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("value %d is %v, outside [0, 1]: %w", i, v, ErrCalibration)
		}
		if i > 0 && v < c.Values[i-1] {
			return fmt.Errorf("value %d (%v) is below the one before: %w", i, v, ErrCalibration)
		}
	}
	return nil
}
