package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
)

// Target and fixtures of DriftCost.
const (
	// MinDriftRatio is the target for the small model's requests per
	// second with drift sampling at rate 1.0 over those with the drift
	// monitor off.
	MinDriftRatio = 0.97
	// driftReferenceRows is the rows of the small model's reference
	// profile: drawn as the requests' features are, so that the monitor
	// judges traffic like its reference.
	driftReferenceRows = 5000
	// driftReferenceSeed seeds them.
	driftReferenceSeed = 26
	// driftSource names the profile's data; the drift report repeats it,
	// which tells that the monitor read the profile.
	driftSource = "switchyard bench: uniform reference rows"
	// driftPolicy samples every prediction, the default made explicit.
	driftPolicy = "drift:\n  sample: 1.0\n"
)

// DriftConfig configures DriftCost. The zero value runs the scenario
// with the defaults it names.
type DriftConfig struct {
	// RoundsConfig sets the rounds: a round is a phase with the small
	// model served with the drift monitor off (a fresh server each
	// phase), followed by one with it on and every prediction sampled.
	RoundsConfig
}

// DriftPhase is one phase of DriftCost: a fresh server with the small
// model served with the drift monitor off, or on, under load.
type DriftPhase struct {
	// RoundPhase holds the round and what the load measured.
	RoundPhase
	// Drift reports that the drift monitor ran and every prediction was
	// offered to it; otherwise the monitor was off (serve --drift=false).
	Drift bool `json:"drift"`
}

// progress implements roundsPhase.
func (p DriftPhase) progress() (label, more string) {
	label = "drift off"
	if p.Drift {
		label = "drift, rate 1.0"
	}
	return fmt.Sprintf("%-15s", label), ""
}

// DriftReport is the outcome of DriftCost. It is a plain value; its JSON
// encoding is the machine-readable report. Its RoundRatios are of the
// rounds' requests per second with drift sampling over those with the
// monitor off;
// its goal is Ratio at least MinDriftRatio, missing without a ratio.
type DriftReport struct {
	RoundsReport
	// Phases are the phases in the order run: drift off, on, off, on and
	// so on, two per round.
	Phases []DriftPhase `json:"phases"`
}

// DriftCost measures what drift monitoring costs the inference hot path.
// It builds a temporary registry holding Compare's small model with a
// profile.json of driftReferenceRows rows drawn as the requests are, and
// a policy.yaml that samples every prediction for drift. Rounds times, it
// starts `switchyard serve --drift=false` on it, drives one-row JSON
// requests over Connections connections for Duration, then does the same
// with the drift monitor on, and checks that the monitor judged the
// traffic against the profile (GET /admin/models/{m}/drift names its
// source). Every phase gets a fresh server. engine.Init must have been
// called.
//
// Servers listen on 127.0.0.1 only and are stopped before DriftCost
// returns, whatever happens. An error means the scenario could not be
// run; failed requests and a missed goal are reported, not errors.
func DriftCost(ctx context.Context, cfg DriftConfig) (*DriftReport, error) {
	if err := cfg.setDefaults("drift"); err != nil {
		return nil, err
	}
	rep := &DriftReport{RoundsReport: cfg.report()}
	var err error
	if rep.Phases, err = runRounds(ctx, &cfg.RoundsConfig, "drift", &driftRun{cfg: &cfg}); err != nil {
		return nil, err
	}
	judgeRounds(&rep.RoundsReport, rep.Phases)
	rep.Goals = []Goal{newGoal("small req/s with drift sampling at 1.0 ÷ monitor off", rep.Ratio, ">=", MinDriftRatio, "", rep.Ratio > 0)}
	return rep, nil
}

// driftRun is a run of DriftCost: its registry.
type driftRun struct {
	cfg      *DriftConfig
	registry string
}

