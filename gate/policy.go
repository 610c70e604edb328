package gate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/switchyard-ml/switchyard/internal/suggest"
)

// The metrics the gate computes, by the names policy.yaml and verdicts
// use. Classifiers get AUC (macro one-vs-rest for more than two classes),
// accuracy, log loss and the F1 averages; binary classifiers also the
// positive class's precision, recall and F1, Brier score and expected
// calibration error. Regressors get RMSE, MAE and R². Every model gets the
// latency of a batch (p50 and p99, in milliseconds) and its throughput.
const (
	MetricAUC        = "auc"
	MetricAccuracy   = "accuracy"
	MetricPrecision  = "precision"
	MetricRecall     = "recall"
	MetricF1         = "f1"
	MetricF1Macro    = "f1_macro"
	MetricF1Weighted = "f1_weighted"
	MetricLogLoss    = "log_loss"
	MetricBrier      = "brier"
	MetricECE        = "ece"
	MetricRMSE       = "rmse"
	MetricMAE        = "mae"
	MetricR2         = "r2"
	MetricLatencyP50 = "latency_p50_ms"
	MetricLatencyP99 = "latency_p99_ms"
	MetricRowsPerSec = "rows_per_second"
)

// greaterIsBetter says, for each metric the gate computes, whether a
// greater value is the better one.
var greaterIsBetter = map[string]bool{
	MetricAUC: true, MetricAccuracy: true, MetricPrecision: true, MetricRecall: true, MetricF1: true,
	MetricF1Macro: true, MetricF1Weighted: true, MetricLogLoss: false, MetricBrier: false, MetricECE: false,
	MetricRMSE: false, MetricMAE: false, MetricR2: true,
	MetricLatencyP50: false, MetricLatencyP99: false, MetricRowsPerSec: true,
}

// Defaults of Policy's zero fields.
const (
	// DefaultBatchRows is how many rows of the evaluation set go to the
	// model in one call.
	DefaultBatchRows = 256
	// DefaultConcurrency is how many such calls run at once: one, so that
	// a gate on a small machine leaves the other cores to live traffic.
	DefaultConcurrency = 1
	// DefaultPositiveClass is the positive class of a binary classifier.
	DefaultPositiveClass = 1
	// DefaultECEBins is the number of equal-width bins of the expected
	// calibration error.
	DefaultECEBins = 10
)

// Policy is the gate block of a model's policy.yaml (and the --policy
// file of switchyard eval): what the evaluation needs and what a version
// must show to pass. The zero Policy evaluates with the defaults and
// applies only the sanity checks.
//
//	gate:
//	  label: is_fraud               # the label column; else the manifest's eval_label
//	  positive_class: 1
//	  require_eval: true            # default: true once a metric has a threshold
//	  batch_rows: 256
//	  concurrency: 1
//	  slices: {feature: country, min_rows: 200}
//	  metrics:
//	    auc: {min: 0.85, max_regression: 0.01}
//	    log_loss: {max_regression_pct: 5}
//	    latency_p99_ms: {max: 20}
//
// Keys are strict (the YAML decoder is asked for known fields only), and
// Validate checks the values.
type Policy struct {
	// Label names the label column of eval.csv. Empty means the manifest's
	// eval_label.
	Label string `yaml:"label" json:"label,omitempty"`
	// PositiveClass is the class whose precision, recall and F1 a binary
	// classifier reports, and whose probability AUC, Brier and ECE score.
	// Nil means DefaultPositiveClass.
	PositiveClass *int `yaml:"positive_class" json:"positive_class,omitempty"`
	// RequireEval fails a version that has no evaluation set. Nil means
	// required exactly when a metric has a threshold.
	RequireEval *bool `yaml:"require_eval" json:"require_eval,omitempty"`
	// BatchRows and Concurrency bound the load the gate puts on the
	// machine: rows per call to the model, and calls at once. Zero means
	// DefaultBatchRows and DefaultConcurrency.
	BatchRows   int `yaml:"batch_rows" json:"batch_rows,omitempty"`
	Concurrency int `yaml:"concurrency" json:"concurrency,omitempty"`
	// MaxRows bounds the evaluation set's rows. Zero means
	// DefaultMaxRows.
	MaxRows int `yaml:"max_rows" json:"max_rows,omitempty"`
	// Slices, when set, computes the quality metrics (all but latency and
	// throughput) per value of one column of the evaluation set too, and
	// holds each slice of at least MinRows rows to the thresholds.
	Slices *SlicePolicy `yaml:"slices" json:"slices,omitempty"`
	// Metrics holds the thresholds, by metric name.
	Metrics map[string]Threshold `yaml:"metrics" json:"metrics,omitempty"`
}

// SlicePolicy says how to slice an evaluation set.
type SlicePolicy struct {
	// Feature names the column whose values define the slices: any column
	// of eval.csv, its cells compared as text.
	Feature string `yaml:"feature" json:"feature"`
	// MinRows is the smallest slice judged; smaller ones are reported
	// without thresholds. Zero means DefaultSliceMinRows.
	MinRows int `yaml:"min_rows" json:"min_rows,omitempty"`
}

// DefaultSliceMinRows is SlicePolicy.MinRows when it is zero.
const DefaultSliceMinRows = 100

func (sp *SlicePolicy) minRows() int { return cmp.Or(sp.MinRows, DefaultSliceMinRows) }

