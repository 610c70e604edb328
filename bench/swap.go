package bench

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// Defaults and targets of Swap.
const (
	// DefaultSwapDuration is the measured time of the load without swaps.
	DefaultSwapDuration = 3 * time.Second
	// DefaultCycleTimeout bounds the wait for one published version to
	// answer.
	DefaultCycleTimeout = 30 * time.Second
	// RSSCycle is the cycle after which Swap first reads the server's
	// resident set size, the reference for memory growth.
	RSSCycle = 10
	// MaxRSSGrowth is the target for the server's resident set size after
	// the last cycle over that after RSSCycle cycles.
	MaxRSSGrowth = 1.10
)

// SwapConfig configures Swap. Cycles must be positive; the zero value of
// every other field means the default it names.
type SwapConfig struct {
	// Binary, Dir, ORTLib, Engine, Progress and ChildStderr mean what
	// they mean in RoundsConfig; Binary is started as the server, and
	// Progress gets a line per load and per cycle.
	Binary, Dir, ORTLib   string
	Engine                engine.Config
	Progress, ChildStderr io.Writer
	// Cycles is the number of versions published, one after another,
	// while the load runs.
	Cycles int
	// Duration is the measured time of the load without swaps. 0 means
	// DefaultSwapDuration. The load during swaps lasts as long as the
	// cycles take.
	Duration time.Duration
	// Warmup precedes both loads. 0 means DefaultPhaseWarmup; a negative
	// value means none.
	Warmup time.Duration
	// Connections is the number of load connections. 0 means
	// DefaultConnections.
	Connections int
	// CycleTimeout bounds the wait for a published version to answer; a
	// cycle that takes longer fails Swap. 0 means DefaultCycleTimeout. In
	// a rollout cycle it bounds each of the cycle's waits.
	CycleTimeout time.Duration
	// Rollout makes each cycle a whole rollout through the operations
	// API and rollout.json instead of a plain swap: canary through every
	// step of rolloutSteps, finish, roll back, blue/green, roll back.
	Rollout bool
}

// SwapReport is the outcome of Swap. It is a plain value; its JSON
// encoding is the machine-readable report.
type SwapReport struct {
	// Machine says when and where the report was made.
	Machine
	// Cycles, Duration, Warmup and Connections repeat the configuration
	// after defaults.
	Cycles      int           `json:"cycles"`
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Connections int           `json:"connections"`
	// Baseline is the load without swaps, Swapping the same load while
	// the cycles ran, and Probes the requests that watched for each new
	// version.
	Baseline *Result `json:"baseline"`
	Swapping *Result `json:"swapping"`
	Probes   *Result `json:"probes"`
	// Requests counts the requests of the load during swaps; Failed
	// counts those and the probes that got no 200 (Swapping.Status and
	// Probes.Status break them down).
	Requests int64 `json:"requests"`
	Failed   int64 `json:"failed"`
	// BadVersions counts probe answers whose X-Model-Version was missing
	// or, without Rollout, older than one an earlier probe was answered
	// by.
	BadVersions int64 `json:"bad_versions"`
	// SwapLatencies holds each cycle's swap latency, in order: from the
	// return of the version's publish to the arrival of the first answer
	// from it, so it includes up to a millisecond between probes and one
	// probe's round trip. With Rollout, it is instead the whole cycle's
	// time, from the publish to the first answer from the version below
	// it after the last rollback. SwapLatency summarises them.
	SwapLatencies []time.Duration `json:"swap_latencies_ns"`
	SwapLatency   Latency         `json:"swap_latency"`
	// Rollout repeats the configuration: each cycle was a whole rollout.
	Rollout bool `json:"rollout,omitempty"`
	// ReadyVersions counts, with Rollout, the versions ready after the
	// last cycle: the stable one, the newest above it and
	// modelstore.DefaultKeepPrevious below it should be; the rest drained.
	ReadyVersions int `json:"ready_versions,omitempty"`
	// P99Ratio is Swapping's p99 latency over Baseline's; 0 when either
	// had no successful request.
	P99Ratio float64 `json:"p99_ratio"`
	// RSSAtCycle is the server's resident set size, in bytes, after
	// RSSCycle cycles (0 with fewer cycles), RSS that after the last, and
	// RSSRatio RSS over RSSAtCycle (0 when RSSAtCycle is).
	RSSAtCycle int64   `json:"rss_at_cycle_bytes,omitempty"`
	RSS        int64   `json:"rss_bytes"`
	RSSRatio   float64 `json:"rss_ratio,omitempty"`
	// Goals are the targets, judged: no failed request, and, with more
	// than RSSCycle cycles, RSSRatio at most MaxRSSGrowth; with Rollout,
	// also ReadyVersions at most maxReadyVersions.
	Goals []Goal `json:"goals"`
}

