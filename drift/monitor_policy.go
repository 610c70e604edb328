package drift

import (
	"fmt"
	"slices"
	"time"
)

// Policy is a model's drift settings: policy.yaml's drift block over the
// defaults (see DefaultPolicy). The zero value is not valid; start from
// DefaultPolicy.
type Policy struct {
	// Sample is the share of predictions the monitor sees, in (0, 1],
	// chosen by a hash of the prediction id.
	Sample float64
	// WindowRows closes a window once it holds this many rows.
	WindowRows int
	// Window closes a window this long after its first row.
	Window time.Duration
	// Interval is how often the version's windows are judged.
	Interval time.Duration
	// DatasetShare is the share of drifted features at which the dataset
	// has drifted.
	DatasetShare float64
	// Features are the per-column overrides of test and threshold, by
	// column name (a feature, or the score column of the profile).
	Features map[string]Override
}

// The defaults of a drift policy.
const (
	DefaultSample     = 1.0
	DefaultWindowRows = 5000
	DefaultWindow     = 10 * time.Minute
	DefaultInterval   = 30 * time.Second
)

// DefaultPolicy returns the settings a model without a drift block runs
// with.
func DefaultPolicy() Policy {
	return Policy{Sample: DefaultSample, WindowRows: DefaultWindowRows, Window: DefaultWindow,
		Interval: DefaultInterval, DatasetShare: DefaultDatasetShare}
}

// tests are the test names a policy may ask for.
var tests = []Test{KS, ChiSquare, ZTest, Wasserstein, JensenShannon, PSI}

// Validate reports the first setting of p that is out of range, naming
// its key as policy.yaml writes it. It does not know the model's columns:
// CheckColumns does that once the version is known.
func (p Policy) Validate() error {
	switch {
	case !(p.Sample > 0 && p.Sample <= 1):
		return fmt.Errorf("sample %v: must be in (0, 1]", p.Sample)
	case p.WindowRows < 1 || p.WindowRows > maxWindowRows:
		return fmt.Errorf("window_rows %d: must be between 1 and %d", p.WindowRows, maxWindowRows)
	case p.Window <= 0:
		return fmt.Errorf("window %v: must be positive", p.Window)
	case p.Interval <= 0:
		return fmt.Errorf("interval %v: must be positive", p.Interval)
	case !(p.DatasetShare > 0 && p.DatasetShare <= 1):
		return fmt.Errorf("dataset_share %v: must be in (0, 1]", p.DatasetShare)
	}
	for name, o := range p.Features {
		if o.Test != "" && !knownTest(o.Test) {
			return fmt.Errorf("features: %s: test %q: want one of %v", name, o.Test, tests)
		}
		if o.Threshold < 0 {
			return fmt.Errorf("features: %s: threshold %v: must not be negative", name, o.Threshold)
		}
	}
	return nil
}

// CheckColumns refuses an override naming a column the version does not
// have, naming the key: columns are the version's feature names and, when
// its profile has one, the score column's.
func (p Policy) CheckColumns(columns []string) error {
	for name := range p.Features {
		if !slices.Contains(columns, name) {
			return fmt.Errorf("drift: features: unknown feature %q (the version has %v)", name, columns)
		}
	}
	return nil
}

func knownTest(t Test) bool { return slices.Contains(tests, t) }

// maxWindowRows bounds window_rows, so that a typo cannot make a window
// hold the process's memory.
const maxWindowRows = 1_000_000
