package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// Defaults and targets of GateCost. The issue asks for the measurement
// and names no bar; the two targets are this benchmark's choice.
const (
	// DefaultGateRows is the number of rows of GateCost's evaluation set:
	// the 100,000.
	DefaultGateRows = 100_000
	// DefaultGateTimeout bounds the wait for one published version to be
	// judged by its gate, and for the first to become ready.
	DefaultGateTimeout = 2 * time.Minute
	// MaxGateP99Ratio is the target for the small model's p99 latency
	// while a gate runs over its p99 with none running.
	MaxGateP99Ratio = 2
	// MinGateRatio is the target for the small model's requests per
	// second while a gate runs over those with none running.
	MinGateRatio = 0.8
)

// gatePoll is how often GateCost reads the state of a gating version while
// the load it measures runs: seldom enough that the reads cost the server
// nothing that shows beside the load (the wait for the gate to start reads
// every millisecond, before the load). gateEvalSeed seeds the evaluation
// set.
const (
	gatePoll     = 20 * time.Millisecond
	gateEvalSeed = 17
)

// GateConfig configures GateCost. The zero value runs the scenario with
// the defaults it names.
type GateConfig struct {
	// RoundsConfig sets the rounds: a round is a phase with no gate
	// running, for Duration after Warmup, followed by one that lasts as
	// long as a new version's gate, against one server.
	RoundsConfig
	// Rows is the number of rows of the evaluation set. 0 means
	// DefaultGateRows.
	Rows int
	// Concurrency is the gate's concurrency in the model's policy.yaml:
	// how many batches of gate.DefaultBatchRows rows it runs at once. 0
	// means gate.DefaultConcurrency.
	Concurrency int
	// GateTimeout bounds the wait for a version to be judged; a gate that
	// takes longer fails GateCost. 0 means DefaultGateTimeout.
	GateTimeout time.Duration
}

// GatePhase is one phase of GateCost: the load with no gate running, or
// the same load while a newly published version was gating.
type GatePhase struct {
	// RoundPhase holds the round and what the load measured. With
	// Gating, the load's window opened when the new version was first
	// seen in GATING and closed when it was first seen judged: the load
	// ran only while the gate did.
	RoundPhase
	// Gating reports a phase measured while a gate ran; the fields below
	// are set only for those.
	Gating bool `json:"gating"`
	// Version is the version published and judged.
	Version int `json:"version,omitempty"`
	// Loading runs from the return of the version's publish to the first
	// status that showed it gating: the watcher, the load and the warm-up.
	// Gate runs from there to the first status that showed it judged,
	// read every gatePoll, so it may overstate the gate by that much.
	Loading time.Duration `json:"loading_ns,omitempty"`
	Gate    time.Duration `json:"gate_ns,omitempty"`
	// RowsPerSec and StableRowsPerSec are the verdict's rows_per_second
	// for the new version and for the stable one, evaluated on the same
	// set in the same gate: model runs only, without reading the set.
	RowsPerSec       float64 `json:"rows_per_sec,omitempty"`
	StableRowsPerSec float64 `json:"stable_rows_per_sec,omitempty"`
}

// progress implements roundsPhase.
func (p GatePhase) progress() (label, more string) {
	if !p.Gating {
		return "no gate ", ""
	}
	return "gating  ", fmt.Sprintf("  version %d: loading %s, gate %s, %.0f rows/s (stable %.0f)",
		p.Version, formatDuration(p.Loading), formatDuration(p.Gate), p.RowsPerSec, p.StableRowsPerSec)
}

// GateReport is the outcome of GateCost. It is a plain value; its JSON
// encoding is the machine-readable report. Its RoundRatios are of the
// rounds' requests per second while gating over those with no gate; its
// goals are P99Ratio at most MaxGateP99Ratio and Ratio at least
// MinGateRatio, each missing without its ratio.
type GateReport struct {
	RoundsReport
	// Rows and Concurrency repeat the configuration after defaults;
	// BatchRows is the gate's rows per batch.
	Rows        int `json:"rows"`
	BatchRows   int `json:"batch_rows"`
	Concurrency int `json:"concurrency"`
	// Phases are the phases in the order run: no gate, gating, no gate,
	// gating and so on, two per round.
	Phases []GatePhase `json:"phases"`
	// RoundP99Ratios holds each round's p99 latency while gating over its
	// p99 with no gate, 0 for a round with no successful request in a
	// phase; P99Ratio is their median, as Ratio is RoundRatios'.
	RoundP99Ratios []float64 `json:"round_p99_ratios"`
	P99Ratio       float64   `json:"p99_ratio"`
	// Gate summarises the phases' Gate durations.
	Gate Latency `json:"gate"`
}

