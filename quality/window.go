package quality

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
)

// Kind says what a model predicts, and so which metrics a Window reports.
type Kind string

// The kinds of model a Window measures.
const (
	// Binary classifiers report accuracy (threshold 0.5 on the
	// positive-class probability), ROC AUC and log loss.
	Binary Kind = "binary"
	// Multiclass classifiers report accuracy (the most probable class) and
	// log loss.
	Multiclass Kind = "multiclass"
	// Regression models report RMSE and MAE.
	Regression Kind = "regression"
)

// Config bounds a Window and says what it measures.
type Config struct {
	// Kind is the kind of model measured.
	Kind Kind
	// Classes is the number of classes of a Multiclass model (at least 2);
	// Binary implies 2 and Regression ignores it.
	Classes int
	// MaxCount is how many labelled predictions the window keeps at most
	// (the most recently added); it must be positive.
	MaxCount int
	// MaxAge, when positive, also drops from a report the predictions made
	// more than MaxAge before its time; 0 keeps them regardless of age.
	MaxAge time.Duration
}

// Record is one labelled prediction.
type Record struct {
	// Probs are the class probabilities the classifier gave (for Binary,
	// P(0) and P(1)); nil for a regressor.
	Probs []float64
	// Label is the true class index of a classifier's row.
	Label int
	// Predicted is a regressor's prediction.
	Predicted float64
	// Target is a regressor's true value.
	Target float64
	// PredictedAt is when the prediction was made.
	PredictedAt time.Time
	// LabelledAt is when its label arrived; not before PredictedAt.
	LabelledAt time.Time
}

// Report is a window's live quality at one time. Metrics that do not apply
// to the window's kind, or are undefined on its rows (no rows; ROC AUC
// when one class is absent), are nil.
type Report struct {
	// Labelled is how many labelled predictions the report is over.
	Labelled int `json:"labelled"`
	// Predicted is how many predictions were made over the same span, as
	// the caller counted them.
	Predicted int `json:"predicted"`
	// LabelledShare is Labelled / Predicted; nil when Predicted is 0.
	LabelledShare *float64 `json:"labelled_share,omitempty"`
	// Accuracy is the share of rows classified right: P(1) >= 0.5 for
	// Binary, the first most probable class for Multiclass.
	Accuracy *float64 `json:"accuracy,omitempty"`
	// AUC is the ROC AUC of P(1) (Binary only), ties counting one half.
	AUC *float64 `json:"auc,omitempty"`
	// LogLoss is the mean negative log-probability of the true class.
	LogLoss *float64 `json:"log_loss,omitempty"`
	// RMSE and MAE are a regressor's root mean squared and mean absolute
	// errors.
	RMSE *float64 `json:"rmse,omitempty"`
	MAE  *float64 `json:"mae,omitempty"`
	// DelayMedian and DelayP90 are the median and 90th percentile of the
	// label delay (LabelledAt - PredictedAt), interpolated linearly between
	// ranks; 0 when Labelled is 0.
	DelayMedian time.Duration `json:"delay_median"`
	DelayP90    time.Duration `json:"delay_p90"`
}

// Window accumulates labelled predictions of one model version, bounded by
// count and by age, and reports their quality. It is safe for concurrent
// use. Records are copied on Add; the window keeps nothing of the caller's.
type Window struct {
	cfg Config

	mu   sync.Mutex
	recs []Record // in the order added, at most cfg.MaxCount
}

// NewWindow returns an empty window. It returns ErrWindow (wrapped) if cfg
// names no known kind, MaxCount is not positive, MaxAge is negative, or a
// Multiclass config has fewer than two classes.
func NewWindow(cfg Config) (*Window, error) {
	switch cfg.Kind {
	case Binary:
		cfg.Classes = 2
	case Multiclass:
		if cfg.Classes < 2 {
			return nil, fmt.Errorf("new window: %d classes, want at least 2: %w", cfg.Classes, ErrWindow)
		}
	case Regression:
		cfg.Classes = 0
	default:
		return nil, fmt.Errorf("new window: unknown kind %q: %w", cfg.Kind, ErrWindow)
	}
	if cfg.MaxCount <= 0 {
		return nil, fmt.Errorf("new window: max count %d is not positive: %w", cfg.MaxCount, ErrWindow)
	}
	if cfg.MaxAge < 0 {
		return nil, fmt.Errorf("new window: max age %v is negative: %w", cfg.MaxAge, ErrWindow)
	}
	return &Window{cfg: cfg}, nil
}

// Add takes one labelled prediction, dropping the oldest added one when the
// window is full. It returns ErrRecord (wrapped, saying what is wrong) and
// keeps nothing if the record does not fit the window's kind: for a
// classifier, Probs not of width Classes or not a probability vector
// (non-negative, summing to 1 within 1e-3) or Label outside [0, Classes);
// for a regressor, Probs set or a NaN or infinite Predicted or Target; for
// any kind, LabelledAt before PredictedAt.
func (w *Window) Add(r Record) error {
	if err := w.check(r); err != nil {
		return fmt.Errorf("add record: %w", err)
	}
	r.Probs = slices.Clone(r.Probs)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.recs) == w.cfg.MaxCount {
		w.recs[0] = Record{}
		w.recs = w.recs[1:]
	}
	w.recs = append(w.recs, r)
	return nil
}

