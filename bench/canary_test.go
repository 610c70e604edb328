package bench

import (
	"context"
	"testing"
)

// TestCanaryCostSmoke runs the canary-cost scenario for one round of
// short phases against a real `switchyard serve`, built from this module.
// It checks that every measurement was taken, never how fast.
func TestCanaryCostSmoke(t *testing.T) {
	rep := smokeRounds(t, func(ctx context.Context, cfg RoundsConfig) (*CanaryReport, error) {
		return CanaryCost(ctx, CanaryConfig{RoundsConfig: cfg})
	})
	checkRoundPhases(t, rep.Phases, 1, func(p CanaryPhase) bool { return p.TwoArm })
	if rep.Weight != CanaryWeight {
		t.Errorf("report has weight %d bp; want %d", rep.Weight, CanaryWeight)
	}
	checkRatio(t, &rep.RoundsReport)
	checkReport(t, rep, "--canary-cost", "one version", "two-arm canary", "median", "÷ with one version", verdict(rep.Goals[0]))
}
