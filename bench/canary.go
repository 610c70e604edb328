package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// Target and split of CanaryCost.
const (
	// MinCanaryRatio is the target for the small model's requests per
	// second with a two-arm canary over those with one version serving.
	MinCanaryRatio = 0.97
	// CanaryWeight is the candidate's share of CanaryCost's two-arm
	// phases, in basis points: an even split.
	CanaryWeight = 5000
)

// CanaryConfig configures CanaryCost. The zero value runs the scenario
// with the defaults it names.
type CanaryConfig struct {
	// RoundsConfig sets the rounds: a round is a phase with one version
	// serving (a fresh server each phase) followed by one with a two-arm canary.
	RoundsConfig
}

// CanaryPhase is one phase of CanaryCost: a fresh server with one version
// of the small model serving, or two split by a canary, under load.
type CanaryPhase struct {
	// RoundPhase holds the round and what the load measured.
	RoundPhase
	// TwoArm reports two versions split CanaryWeight basis points to the
	// candidate; otherwise one version served every request.
	TwoArm bool `json:"two_arm"`
}

// progress implements roundsPhase.
func (p CanaryPhase) progress() (label, more string) {
	label = "single"
	if p.TwoArm {
		label = "two-arm canary"
	}
	return fmt.Sprintf("%-15s", label), ""
}

// CanaryReport is the outcome of CanaryCost. It is a plain value; its
// JSON encoding is the machine-readable report. Its RoundRatios are of
// the rounds' two-arm requests per second over their single-version
// ones; its goal is Ratio at least MinCanaryRatio, missing without a
// ratio.
type CanaryReport struct {
	RoundsReport
	// Weight is the candidate's share of the two-arm phases, in basis
	// points.
	Weight int `json:"weight_bp"`
	// Phases are the phases in the order run: single, two-arm, single,
	// two-arm and so on, two per round.
	Phases []CanaryPhase `json:"phases"`
}

// CanaryCost measures what a two-arm canary costs the inference hot path.
// It builds two temporary registries: one with Compare's small model as
// its only version, one with a second version of it beside the first and
// a rollout.json that gives the second CanaryWeight basis points as a
// canary. Rounds times, it starts `switchyard serve` on the first, drives
// one-row JSON requests over Connections connections for Duration, then
// does the same on the second once the server routes by the split. Every
// phase gets a fresh server. engine.Init must have been called.
//
// Servers listen on 127.0.0.1 only and are stopped before CanaryCost
// returns, whatever happens. An error means the scenario could not be run;
// failed requests and a missed goal are reported, not errors.
func CanaryCost(ctx context.Context, cfg CanaryConfig) (*CanaryReport, error) {
	if err := cfg.setDefaults("canary"); err != nil {
		return nil, err
	}
	rep := &CanaryReport{RoundsReport: cfg.report(), Weight: CanaryWeight}
	var err error
	if rep.Phases, err = runRounds(ctx, &cfg.RoundsConfig, "canary", &canaryRun{cfg: &cfg}); err != nil {
		return nil, err
	}
	judgeRounds(&rep.RoundsReport, rep.Phases)
	rep.Goals = []Goal{newGoal("small req/s with a two-arm canary ÷ with one version", rep.Ratio, ">=", MinCanaryRatio, "", rep.Ratio > 0)}
	return rep, nil
}

// canaryRun is a run of CanaryCost: its registries and the version of
// the candidate.
type canaryRun struct {
	cfg           *CanaryConfig
	single, split string
	cand          int
}

// setup publishes the small model into both registries and a second
// version beside it into the split one; it implements roundsScenario.
func (c *canaryRun) setup(_ context.Context, st *stage) error {
	c.single, c.split = st.registry("single"), st.registry("canary")
	for _, registry := range []string{c.single, c.split} {
		if _, err := st.publish(registry, st.small.mlp, modelstore.PublishOptions{}); err != nil {
			return err
		}
	}
	var err error
	c.cand, err = st.publish(c.split, reseed(st.small.mlp, 2), modelstore.PublishOptions{})
	return err
}

// phase starts a server on the single registry or, as the variant, on
// the split one, waits until it routes the small model's traffic as
// expected, measures the load against it and stops it; it implements
// roundsScenario.
func (c *canaryRun) phase(ctx context.Context, st *stage, round int, twoArm bool) (CanaryPhase, error) {
	p := CanaryPhase{RoundPhase: RoundPhase{Round: round}, TwoArm: twoArm}
	registry, name, want := c.single, "switchyard (one version)", map[int]int{1: rollout.FullWeight}
	if twoArm {
		registry, name = c.split, "switchyard (two-arm canary)"
		want = map[int]int{1: rollout.FullWeight - CanaryWeight, c.cand: CanaryWeight}
		// Afresh for every phase, paused: the controller must not
		// move the split, during a phase or for the next one.
		err := rollout.WriteState(filepath.Join(c.split, SmallModel), &rollout.State{Stable: 1, Candidate: c.cand,
			Strategy: rollout.Canary, Step: 2, Weight: CanaryWeight, Paused: true, UpdatedAt: time.Now().UTC(),
			Actor: "bench", Reason: "switchyard bench --canary-cost"})
		if err != nil {
			return p, fmt.Errorf("bench: canary: %w", err)
		}
	}
	err := st.withServer(ctx, name, registry, nil, func(ch *child) error {
		adm := newAdminClient(ch.addr, SmallModel)
		defer adm.close()
		split := func(m *adminModel) bool {
			for v, bp := range want {
				if mv := m.version(v); mv == nil || mv.TrafficBP != bp {
					return false
				}
			}
			return true
		}
		what := fmt.Sprintf("traffic %v basis points by version", want)
		if err := adm.await(ctx, DefaultCycleTimeout, what, split); err != nil {
			return err
		}
		var err error
		if p.Result, err = Run(ctx, c.cfg.load(ch.addr, SmallModel, st.small.body)); err != nil {
			return err
		}
		return adm.await(ctx, 0, what+" still, after the load,", split) // the split must have held to the end
	})
	return p, err
}

// WriteText writes the report as fixed-width tables for people to read:
// the phases, the ratio of each round and the goal.
func (r *CanaryReport) WriteText(w io.Writer) error {
	return writeRounds(w, &r.RoundsReport, r.Phases, &roundsText{
		flag: "--canary-cost",
		intro: fmt.Sprintf("model %s (MLP 30-64-2), one-row JSON requests over %d connections, %v after %v warm-up per phase; %d rounds,\n"+
			"each a fresh server with one version serving, then one with two versions split by a canary at %d bp\n",
			SmallModel, r.Connections, r.Duration, r.Warmup, r.Rounds, r.Weight),
		column: "serving", width: 16, labels: [2]string{"one version", "two-arm canary"}, more: "÷ single",
		notes: "(÷ single: the round's two-arm req/s over its single-version req/s)\n",
	})
}