func (w *Window) check(r Record) error {
	if r.LabelledAt.Before(r.PredictedAt) {
		return fmt.Errorf("labelled at %v, before its prediction at %v: %w",
			r.LabelledAt, r.PredictedAt, ErrRecord)
	}
	if w.cfg.Kind == Regression {
		if r.Probs != nil {
			return fmt.Errorf("probabilities given for a regressor: %w", ErrRecord)
		}
		for _, v := range []float64{r.Predicted, r.Target} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("value %v is not finite: %w", v, ErrRecord)
			}
		}
		return nil
	}
	if len(r.Probs) != w.cfg.Classes {
		return fmt.Errorf("%d probabilities, want %d: %w", len(r.Probs), w.cfg.Classes, ErrRecord)
	}
	// gate.LogLoss validates exactly what the report will compute on.
	if _, err := gate.LogLoss([]int{r.Label}, [][]float64{r.Probs}); err != nil {
		return fmt.Errorf("%w: %w", ErrRecord, err)
	}
	return nil
}

// Len returns how many labelled predictions the window holds.
func (w *Window) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.recs)
}

// Report drops the predictions made more than MaxAge before now (when
// MaxAge is set) and reports the quality of the rest. predicted is how many
// predictions were made over the window's span, labelled or not, for the
// labelled share. Report returns ErrWindow (wrapped) if predicted is
// negative, or smaller than the count of labelled predictions reported on
// (those too old are dropped all the same). The age bound is applied only
// here; the count bound alone limits memory between reports.
func (w *Window) Report(now time.Time, predicted int) (Report, error) {
	if predicted < 0 {
		return Report{}, fmt.Errorf("report: %d predictions: %w", predicted, ErrWindow)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cfg.MaxAge > 0 {
		cutoff := now.Add(-w.cfg.MaxAge)
		w.recs = slices.DeleteFunc(w.recs, func(r Record) bool { return r.PredictedAt.Before(cutoff) })
	}
	n := len(w.recs)
	if predicted < n {
		return Report{}, fmt.Errorf("report: %d predictions, fewer than the %d labelled: %w", predicted, n, ErrWindow)
	}
	rep := Report{Labelled: n, Predicted: predicted}
	if predicted > 0 {
		rep.LabelledShare = ptr(float64(n) / float64(predicted))
	}
	if n == 0 {
		return rep, nil
	}
	delays := make([]float64, n)
	for i, r := range w.recs {
		delays[i] = float64(r.LabelledAt.Sub(r.PredictedAt))
	}
	slices.Sort(delays)
	rep.DelayMedian = time.Duration(math.Round(quantile(delays, 0.5)))
	rep.DelayP90 = time.Duration(math.Round(quantile(delays, 0.9)))

	if w.cfg.Kind == Regression {
		y, pred := make([]float64, n), make([]float64, n)
		for i, r := range w.recs {
			y[i], pred[i] = r.Target, r.Predicted
		}
		rep.RMSE, rep.MAE = ptr(gate.RMSE(y, pred)), ptr(gate.MAE(y, pred))
		return rep, nil
	}
	return rep, w.classify(&rep)
}

// classify fills the classifier metrics of rep. w.mu is held.
func (w *Window) classify(rep *Report) error {
	n := len(w.recs)
	labels, predicted := make([]int, n), make([]int, n)
	probs := make([][]float64, n)
	for i, r := range w.recs {
		labels[i], probs[i] = r.Label, r.Probs
		predicted[i] = argmax(r.Probs)
		if w.cfg.Kind == Binary {
			predicted[i] = 0
			if r.Probs[1] >= 0.5 {
				predicted[i] = 1
			}
		}
	}
	rep.Accuracy = ptr(gate.Accuracy(labels, predicted))
	ll, err := gate.LogLoss(labels, probs)
	if err != nil {
		// Add validated every row, so this is a broken invariant.
		panic(fmt.Sprintf("BUG: quality: log loss of validated rows: %v", err))
	}
	rep.LogLoss = ptr(ll)
	if w.cfg.Kind != Binary {
		return nil
	}
	pos := make([]float64, n)
	for i, p := range probs {
		pos[i] = p[1]
	}
	auc, err := gate.AUC(labels, pos)
	switch {
	case errors.Is(err, gate.ErrDegenerate):
		// One class only: AUC is undefined and stays nil.
		return nil
	case err != nil:
		return fmt.Errorf("report: %w", err)
	}
	rep.AUC = ptr(auc)
	return nil
}

// argmax returns the index of the first largest value of p.
func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// quantile returns the q-quantile of sorted (not empty), interpolating
// linearly between the ranks around q*(len-1), as numpy's default does.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

func ptr(v float64) *float64 { return &v }