// GateCost measures what a version's gate, evaluating a large set, costs
// the live traffic of the version that serves. In a temporary registry it
// writes a policy.yaml whose gate holds a new version to the stable one's
// AUC and log loss, in batches of gate.DefaultBatchRows rows, Concurrency
// at once, and publishes Compare's small model with a labelled evaluation
// set of Rows rows. It starts `switchyard serve` on it and waits until
// that version has passed its gate. Then, Rounds times, it drives one-row
// JSON requests over Connections connections for Duration, publishes the
// same model with the same set again and drives the same load from the
// moment the new version is gating until it is judged, the gate having
// evaluated it and the stable version on every row. engine.Init must have
// been called.
//
// The server listens on 127.0.0.1 only and is stopped before GateCost
// returns, whatever happens. An error means the scenario could not be
// run: a version whose gate fails, evaluates fewer rows than the set has,
// compares with no stable version, or ends before it could be seen gating
// is among those errors. Failed requests and a missed goal are reported,
// not errors.
func GateCost(ctx context.Context, cfg GateConfig) (*GateReport, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	rep := &GateReport{RoundsReport: cfg.report(), Rows: cfg.Rows, BatchRows: gate.DefaultBatchRows, Concurrency: cfg.Concurrency}
	var err error
	if rep.Phases, err = runRounds(ctx, &cfg.RoundsConfig, "gate", &gateRun{cfg: &cfg}); err != nil {
		return nil, err
	}
	rep.judge()
	return rep, nil
}

func (cfg *GateConfig) setDefaults() error {
	if err := cfg.RoundsConfig.setDefaults("gate"); err != nil {
		return err
	}
	if cfg.Rows < 0 || cfg.Concurrency < 0 || cfg.GateTimeout < 0 {
		return errors.New("bench: gate: negative rows, concurrency or gate timeout")
	}
	cfg.Rows = cmp.Or(cfg.Rows, DefaultGateRows)
	cfg.Concurrency = cmp.Or(cfg.Concurrency, gate.DefaultConcurrency)
	cfg.GateTimeout = cmp.Or(cfg.GateTimeout, DefaultGateTimeout)
	return nil
}

// gateRun is a run of GateCost: its registry and evaluation set.
type gateRun struct {
	cfg      *GateConfig
	registry string
	eval     []byte
}

// publish publishes the small model with the evaluation set as its next
// version.
func (g *gateRun) publish(st *stage) (int, error) {
	return st.publish(g.registry, st.small.mlp, modelstore.PublishOptions{EvalCSV: g.eval, EvalLabel: "label"})
}

// setup writes the gate's policy, publishes the first version, starts the
// server of the whole run and waits until the first version has passed
// its gate; it implements roundsScenario.
func (g *gateRun) setup(ctx context.Context, st *stage) error {
	g.registry = st.registry("registry")
	if err := writeGatePolicy(g.registry, g.cfg.Concurrency); err != nil {
		return err
	}
	g.eval = gateEvalSet(st.small.mlp, g.cfg.Rows, gateEvalSeed)
	if _, err := g.publish(st); err != nil {
		return err
	}
	ch, err := st.serveAll(ctx, g.registry)
	if err != nil {
		return err
	}
	adm := newAdminClient(ch.addr, SmallModel)
	defer adm.close()
	if err := adm.await(ctx, g.cfg.GateTimeout, "version 1 judged", judged(1)); err != nil {
		return err
	}
	if _, err := verdictOf(adm, 1, g.cfg.Rows, false); err != nil {
		return fmt.Errorf("bench: gate: %w", err)
	}
	return nil
}

// phase measures the load with no gate running or, as the variant, while
// a new version is gating; it implements roundsScenario.
func (g *gateRun) phase(ctx context.Context, st *stage, round int, gating bool) (GatePhase, error) {
	load := g.cfg.load(st.server.addr, SmallModel, st.small.body)
	if !gating {
		r, err := Run(ctx, load)
		return GatePhase{RoundPhase: RoundPhase{Round: round, Result: r}}, err
	}
	adm := newAdminClient(st.server.addr, SmallModel)
	defer adm.close()
	p, err := g.gatePhase(ctx, st, adm, load)
	if err != nil {
		return p, fmt.Errorf("bench: gate: round %d: %w", round, err)
	}
	p.Round = round
	return p, nil
}

