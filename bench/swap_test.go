package bench

import (
	"bytes"
	"testing"
	"time"
)

// TestSwapSmoke runs the hot-swap scenario with three cycles and short
// loads against a real `switchyard serve`, built from this module: the
// test binary cannot stand in for it. It checks that every measurement
// was taken, never how fast.
func TestSwapSmoke(t *testing.T) {
	rep, progress, err := runSwap(t, 3, false)
	if err != nil {
		t.Fatalf("Swap = %v\n%s", err, progress.String())
	}
	if rep.Cycles != 3 || len(rep.SwapLatencies) != 3 || rep.SwapLatency.Count != 3 {
		t.Fatalf("report has %d cycles, %d swap latencies summarised as %d; want 3 each", rep.Cycles, len(rep.SwapLatencies), rep.SwapLatency.Count)
	}
	for i, d := range rep.SwapLatencies {
		if d <= 0 {
			t.Errorf("cycle %d: swap latency %v; want positive", i+1, d)
		}
	}
	if rep.RSS <= 0 || rep.RSSAtCycle != 0 || rep.RSSRatio != 0 {
		t.Errorf("RSS %d after the last cycle, %d after cycle %d, ratio %v; want positive, and none after a cycle that never ran",
			rep.RSS, rep.RSSAtCycle, RSSCycle, rep.RSSRatio)
	}
	if b := rep.Baseline; b.OK == 0 || b.Errors != 0 {
		t.Errorf("load without swaps: %d ok, %d errors (status %v, %s)", b.OK, b.Errors, b.Status, b.FirstError)
	}
	if s := rep.Swapping; s.Requests == 0 || rep.Requests != s.Requests || rep.Failed != s.Errors+rep.Probes.Errors {
		t.Errorf("load during swaps: %d requests, report says %d requests and %d failed; probes %d errors",
			s.Requests, rep.Requests, rep.Failed, rep.Probes.Errors)
	}
	if rep.Probes.Requests < 3 {
		t.Errorf("%d probes for 3 cycles", rep.Probes.Requests)
	}
	if len(rep.Goals) != 1 || rep.Goals[0].Missing {
		t.Fatalf("goals %+v; want the failed-request goal alone, measured (3 cycles are too few for memory's)", rep.Goals)
	}
	checkReport(t, rep, "--swap-cycles 3", "without swaps", "during swaps", "swap latency", "server RSS", "failed requests",
		"p99 during swaps", verdict(rep.Goals[0]))
}

// TestSwapRolloutSmoke runs the hot-swap scenario with two rollout cycles
// (canary through every step, finish, roll back, blue/green, roll back)
// and short loads against a real `switchyard serve`, built from this
// module. It checks that every cycle ran and every measurement was taken,
// never how fast.
func TestSwapRolloutSmoke(t *testing.T) {
	rep, progress, err := runSwap(t, 2, true)
	if err != nil {
		t.Fatalf("Swap = %v\n%s", err, progress.String())
	}
	if !rep.Rollout || rep.Cycles != 2 || len(rep.SwapLatencies) != 2 {
		t.Fatalf("report has rollout %v, %d cycles, %d cycle times; want rollout, 2 each", rep.Rollout, rep.Cycles, len(rep.SwapLatencies))
	}
	if s := rep.Swapping; s.Requests == 0 || rep.Failed != s.Errors+rep.Probes.Errors {
		t.Errorf("load during cycles: %d requests, report says %d failed; probes %d errors", s.Requests, rep.Failed, rep.Probes.Errors)
	}
	// Each cycle waits for four answers: finish, roll back, blue/green,
	// roll back.
	if rep.Probes.Requests < 8 {
		t.Errorf("%d probes for 2 rollout cycles; want at least 8", rep.Probes.Requests)
	}
	if rep.ReadyVersions <= 0 || rep.RSS <= 0 {
		t.Errorf("%d ready versions and RSS %d after the last cycle; want both positive", rep.ReadyVersions, rep.RSS)
	}
	if len(rep.Goals) != 2 || rep.Goals[0].Missing || rep.Goals[1].Missing {
		t.Fatalf("goals %+v; want the failed-request and ready-version goals, measured", rep.Goals)
	}
	checkReport(t, rep, "--swap-cycles 2 --rollout-cycles", "rollout cycles", "rollout cycle", "ready versions after the last cycle", "server RSS")
}

// runSwap runs the hot-swap scenario, with cycles cycles of whole
// rollouts or of plain swaps, and short loads against a freshly built
// switchyard; it returns its progress lines beside its report.
func runSwap(t *testing.T, cycles int, rollout bool) (*SwapReport, *bytes.Buffer, error) {
	t.Helper()
	var progress bytes.Buffer
	rep, err := Swap(t.Context(), SwapConfig{Binary: buildSwitchyard(t), Dir: t.TempDir(), Cycles: cycles,
		Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, Connections: 16, Progress: &progress, Rollout: rollout})
	return rep, &progress, err
}
