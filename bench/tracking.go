package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// Defaults and target of TrackingCost.
const (
	// DefaultMLflowRate is the MLflow load's total rate of log-metric
	// requests, per second.
	DefaultMLflowRate = 50
	// MLflowRuns is the number of runs the MLflow load creates and then
	// logs metrics to, in turn.
	MLflowRuns = 4
	// MinTrackingRatio is the target for the small model's requests per
	// second with the tracking store open and the MLflow load running over
	// those with the store closed.
	MinTrackingRatio = 0.97
)

// TrackingConfig configures TrackingCost. The zero value runs the
// scenario with the defaults it names.
type TrackingConfig struct {
	// RoundsConfig sets the rounds: a round is a phase with the tracking
	// store closed followed by one with it open, a fresh server each phase.
	RoundsConfig
	// MLflowRate is the MLflow load's total log-metric requests per
	// second. 0 means DefaultMLflowRate.
	MLflowRate float64
}

// TrackingPhase is one phase of TrackingCost: a fresh server with the
// tracking store closed or open, under the inference load.
type TrackingPhase struct {
	// RoundPhase holds the round and what the inference load measured.
	RoundPhase
	// Tracking reports the store open, with the MLflow load running;
	// otherwise the server ran with --no-tracking.
	Tracking bool `json:"tracking"`
	// MLflow is what the MLflow load did; nil with the store closed.
	MLflow *MLflowLoad `json:"mlflow,omitempty"`
}

// progress implements roundsPhase.
func (p TrackingPhase) progress() (label, more string) {
	label = "closed"
	if p.Tracking {
		label = "open + MLflow load"
	}
	return fmt.Sprintf("tracking %-18s", label), p.MLflow.summary()
}

// TrackingReport is the outcome of TrackingCost. It is a plain value; its
// JSON encoding is the machine-readable report. Its RoundRatios are of
// the rounds' requests per second with the store open over those with it
// closed; its Failed counts the MLflow load's errors too; its goal is
// Ratio at least MinTrackingRatio, missing without a ratio or without a
// metric logged.
type TrackingReport struct {
	RoundsReport
	// MLflowRate repeats the configuration after defaults.
	MLflowRate float64 `json:"mlflow_rate"`
	// Phases are the phases in the order run: closed, open, closed, open
	// and so on, two per round.
	Phases []TrackingPhase `json:"phases"`
	// MLflow sums the MLflow load over every phase with the store open.
	MLflow MLflowLoad `json:"mlflow"`
}

// TrackingCost measures what the embedded tracking store costs the
// inference hot path. It publishes Compare's small model into a temporary
// registry, then, Rounds times, starts `switchyard serve --no-tracking` on
// it and drives one-row JSON requests over Connections connections for
// Duration, then does the same with the tracking store open while an
// MLflow load runs beside it: MLflowRuns runs created, then log-metric
// requests to them at MLflowRate over one connection of its own. Every
// phase gets a fresh server. engine.Init must have been called.
//
// Servers listen on 127.0.0.1 only and are stopped before TrackingCost
// returns, whatever happens. An error means the scenario could not be
// run; failed requests and a missed goal are reported, not errors.
func TrackingCost(ctx context.Context, cfg TrackingConfig) (*TrackingReport, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	phases, err := runRounds(ctx, &cfg.RoundsConfig, "tracking", &cfg)
	if err != nil {
		return nil, err
	}
	rep := &TrackingReport{RoundsReport: cfg.report(), MLflowRate: cfg.MLflowRate, Phases: phases}
	rep.judge()
	return rep, nil
}

func (cfg *TrackingConfig) setDefaults() error {
	if err := cfg.RoundsConfig.setDefaults("tracking"); err != nil {
		return err
	}
	if cfg.MLflowRate < 0 {
		return errors.New("bench: tracking: negative MLflow rate")
	}
	cfg.MLflowRate = cmp.Or(cfg.MLflowRate, DefaultMLflowRate)
	return nil
}

// setup publishes the small model; it implements roundsScenario.
func (cfg *TrackingConfig) setup(_ context.Context, st *stage) error {
	_, err := st.publish(st.registry("registry"), st.small.mlp, modelstore.PublishOptions{})
	return err
}

