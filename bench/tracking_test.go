package bench

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTrackingCostSmoke runs the tracking-cost scenario for one round of
// short phases against a real `switchyard serve`, built from this module:
// the test binary cannot stand in for it. It checks that every
// measurement was taken and that the MLflow load reached the store, never
// how fast.
func TestTrackingCostSmoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var progress bytes.Buffer
	rep, err := TrackingCost(t.Context(), TrackingConfig{
		RoundsConfig: RoundsConfig{Binary: bin, Dir: t.TempDir(), Rounds: 1, Duration: 300 * time.Millisecond,
			Warmup: 100 * time.Millisecond, Connections: 16, Progress: &progress},
	})
	if err != nil {
		t.Fatalf("TrackingCost = %v\n%s", err, progress.String())
	}
	if len(rep.Phases) != 2 || rep.Phases[0].Tracking || !rep.Phases[1].Tracking {
		t.Fatalf("report has phases %+v; want one with tracking closed, then one with it open", rep.Phases)
	}
	for _, p := range rep.Phases {
		if r := p.Result; r.OK == 0 || r.Errors != 0 || r.RequestsPerSec <= 0 {
			t.Errorf("tracking %v: %d ok, %d errors, %v req/s (status %v, %s)", p.Tracking, r.OK, r.Errors, r.RequestsPerSec, r.Status, r.FirstError)
		}
	}
	if rep.Phases[0].MLflow != nil {
		t.Errorf("the phase with tracking closed has an MLflow load: %+v", rep.Phases[0].MLflow)
	}
	if l := rep.Phases[1].MLflow; l == nil || l.Runs != MLflowRuns || l.Metrics == 0 || l.Errors != 0 {
		t.Fatalf("MLflow load %+v; want %d runs, some metrics logged and no error", l, MLflowRuns)
	}
	if m := rep.MLflow; m.Metrics != rep.Phases[1].MLflow.Metrics || m.MetricsPerSec <= 0 || rep.Failed != 0 {
		t.Errorf("report sums the MLflow load as %+v with %d failed; want the one phase's metrics at a positive rate, none failed", m, rep.Failed)
	}
	if len(rep.RoundRatios) != 1 || rep.RoundRatios[0] <= 0 || rep.Ratio != rep.RoundRatios[0] {
		t.Errorf("round ratios %v, median %v; want one positive ratio, its own median", rep.RoundRatios, rep.Ratio)
	}
	if len(rep.Goals) != 1 || rep.Goals[0].Missing {
		t.Fatalf("goals %+v; want the ratio's, measured", rep.Goals)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("json.Marshal(report) = %v", err)
	}
	var out strings.Builder
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	verdict := map[bool]string{true: "PASS", false: "MISS"}[rep.Goals[0].Pass]
	for _, want := range []string{"--tracking-cost", "closed", "open + MLflow load", "median", "MLflow load:", "÷ with tracking closed", verdict} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, out.String())
		}
	}
}
