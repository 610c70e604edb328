package bench

import (
	"context"
	"testing"
)

// TestDriftCostSmoke runs the drift-cost scenario for one round of short
// phases against a real `switchyard serve`, built from this module. It
// checks that every measurement was taken and that the monitor read the
// profile (DriftCost fails otherwise), never how fast.
func TestDriftCostSmoke(t *testing.T) {
	rep := smokeRounds(t, func(ctx context.Context, cfg RoundsConfig) (*DriftReport, error) {
		return DriftCost(ctx, DriftConfig{RoundsConfig: cfg})
	})
	checkRoundPhases(t, rep.Phases, 1, func(p DriftPhase) bool { return p.Drift })
	checkRatio(t, &rep.RoundsReport)
	checkReport(t, rep, "--drift-cost", "monitor off", "sampled, 1.0", "median", "÷ monitor off", verdict(rep.Goals[0]))
}
