package quality

import (
	"fmt"
	"math"
)

// dropTolerance absorbs floating-point rounding when a drop is compared
// with its bound, as the rollout analysis does.
const dropTolerance = 1e-9

// Drop is the outcome of comparing a live or estimated figure with its
// reference (the figure the gate measured offline, or stable's).
type Drop struct {
	// Reference is the figure compared against.
	Reference float64 `json:"reference"`
	// Value is the live or estimated figure.
	Value float64 `json:"value"`
	// Drop is Reference - Value: how much lower Value is, in the metric's
	// own units (negative when Value is higher).
	Drop float64 `json:"drop"`
	// Bound is the largest drop allowed.
	Bound float64 `json:"bound"`
	// Detected says the drop exceeds the bound.
	Detected bool `json:"detected"`
}

// String says in one sentence what was compared, ready for an audit entry.
func (d Drop) String() string {
	verdict := "within"
	if d.Detected {
		verdict = "beyond"
	}
	return fmt.Sprintf("%.3f against a reference of %.3f (drop %.3f) %s the bound %.3f",
		d.Value, d.Reference, d.Drop, verdict, d.Bound)
}

// CheckDrop compares value with reference for a metric where higher is
// better (accuracy, ROC AUC). The bound has the semantics of the rollout
// policy's max_accuracy_drop: a drop is detected when value is lower than
// reference by more than bound, an absolute difference in the metric's
// units (bound 0.02 allows 0.90 to fall to 0.88, not below). It returns
// ErrBound (wrapped) if bound is not within [0, 1] or a figure is NaN.
func CheckDrop(reference, value, bound float64) (Drop, error) {
	if !(bound >= 0 && bound <= 1) {
		return Drop{}, fmt.Errorf("check drop: bound %v is not a fraction between 0 and 1: %w", bound, ErrBound)
	}
	if math.IsNaN(reference) || math.IsNaN(value) {
		return Drop{}, fmt.Errorf("check drop: reference %v, value %v: %w", reference, value, ErrBound)
	}
	d := Drop{Reference: reference, Value: value, Drop: reference - value, Bound: bound}
	d.Detected = d.Drop > bound+dropTolerance
	return d, nil
}
