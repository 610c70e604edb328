package bench

import (
	"cmp"
	"fmt"
	"io"
	"os"
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