// Swap measures `switchyard serve` (a child process) publishing new
// versions under load. It publishes Compare's small model into a temporary
// registry, starts the server on it, and drives one-row JSON requests over
// Connections connections, first for Duration without swaps, then while it
// publishes Cycles further versions of the model, one after another,
// waiting each time until the server answers from the new one. It relies
// on the server to watch its registry and switch to each new version by
// itself. engine.Init must have been called.
//
// The server listens on 127.0.0.1 only and is stopped before Swap returns,
// whatever happens. An error means the scenario could not be run (a
// version that is not served within CycleTimeout among such errors); a
// goal that is missed is not an error.
func Swap(ctx context.Context, cfg SwapConfig) (*SwapReport, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	rep := &SwapReport{Machine: thisMachine(), Cycles: cfg.Cycles, Duration: cfg.Duration,
		Warmup: max(cfg.Warmup, 0), Connections: cfg.Connections, Rollout: cfg.Rollout}
	err := cfg.rounds().onStage("swap", func(st *stage) error {
		registry := st.registry("registry")
		first, err := st.publish(registry, st.small.mlp, modelstore.PublishOptions{})
		if err != nil {
			return err
		}
		if cfg.Rollout {
			// With a rollout.json, a published version waits for its
			// promote instead of serving at once.
			err := rollout.WriteState(filepath.Join(registry, SmallModel), &rollout.State{Stable: first, Strategy: rollout.Manual,
				UpdatedAt: time.Now().UTC(), Actor: "bench", Reason: "switchyard bench --rollout-cycles"})
			if err != nil {
				return fmt.Errorf("bench: swap: %w", err)
			}
		}
		if _, err := st.serveAll(ctx, registry); err != nil {
			return err
		}
		return cfg.run(ctx, rep, st, registry)
	})
	if err != nil {
		return nil, err
	}
	rep.judge()
	return rep, nil
}

func (cfg *SwapConfig) setDefaults() error {
	if cfg.Cycles <= 0 || cfg.Duration < 0 || cfg.Connections < 0 || cfg.CycleTimeout < 0 {
		return fmt.Errorf("bench: swap: want positive cycles (got %d) and no negative duration, connections or cycle timeout", cfg.Cycles)
	}
	cfg.Duration = cmp.Or(cfg.Duration, DefaultSwapDuration)
	cfg.CycleTimeout = cmp.Or(cfg.CycleTimeout, DefaultCycleTimeout)
	rc := cfg.rounds()
	if err := rc.setDefaults("swap"); err != nil {
		return err
	}
	cfg.Binary, cfg.Warmup, cfg.Connections = rc.Binary, rc.Warmup, rc.Connections
	return nil
}

// rounds returns cfg as the RoundsConfig of one round, which makes Swap's
// stage and starts its server.
func (cfg *SwapConfig) rounds() *RoundsConfig {
	return &RoundsConfig{Binary: cfg.Binary, Dir: cfg.Dir, Engine: cfg.Engine, ORTLib: cfg.ORTLib, Progress: cfg.Progress,
		ChildStderr: cfg.ChildStderr, Rounds: 1, Duration: cfg.Duration, Warmup: cfg.Warmup, Connections: cfg.Connections}
}