// Threshold is what one metric must show. Min and Max are absolute
// bounds; MaxRegression (in the metric's units) and MaxRegressionPct (a
// percentage of the stable version's value) bound how much worse than the
// stable version, evaluated on the same set in the same run, the candidate
// may be. Regression thresholds apply only when a stable version serves.
type Threshold struct {
	Min              *float64 `yaml:"min" json:"min,omitempty"`
	Max              *float64 `yaml:"max" json:"max,omitempty"`
	MaxRegression    *float64 `yaml:"max_regression" json:"max_regression,omitempty"`
	MaxRegressionPct *float64 `yaml:"max_regression_pct" json:"max_regression_pct,omitempty"`
	// GreaterIsBetter overrides the metric's own direction, which decides
	// what "worse" means for the regression thresholds.
	GreaterIsBetter *bool `yaml:"greater_is_better" json:"greater_is_better,omitempty"`
}

// Validate checks p's values, naming the key of the first problem, such
// as "gate.metrics.auc.min".
func (p *Policy) Validate() error {
	switch {
	case p.PositiveClass != nil && *p.PositiveClass < 0:
		return fmt.Errorf("gate.positive_class: %d is negative", *p.PositiveClass)
	case p.BatchRows < 0:
		return fmt.Errorf("gate.batch_rows: %d is negative", p.BatchRows)
	case p.Concurrency < 0:
		return fmt.Errorf("gate.concurrency: %d is negative", p.Concurrency)
	case p.MaxRows < 0:
		return fmt.Errorf("gate.max_rows: %d is negative", p.MaxRows)
	case p.Slices != nil && strings.TrimSpace(p.Slices.Feature) == "":
		return fmt.Errorf("gate.slices.feature: empty")
	case p.Slices != nil && p.Slices.MinRows < 0:
		return fmt.Errorf("gate.slices.min_rows: %d is negative", p.Slices.MinRows)
	}
	names := make([]string, 0, len(p.Metrics))
	for name := range p.Metrics {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t := p.Metrics[name]
		key := "gate.metrics." + name
		if _, known := greaterIsBetter[name]; !known {
			return fmt.Errorf("%s: unknown metric%s; known: %s", key, suggest.Hint(name, KnownMetrics()), strings.Join(KnownMetrics(), ", "))
		}
		for field, v := range map[string]*float64{"min": t.Min, "max": t.Max, "max_regression": t.MaxRegression, "max_regression_pct": t.MaxRegressionPct} {
			if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
				return fmt.Errorf("%s.%s: %v is not a finite number", key, field, *v)
			}
		}
		switch {
		case t.Min == nil && t.Max == nil && t.MaxRegression == nil && t.MaxRegressionPct == nil:
			return fmt.Errorf("%s: no threshold: set min, max, max_regression or max_regression_pct", key)
		case t.Min != nil && t.Max != nil && *t.Min > *t.Max:
			return fmt.Errorf("%s: min %v is above max %v", key, *t.Min, *t.Max)
		case t.MaxRegression != nil && *t.MaxRegression < 0:
			return fmt.Errorf("%s.max_regression: %v is negative", key, *t.MaxRegression)
		case t.MaxRegressionPct != nil && *t.MaxRegressionPct < 0:
			return fmt.Errorf("%s.max_regression_pct: %v is negative", key, *t.MaxRegressionPct)
		}
	}
	return nil
}

// Required reports whether a version without an evaluation set fails.
func (p *Policy) Required() bool {
	if p.RequireEval != nil {
		return *p.RequireEval
	}
	return len(p.Metrics) > 0
}

// GreaterIsBetter reports whether a greater value of the metric is better,
// as p's threshold for it overrides the metric's own direction.
func (p *Policy) GreaterIsBetter(metric string) bool {
	if t, ok := p.Metrics[metric]; ok && t.GreaterIsBetter != nil {
		return *t.GreaterIsBetter
	}
	return greaterIsBetter[metric]
}

// KnownMetrics returns the names of the metrics the gate computes, sorted.
func KnownMetrics() []string {
	names := make([]string, 0, len(greaterIsBetter))
	for name := range greaterIsBetter {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// EvalConfig returns the configuration with which ReadEvalSet reads the
// evaluation set of a model under p: p.Label, or label (the manifest's
// eval_label) when p names none; the column of p.Slices, if any; p.MaxRows;
// and classes, width and cols (the model's classes, input width and
// feature schema) as they are.
func (p *Policy) EvalConfig(label string, classes, width int, cols []Column) EvalConfig {
	cfg := EvalConfig{
		Label:   cmp.Or(p.Label, label),
		Columns: cols,
		Width:   width,
		Classes: classes,
		MaxRows: p.MaxRows,
	}
	if p.Slices != nil {
		cfg.SliceBy = p.Slices.Feature
	}
	return cfg
}

// compares reports whether a threshold of p compares with the stable
// version.
func (p *Policy) compares() bool {
	for _, t := range p.Metrics {
		if t.MaxRegression != nil || t.MaxRegressionPct != nil {
			return true
		}
	}
	return false
}

func (p *Policy) batchRows() int   { return cmp.Or(p.BatchRows, DefaultBatchRows) }
func (p *Policy) concurrency() int { return cmp.Or(p.Concurrency, DefaultConcurrency) }
func (p *Policy) positiveClass() int {
	if p.PositiveClass != nil {
		return *p.PositiveClass
	}
	return DefaultPositiveClass
}
