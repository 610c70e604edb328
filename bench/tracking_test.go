package bench

import (
	"context"
	"testing"
)

// TestTrackingCostSmoke runs the tracking-cost scenario for one round of
// short phases against a real `switchyard serve`, built from this module.
// It checks that every measurement was taken and that the MLflow load
// reached the store, never how fast.
func TestTrackingCostSmoke(t *testing.T) {
	rep := smokeRounds(t, func(ctx context.Context, cfg RoundsConfig) (*TrackingReport, error) {
		return TrackingCost(ctx, TrackingConfig{RoundsConfig: cfg})
	})
	checkRoundPhases(t, rep.Phases, 1, func(p TrackingPhase) bool { return p.Tracking })
	if rep.Phases[0].MLflow != nil {
		t.Errorf("the phase with tracking closed has an MLflow load: %+v", rep.Phases[0].MLflow)
	}
	if l := rep.Phases[1].MLflow; l == nil || l.Runs != MLflowRuns || l.Metrics == 0 || l.Errors != 0 {
		t.Fatalf("MLflow load %+v; want %d runs, some metrics logged and no error", l, MLflowRuns)
	}
	if m := rep.MLflow; m.Metrics != rep.Phases[1].MLflow.Metrics || m.MetricsPerSec <= 0 {
		t.Errorf("report sums the MLflow load as %+v; want the one phase's metrics at a positive rate", m)
	}
	checkRatio(t, &rep.RoundsReport)
	checkReport(t, rep, "--tracking-cost", "closed", "open + MLflow load", "median", "MLflow load:", "÷ with tracking closed", verdict(rep.Goals[0]))
}