// run measures the load without swaps, then the cycles under load, into
// rep.
func (cfg *SwapConfig) run(ctx context.Context, rep *SwapReport, st *stage, registry string) error {
	load := st.cfg.load(st.server.addr, SmallModel, st.small.body)
	var err error
	if rep.Baseline, err = Run(ctx, load); err != nil {
		return err
	}
	st.cfg.progress("without swaps   %8.0f req/s  p99 %9s  errors %d\n", rep.Baseline.RequestsPerSec,
		formatDuration(rep.Baseline.Latency.P99), rep.Baseline.Errors)

	// The load during swaps runs until the cycles are done; its Duration
	// only bounds it, at twice the longest the cycle waits may take.
	load.Duration = time.Duration(cfg.Cycles) * 2 * cfg.CycleTimeout
	bg := startLoad(ctx, load)
	pr := newProber(st.server.addr, load.URL, st.small.body)
	defer pr.close()
	err = cfg.cycles(ctx, rep, st, pr, registry, bg.done)
	rep.Swapping, err = bg.stop(err)
	rep.Probes, rep.BadVersions = pr.result(), pr.badVersions
	return err
}

// cycles waits for the warm-up of the load, then publishes a new version
// of the small model Cycles times, each time waiting until pr gets an answer from it.
// It fails if loaded closes first: the load must span every cycle.
func (cfg *SwapConfig) cycles(ctx context.Context, rep *SwapReport, st *stage, pr *prober, registry string, loaded <-chan struct{}) error {
	ch := st.server
	warm := time.NewTimer(max(cfg.Warmup, 0))
	defer warm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-warm.C:
	}
	adm := newAdminClient(ch.addr, SmallModel)
	defer adm.close()
	for i := 1; i <= cfg.Cycles; i++ {
		select {
		case <-loaded:
			return fmt.Errorf("bench: swap: the load ended before cycle %d", i)
		default:
		}
		v, err := st.publish(registry, reseed(st.small.mlp, uint64(i+1)), modelstore.PublishOptions{})
		if err != nil {
			return err
		}
		var d time.Duration
		if cfg.Rollout {
			start := time.Now()
			err = cfg.rolloutCycle(ctx, adm, pr, filepath.Join(registry, SmallModel), v)
			d = time.Since(start)
		} else {
			d, err = pr.await(ctx, v, time.Now(), cfg.CycleTimeout)
		}
		if err != nil && ctx.Err() == nil {
			err = errors.Join(err, ch.failure("did not serve it")) // with the server's last words
		}
		if err != nil {
			return fmt.Errorf("bench: swap: cycle %d: %w", i, err)
		}
		rep.SwapLatencies = append(rep.SwapLatencies, d)
		if i == RSSCycle || i == cfg.Cycles {
			rss, err := processRSS(ch.cmd.Process.Pid)
			if err != nil {
				return fmt.Errorf("bench: swap: cycle %d: %w", i, err)
			}
			rep.RSS = rss
			if i == RSSCycle {
				rep.RSSAtCycle = rss
			}
		}
		if cfg.Rollout {
			st.cfg.progress("cycle %d of %d: version %d rolled out and back in %s\n", i, cfg.Cycles, v, formatDuration(d))
			continue
		}
		st.cfg.progress("cycle %d of %d: version %d answered %s after its publish\n", i, cfg.Cycles, v, formatDuration(d))
	}
	if cfg.Rollout {
		m, err := adm.model()
		if err != nil {
			return fmt.Errorf("bench: swap: after the last cycle: %w", err)
		}
		rep.ReadyVersions = m.ready()
	}
	return nil
}

// judge fills in the figures derived from the measurements and the goals.
func (r *SwapReport) judge() {
	r.Requests = r.Swapping.Requests
	r.Failed = r.Swapping.Errors + r.Probes.Errors
	r.SwapLatency = summarize(slices.Clone(r.SwapLatencies))
	r.P99Ratio, _ = ratio(float64(r.Swapping.Latency.P99), float64(r.Baseline.Latency.P99))
	r.RSSRatio, _ = ratio(float64(r.RSS), float64(r.RSSAtCycle))
	r.Goals = []Goal{newGoal("failed requests during swaps (load and probes)", float64(r.Failed), "<=", 0, "", r.Requests > 0)}
	if r.Cycles > RSSCycle {
		r.Goals = append(r.Goals, newGoal(fmt.Sprintf("server RSS after %d cycles ÷ after %d", r.Cycles, RSSCycle),
			r.RSSRatio, "<=", MaxRSSGrowth, "", r.RSSRatio > 0))
	}
	if r.Rollout {
		r.Goals = append(r.Goals, newGoal("ready versions after the last cycle (the rest drained)",
			float64(r.ReadyVersions), "<=", maxReadyVersions, "", r.ReadyVersions > 0))
	}
}