// setup publishes the small model with its profile and gives it the
// sampling policy; it implements roundsScenario.
func (d *driftRun) setup(ctx context.Context, st *stage) error {
	d.registry = st.registry("drift")
	profile, err := ops.ProfileOf(ctx, st.small.mlp.Model().Marshal(), nil, nil, d.cfg.Engine,
		ops.ProfileData{CSV: driftReference(st.small.mlp.Features()), Label: "label", Source: driftSource})
	if err != nil {
		return fmt.Errorf("bench: drift: %w", err)
	}
	if _, err := st.publish(d.registry, st.small.mlp, modelstore.PublishOptions{Profile: profile}); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d.registry, SmallModel, modelstore.PolicyFile), []byte(driftPolicy), 0o644); err != nil {
		return fmt.Errorf("bench: drift: %w", err)
	}
	return nil
}

// phase starts a server with the drift monitor off or, as the variant,
// on, measures the load against it and stops it; it implements
// roundsScenario.
func (d *driftRun) phase(ctx context.Context, st *stage, round int, drift bool) (DriftPhase, error) {
	p := DriftPhase{RoundPhase: RoundPhase{Round: round}, Drift: drift}
	name, extra := "switchyard (drift monitor off)", []string{"--drift=false", "--prediction-log=false"}
	if drift {
		name, extra = "switchyard (drift, rate 1.0)", []string{"--prediction-log=false"}
	}
	err := st.withServer(ctx, name, d.registry, extra, func(ch *child) error {
		adm := newAdminClient(ch.addr, SmallModel)
		defer adm.close()
		if err := adm.await(ctx, DefaultCycleTimeout, "version 1 serving", func(m *adminModel) bool { return m.ServingVersion == 1 }); err != nil {
			return err
		}
		var err error
		if p.Result, err = Run(ctx, d.cfg.load(ch.addr, SmallModel, st.small.body)); err != nil {
			return err
		}
		if !drift {
			return nil
		}
		// The monitor saw the traffic: it read the version's profile.
		adm.req.Reset()
		adm.req.SetRequestURI(adm.base + "/drift")
		if err := adm.do("GET " + adm.base + "/drift"); err != nil {
			return fmt.Errorf("bench: drift: %w", err)
		}
		if !bytes.Contains(adm.resp.Body(), []byte(driftSource)) {
			return fmt.Errorf("bench: drift: the drift report does not name the profile, so the monitor did not judge the traffic: %.300s", adm.resp.Body())
		}
		return nil
	})
	return p, err
}

// driftReference returns the reference data of the small model's
// profile: driftReferenceRows rows of features drawn as the requests'
// are (randomFloats), and a label column, as CSV.
func driftReference(features int) []byte {
	vals := make([]float32, driftReferenceRows*features)
	randomFloats(vals, driftReferenceSeed)
	var b bytes.Buffer
	for j := range features {
		fmt.Fprintf(&b, "f%d,", j)
	}
	b.WriteString("label\n")
	for i := range driftReferenceRows {
		for _, v := range vals[i*features : (i+1)*features] {
			b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
			b.WriteByte(',')
		}
		b.WriteString("0\n")
	}
	return b.Bytes()
}

// WriteText writes the report as fixed-width tables for people to read:
// the phases, the ratio of each round and the goal.
func (r *DriftReport) WriteText(w io.Writer) error {
	return writeRounds(w, &r.RoundsReport, r.Phases, &roundsText{
		flag: "--drift-cost",
		intro: fmt.Sprintf("model %s (MLP 30-64-2), one-row JSON requests over %d connections, %v after %v warm-up per phase; %d rounds,\n"+
			"each a fresh server with the drift monitor off (--drift=false), then one with it on, sampling every prediction\n",
			SmallModel, r.Connections, r.Duration, r.Warmup, r.Rounds),
		column: "drift", width: 16, labels: [2]string{"monitor off", "sampled, 1.0"}, more: "÷ off",
		notes: "(÷ off: the round's req/s with drift sampling at 1.0 over its req/s with the monitor off)\n",
	})
}
