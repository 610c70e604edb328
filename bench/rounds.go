package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
)

// RoundsConfig is what every scenario that runs rounds is configured
// with: Compare, and the A/B scenarios that alternate a baseline phase
// and a variant phase round by round (TrackingCost, CanaryCost, GateCost,
// RecordsCost). Each scenario's config embeds it and adds what is its
// own. The zero value means the defaults named below.
type RoundsConfig struct {
	// Binary is the switchyard executable started for the servers (and
	// Compare's floor). Empty means os.Executable(), which is right when
	// the caller is switchyard itself.
	Binary string
	// Dir is where the temporary registries are made (and removed).
	// Empty means os.TempDir().
	Dir string
	// Engine configures the model runs and is passed to the servers as
	// --intra-op-threads and --inter-op-threads.
	Engine engine.Config
	// ORTLib, if set, is passed to the servers as --ort-lib. Otherwise
	// they find onnxruntime as this process did, through the inherited
	// environment or the `make ort` cache.
	ORTLib string
	// Progress, if not nil, gets one line per phase as it ends.
	Progress io.Writer
	// ChildStderr, if not nil, gets the child processes' stderr.
	ChildStderr io.Writer
	// Rounds is how many times every phase runs, one round after another.
	// 0 means DefaultRounds.
	Rounds int
	// Duration is the measured time of each load phase. 0 means
	// DefaultPhaseDuration.
	Duration time.Duration
	// Warmup precedes each load phase. 0 means DefaultPhaseWarmup; a
	// negative value means none.
	Warmup time.Duration
	// Connections is the number of load connections. 0 means
	// DefaultConnections.
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

// load is the closed-loop load of one-row JSON requests to model at addr
// that the phases of c measure.
func (c *RoundsConfig) load(addr, model string, body []byte) Config {
	return Config{URL: "http://" + addr + "/v2/models/" + model + "/infer", Body: body,
		Connections: c.Connections, Warmup: max(c.Warmup, 0), Duration: c.Duration}
}

// progress writes a line to Progress, if set.
func (c *RoundsConfig) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format, args...)
	}
}

// RoundPhase is what every phase of an A/B scenario holds; each
// scenario's phase type embeds it, so its fields sit at the top of the
// phase's JSON.
type RoundPhase struct {
	// Round is the phase's round, from 1.
	Round int `json:"round"`
	// Result is what the load measured.
	Result *Result `json:"result"`
}

// roundPhase returns p, for runRounds and the report.
func (p RoundPhase) roundPhase() RoundPhase { return p }

// roundPhaser is a phase type of an A/B scenario: it embeds RoundPhase.
type roundPhaser interface{ roundPhase() RoundPhase }

// roundsPhase is a phase type of an A/B scenario that says what its
// progress line shows.
type roundsPhase interface {
	roundPhaser
	// progress returns the phase's label, padded as its progress line
	// shows it, and what the line ends with: the scenario's further
	// numbers, or nothing.
	progress() (label, more string)
}

// roundsScenario is what an A/B scenario tells runRounds. Its methods are
// called from runRounds' goroutine, one at a time.
type roundsScenario[P roundsPhase] interface {
	// setup prepares st before the first round: it publishes what the
	// scenario serves, and starts the server of the whole run with
	// st.serveAll if the scenario keeps one.
	setup(ctx context.Context, st *stage) error
	// phase measures one phase of round: the baseline or, with variant,
	// the variant, with its Round set.
	phase(ctx context.Context, st *stage, round int, variant bool) (P, error)
}

// runRounds runs an A/B scenario, called name in errors, as cfg says:
// it makes a stage, lets s set it up, then runs Rounds rounds of s's
// baseline phase followed by its variant, writing a progress line for
// each, and returns the phases in the order run. cfg's defaults must be
// set. Every server is stopped and the stage removed before it returns,
// whatever happens; an error from a server that served the whole run
// comes with the end of its stderr.
func runRounds[P roundsPhase](ctx context.Context, cfg *RoundsConfig, name string, s roundsScenario[P]) (phases []P, err error) {
	err = cfg.onStage(name, func(st *stage) error {
		if err := s.setup(ctx, st); err != nil {
			return st.failure(ctx, err)
		}
		for round := 1; round <= cfg.Rounds; round++ {
			for _, variant := range []bool{false, true} {
				p, err := s.phase(ctx, st, round, variant)
				if err != nil {
					return st.failure(ctx, err)
				}
				label, more := p.progress()
				r := p.roundPhase().Result
				cfg.progress("round %d, %s %8.0f req/s  p50 %9s  p99 %9s  errors %d%s\n", round, label,
					r.RequestsPerSec, formatDuration(r.Latency.P50), formatDuration(r.Latency.P99), r.Errors, more)
				phases = append(phases, p)
			}
		}
		return nil
	})
	return phases, err
}

// roundRatios reads phases two per round, the baseline first: for each
// round it returns of(variant) over of(baseline), 0 where either is not
// positive, and the lower median of the positive ones (0 without any).
func roundRatios[P roundPhaser](phases []P, of func(*Result) float64) (all []float64, median float64) {
	var positive []float64
	for i := 0; i+1 < len(phases); i += 2 {
		v, ok := ratio(of(phases[i+1].roundPhase().Result), of(phases[i].roundPhase().Result))
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

// p99 is what GateCost compares round by round beside requestsPerSec.
func p99(r *Result) float64 { return float64(r.Latency.P99) }