// WriteText writes the report as fixed-width tables for people to read:
// the loads, the swap latency, memory and the goals.
func (r *SwapReport) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	flags, swaps, latency, latencyNote := "", "swaps", "swap latency", "from the return of a version's publish to the first answer from it"
	if r.Rollout {
		flags, swaps, latency = " --rollout-cycles", "rollout cycles", "rollout cycle"
		latencyNote = "from a version's publish, through canary " + rolloutStepsText() +
			" bp, finish, roll back, blue/green and roll back, to the first answer from the version below it"
	}
	fmt.Fprintf(bw, "switchyard bench --swap-cycles %d%s: %s\n", r.Cycles, flags, r.Machine)
	fmt.Fprintf(bw, "model %s (MLP 30-64-2), one-row JSON requests over %d connections; %v without swaps, then %d %s, each load after %v warm-up\n\n",
		SmallModel, r.Connections, r.Duration, r.Cycles, swaps, r.Warmup)
	fmt.Fprintf(bw, "%-24s %9s %9s %9s %9s %9s  %s\n", "load", "requests", "req/s", "p50", "p99", "max", "errors")
	for _, l := range []struct {
		name string
		res  *Result
	}{{"without swaps", r.Baseline}, {"during swaps", r.Swapping}, {"probes during swaps", r.Probes}} {
		fmt.Fprintf(bw, "%-24s %9d %9.0f %9s %9s %9s  %d%s\n", l.name, l.res.Requests, l.res.RequestsPerSec, formatDuration(l.res.Latency.P50),
			formatDuration(l.res.Latency.P99), formatDuration(l.res.Latency.Max), l.res.Errors, l.res.errorDetail())
	}
	bad := "from a missing or older version"
	if r.Rollout {
		bad = "naming no version (rollbacks go to older versions on purpose)"
	}
	fmt.Fprintf(bw, "(probes: one connection asking every millisecond which version answers; %d answers %s)\n\n", r.BadVersions, bad)

	s := &r.SwapLatency
	fmt.Fprintf(bw, "%-24s %9s %9s %9s\n", latency, "p50", "p99", "max")
	fmt.Fprintf(bw, "%-24s %9s %9s %9s\n", fmt.Sprintf("%d cycles", s.Count), formatDuration(s.P50), formatDuration(s.P99), formatDuration(s.Max))
	fmt.Fprintf(bw, "(%s)\n\n", latencyNote)

	fmt.Fprintf(bw, "%-24s %12s %12s %9s\n", "server RSS", fmt.Sprintf("cycle %d", RSSCycle), fmt.Sprintf("cycle %d", r.Cycles), "ratio")
	fmt.Fprintf(bw, "%-24s %12s %12s %9s\n", "", formatBytes(r.RSSAtCycle), formatBytes(r.RSS), formatFloatOrNA(r.RSSRatio))

	fmt.Fprintln(bw)
	writeGoals(bw, "", 0, r.Goals)
	fmt.Fprintf(bw, "\n%-60s %9s\n", "ratio (no target)", "value")
	fmt.Fprintf(bw, "%-60s %9s\n", "p99 during swaps ÷ p99 without", formatFloatOrNA(r.P99Ratio))
	return bw.Flush()
}

// formatBytes writes n in MiB, or "n/a" for 0.
func formatBytes(n int64) string {
	if n == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// formatFloatOrNA is formatFloat, or "n/a" for 0, a ratio that could not
// be taken.
func formatFloatOrNA(v float64) string {
	if v == 0 {
		return "n/a"
	}
	return formatFloat(v)
}
