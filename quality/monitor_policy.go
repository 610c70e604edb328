package quality

import (
	"fmt"
	"time"
)

// Policy is a model's live quality settings: policy.yaml's quality block
// over the defaults (see DefaultPolicy). The zero value is not valid;
// start from DefaultPolicy.
type Policy struct {
	// Window is how many labelled predictions a version's live window
	// keeps (the most recent), and how many scores its CBPE window keeps.
	Window int
	// MaxAge drops from both windows the predictions made longer ago.
	MaxAge time.Duration
	// MinLabels is how many labelled predictions the live figures need
	// before they count: below it the rollout controller sees no
	// accuracy and no accuracy_drop alarm is judged. The CBPE estimate
	// likewise needs as many scores.
	MinLabels int
	// MaxAccuracyDrop is the largest drop of live or estimated accuracy
	// below the version's offline (gate) accuracy, in accuracy's units,
	// before an alarm is raised.
	MaxAccuracyDrop float64
	// Interval is how often the version's windows are judged.
	Interval time.Duration
}

// The defaults of a quality policy.
const (
	DefaultWindow          = 1000
	DefaultMaxAge          = 24 * time.Hour
	DefaultMinLabels       = 100
	DefaultMaxAccuracyDrop = 0.05
	DefaultInterval        = 10 * time.Second
)

// maxWindow bounds window, so that a typo cannot make a window hold the
// process's memory.
const maxWindow = 1_000_000

// DefaultPolicy returns the settings a model without a quality block runs
// with.
func DefaultPolicy() Policy {
	return Policy{Window: DefaultWindow, MaxAge: DefaultMaxAge, MinLabels: DefaultMinLabels,
		MaxAccuracyDrop: DefaultMaxAccuracyDrop, Interval: DefaultInterval}
}

// Validate reports the first setting of p that is out of range, naming
// its key as policy.yaml writes it.
func (p Policy) Validate() error {
	switch {
	case p.Window < 1 || p.Window > maxWindow:
		return fmt.Errorf("window %d: must be between 1 and %d", p.Window, maxWindow)
	case p.MaxAge <= 0:
		return fmt.Errorf("max_age %v: must be positive", p.MaxAge)
	case p.MinLabels < 1 || p.MinLabels > p.Window:
		return fmt.Errorf("min_labels %d: must be between 1 and window (%d)", p.MinLabels, p.Window)
	case !(p.MaxAccuracyDrop >= 0 && p.MaxAccuracyDrop <= 1):
		return fmt.Errorf("max_accuracy_drop %v: must be in [0, 1]", p.MaxAccuracyDrop)
	case p.Interval <= 0:
		return fmt.Errorf("interval %v: must be positive", p.Interval)
	}
	return nil
}