// phase starts a server with the tracking store closed or, as the
// variant, open, measures the inference load against it (beside the
// MLflow load if open) and stops it; it implements roundsScenario.
func (cfg *TrackingConfig) phase(ctx context.Context, st *stage, round int, open bool) (TrackingPhase, error) {
	p := TrackingPhase{RoundPhase: RoundPhase{Round: round}, Tracking: open}
	name, extra := "switchyard (tracking open)", []string{"--prediction-log=false"} // the log has a scenario of its own: LogCost
	if !open {
		name, extra = "switchyard --no-tracking", []string{"--no-tracking"}
	}
	err := st.withServer(ctx, name, st.registry("registry"), extra, func(ch *child) error {
		mctx, stop := context.WithCancel(ctx)
		defer stop()
		var wg sync.WaitGroup
		if open {
			p.MLflow = &MLflowLoad{} // the load's alone until wg.Wait returns
			wg.Go(func() { runMLflowLoad(mctx, ch.addr, cfg.MLflowRate, p.MLflow) })
		}
		var err error
		p.Result, err = Run(ctx, cfg.load(ch.addr, SmallModel, st.small.body))
		stop()
		wg.Wait()
		return err
	})
	return p, err
}

// judge fills in the ratios, the sums and the goal.
func (r *TrackingReport) judge() {
	judgeRounds(&r.RoundsReport, r.Phases)
	m := &r.MLflow
	for _, p := range r.Phases {
		if l := p.MLflow; l != nil {
			m.Runs, m.Requests, m.Metrics, m.Errors, m.Seconds = m.Runs+l.Runs, m.Requests+l.Requests,
				m.Metrics+l.Metrics, m.Errors+l.Errors, m.Seconds+l.Seconds
			m.FirstError = cmp.Or(m.FirstError, l.FirstError)
		}
	}
	if m.Seconds > 0 {
		m.MetricsPerSec = float64(m.Metrics) / m.Seconds
	}
	r.Failed += m.Errors
	r.Goals = []Goal{newGoal("small req/s with tracking open and MLflow load ÷ with tracking closed",
		r.Ratio, ">=", MinTrackingRatio, "", r.Ratio > 0 && m.Metrics > 0)}
}

// WriteText writes the report as fixed-width tables for people to read:
// the phases, the ratio of each round, the MLflow load and the goal.
func (r *TrackingReport) WriteText(w io.Writer) error {
	m := &r.MLflow
	notes := fmt.Sprintf("(÷ closed: the round's req/s with tracking open over those with it closed; metrics/s: MLflow metrics logged)\n\n"+
		"MLflow load: %d runs, %d requests, %d metrics logged at %.1f/s (target %g/s), %d errors\n",
		m.Runs, m.Requests, m.Metrics, m.MetricsPerSec, r.MLflowRate, m.Errors)
	if m.FirstError != "" {
		notes += fmt.Sprintf("first MLflow error: %s\n", m.FirstError)
	}
	return writeRounds(w, &r.RoundsReport, r.Phases, &roundsText{
		flag: "--tracking-cost",
		intro: fmt.Sprintf("model %s (MLP 30-64-2), one-row JSON requests over %d connections, %v after %v warm-up per phase; %d rounds,\n"+
			"each a fresh server with the tracking store closed (serve --no-tracking), then one with it open beside an MLflow\n"+
			"load: %d runs created, then log-metric to each in turn, %g req/s in all, over a connection of its own\n",
			SmallModel, r.Connections, r.Duration, r.Warmup, r.Rounds, MLflowRuns, r.MLflowRate),
		column: "tracking", width: 20, labels: [2]string{"closed", "open + MLflow load"},
		more: fmt.Sprintf(" %10s %10s %7s", "÷ closed", "metrics/s", "errors"),
		row: func(i int) string {
			l := r.Phases[i].MLflow
			return fmt.Sprintf(" %10s %10.1f %7d", formatFloatOrNA(r.RoundRatios[i/2]), l.MetricsPerSec, l.Errors)
		},
		notes:     notes,
		failed:    "requests failed (inference and MLflow): the ratio measures a server that did not answer them all",
		goalWidth: 72,
	})
}
