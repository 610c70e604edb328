package bench

import (
	"context"
	"testing"

	"github.com/switchyard-ml/switchyard/gate"
)

// TestGateCostSmoke runs the gate-cost scenario for one round of short
// phases and a small evaluation set against a real `switchyard serve`,
// built from this module: the test binary cannot stand in for it. It
// checks that every measurement was taken and the gate judged the whole
// set, never how fast.
func TestGateCostSmoke(t *testing.T) {
	const rows = 20_000
	rep := smokeRounds(t, func(ctx context.Context, cfg RoundsConfig) (*GateReport, error) {
		return GateCost(ctx, GateConfig{RoundsConfig: cfg, Rows: rows})
	})
	checkRoundPhases(t, rep.Phases, 1, func(p GatePhase) bool { return p.Gating })
	if g := rep.Phases[1]; g.Version != 2 || g.Gate <= 0 || g.RowsPerSec <= 0 || g.StableRowsPerSec <= 0 {
		t.Errorf("gating phase judged version %d in %v at %v rows/s (stable %v); want version 2, a gate, both rates",
			g.Version, g.Gate, g.RowsPerSec, g.StableRowsPerSec)
	}
	if rep.Rows != rows || rep.BatchRows != gate.DefaultBatchRows || rep.Concurrency != gate.DefaultConcurrency || rep.Failed != 0 {
		t.Errorf("report has %d rows, batches of %d, concurrency %d, %d failed; want %d, %d, %d, none",
			rep.Rows, rep.BatchRows, rep.Concurrency, rep.Failed, rows, gate.DefaultBatchRows, gate.DefaultConcurrency)
	}
	if len(rep.RoundP99Ratios) != 1 || rep.P99Ratio != rep.RoundP99Ratios[0] || len(rep.RoundRatios) != 1 || rep.Ratio != rep.RoundRatios[0] {
		t.Errorf("round ratios p99 %v, req/s %v, medians %v, %v; want one of each, its own median",
			rep.RoundP99Ratios, rep.RoundRatios, rep.P99Ratio, rep.Ratio)
	}
	if len(rep.Goals) != 2 || rep.Goals[0].Missing || rep.Goals[1].Missing {
		t.Fatalf("goals %+v; want the two ratios', measured", rep.Goals)
	}
	checkReport(t, rep, "--gate-cost", "no gate", "gating", "median", "p99 while a gate runs ÷ with no gate", "req/s while a gate runs")
}