// gatePhase publishes a new version, waits until it is gating, then
// drives load (like load, without warm-up) until the gate has judged it.
func (g *gateRun) gatePhase(ctx context.Context, st *stage, adm *adminClient, load Config) (GatePhase, error) {
	cfg := g.cfg
	v, err := g.publish(st)
	if err != nil {
		return GatePhase{}, err
	}
	published := time.Now()
	gating, done, seen := modelstore.Gating.String(), judged(v), ""
	err = adm.await(ctx, cfg.GateTimeout, fmt.Sprintf("version %d gating", v), func(m *adminModel) bool {
		if mv := m.version(v); mv != nil && (mv.State == gating || done(m)) {
			seen = mv.State
			return true
		}
		return false
	})
	if err != nil {
		return GatePhase{}, err
	}
	if seen != gating {
		return GatePhase{}, fmt.Errorf("version %d was first seen %s, never gating: a gate of %d rows that ends within a status read cannot be measured",
			v, seen, cfg.Rows)
	}
	p := GatePhase{Gating: true, Version: v}
	start := time.Now()
	p.Loading = start.Sub(published)

	// The load runs until the gate is over; its Duration only bounds it.
	load.Warmup, load.Duration = 0, cfg.GateTimeout
	bg := startLoad(ctx, load)
	err = g.cfg.awaitJudged(ctx, adm, v)
	p.Gate = time.Since(start)
	p.Result, err = bg.stop(err)
	if err != nil {
		return GatePhase{}, err
	}
	verdict, err := verdictOf(adm, v, cfg.Rows, true)
	if err != nil {
		return GatePhase{}, err
	}
	for _, m := range verdict.Metrics {
		if m.Name == gate.MetricRowsPerSec && m.Slice == "" {
			p.RowsPerSec, p.StableRowsPerSec = float64(m.Candidate), float64(m.Stable)
		}
	}
	return p, nil
}

// awaitJudged reads version v's state every gatePoll until the gate has
// judged it, and fails once GateTimeout has passed.
func (cfg *GateConfig) awaitJudged(ctx context.Context, adm *adminClient, v int) error {
	tick := time.NewTicker(gatePoll)
	defer tick.Stop()
	deadline, done := time.Now().Add(cfg.GateTimeout), judged(v)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		m, err := adm.model()
		if err != nil {
			return err
		}
		if done(m) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("version %d not judged within %v", v, cfg.GateTimeout)
		}
	}
}

// judge fills in the ratios, the gate durations, the failures and the
// goals.
func (r *GateReport) judge() {
	judgeRounds(&r.RoundsReport, r.Phases)
	r.RoundP99Ratios, r.P99Ratio = roundRatios(r.Phases, p99)
	var gates []time.Duration
	for _, p := range r.Phases {
		if p.Gating {
			gates = append(gates, p.Gate)
		}
	}
	r.Gate = summarize(gates)
	r.Goals = []Goal{
		newGoal("small p99 while a gate runs ÷ with no gate", r.P99Ratio, "<=", MaxGateP99Ratio, "", r.P99Ratio > 0),
		newGoal("small req/s while a gate runs ÷ with no gate", r.Ratio, ">=", MinGateRatio, "", r.Ratio > 0),
	}
}

// WriteText writes the report as fixed-width tables for people to read:
// the phases, the ratios of each round, the gates and the goals.
func (r *GateReport) WriteText(w io.Writer) error {
	row := func(i int) string {
		p := &r.Phases[i]
		return fmt.Sprintf(" %8s %8s %9s %9s %10.0f %10.0f", formatFloatOrNA(r.RoundRatios[i/2]), formatFloatOrNA(r.RoundP99Ratios[i/2]),
			formatDuration(p.Loading), formatDuration(p.Gate), p.RowsPerSec, p.StableRowsPerSec)
	}
	return writeRounds(w, &r.RoundsReport, r.Phases, &roundsText{
		flag: "--gate-cost",
		intro: fmt.Sprintf("model %s (MLP 30-64-2), one-row JSON requests over %d connections; %d rounds, each %v (after %v warm-up)\n"+
			"with no gate running, then from the moment a newly published version is gating until it is judged: a gate\n"+
			"of %d rows × 30 features, %d-row batches, concurrency %d, evaluating the new version and the stable one\n",
			SmallModel, r.Connections, r.Rounds, r.Duration, r.Warmup, r.Rows, r.BatchRows, r.Concurrency),
		column: "load", width: 8, labels: [2]string{"no gate", "gating"}, row: row,
		more:   fmt.Sprintf(" %8s %8s %9s %9s %10s %10s", "÷ req/s", "÷ p99", "loading", "gate", "rows/s", "stable"),
		median: fmt.Sprintf(" %8s %8s %9s %9s", formatFloatOrNA(r.Ratio), formatFloatOrNA(r.P99Ratio), "", formatDuration(r.Gate.P50)),
		notes: "(÷: the round's gating figure over its no-gate one; loading: publish to gating; gate: gating to judged,\n" +
			"the gating load's window; rows/s: the verdict's rows_per_second for the new and the stable version)\n",
		failed: "requests failed: the ratios measure a server that did not answer them all",
		goal:   "goal (a bar this benchmark chose)",
	})
}
