package bench

import (
	"context"
	"testing"
)

// TestLogCostSmoke runs the log-cost scenario for one round of short
// phases against a real `switchyard serve`, built from this module. It
// checks that every measurement was taken, including the feedback rate
// (which needs every label accepted, so the log held each prediction),
// never how fast.
func TestLogCostSmoke(t *testing.T) {
	rep := smokeRounds(t, func(ctx context.Context, cfg RoundsConfig) (*LogReport, error) {
		return LogCost(ctx, LogConfig{RoundsConfig: cfg})
	})
	checkRoundPhases(t, rep.Phases, 1, func(p LogPhase) bool { return p.Log })
	checkRatio(t, &rep.RoundsReport)
	if rep.LabelsPerSec <= 0 {
		t.Errorf("no feedback rate: %+v", rep.Phases)
	}
	checkReport(t, rep, "--log-cost", "both off", "both on, 1.0", "median", "feedback ingest", verdict(rep.Goals[0]))
}
