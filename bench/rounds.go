package bench

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

// RoundsConfig is what every scenario that alternates two phases round by
// round (TrackingCost, CanaryCost, GateCost, RecordsCost) is configured
// with; each scenario's config embeds it and says what its two phases are.
type RoundsConfig struct {
	// Binary, Dir, Engine, ORTLib, Progress and ChildStderr mean what
	// they mean in CompareConfig: Binary is started as the server and
	// Progress gets a line per phase.
	Binary      string
	Dir         string
	Engine      engine.Config
	ORTLib      string
	Progress    io.Writer
	ChildStderr io.Writer
	// Rounds, Duration, Warmup and Connections mean what they mean in
	// CompareConfig, with the same defaults.
	Rounds      int
	Duration    time.Duration
	Warmup      time.Duration
	Connections int
}

// setDefaults fills c's zero fields, the binary being this executable,
// and refuses negative ones; scenario names it in errors.
func (c *RoundsConfig) setDefaults(scenario string) error {
	if c.Rounds < 0 || c.Duration < 0 || c.Connections < 0 {
		return fmt.Errorf("bench: %s: negative rounds, duration or connections", scenario)
	}
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: %s: find the switchyard binary: %w", scenario, err)
		}
		c.Binary = exe
	}
	c.Rounds = cmp.Or(c.Rounds, DefaultRounds)
	c.Duration = cmp.Or(c.Duration, DefaultPhaseDuration)
	c.Warmup = cmp.Or(c.Warmup, DefaultPhaseWarmup)
	c.Connections = cmp.Or(c.Connections, DefaultConnections)
	return nil
}

// roundRatios reads phases two per round, the baseline first: for each
// round it returns of(variant) over of(baseline), 0 where either is not
// positive, and the lower median of the positive ones (0 without any).
// result picks a phase's measured load.
func roundRatios[P any](phases []P, result func(P) *Result, of func(*Result) float64) (all []float64, median float64) {
	var positive []float64
	for i := 0; i+1 < len(phases); i += 2 {
		v, ok := ratio(of(result(phases[i+1])), of(result(phases[i])))
		all = append(all, v)
		if ok {
			positive = append(positive, v)
		}
	}
	if len(positive) == 0 {
		return all, 0
	}
	slices.Sort(positive)
	return all, positive[(len(positive)-1)/2]
}

// requestsPerSec is what the scenarios compare round by round.
func requestsPerSec(r *Result) float64 { return r.RequestsPerSec }
