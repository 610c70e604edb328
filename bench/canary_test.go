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

// TestCanaryCostSmoke runs the canary-cost scenario for one round of
// short phases against a real `switchyard serve`, built from this module:
// the test binary cannot stand in for it. It checks that every
// measurement was taken, never how fast.
func TestCanaryCostSmoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var progress bytes.Buffer
	rep, err := CanaryCost(t.Context(), CanaryConfig{
		RoundsConfig: RoundsConfig{Binary: bin, Dir: t.TempDir(), Rounds: 1, Duration: 300 * time.Millisecond,
			Warmup: 100 * time.Millisecond, Connections: 16, Progress: &progress},
	})
	if err != nil {
		t.Fatalf("CanaryCost = %v\n%s", err, progress.String())
	}
	if len(rep.Phases) != 2 || rep.Phases[0].TwoArm || !rep.Phases[1].TwoArm {
		t.Fatalf("report has phases %+v; want one with one version, then one with two arms", rep.Phases)
	}
	for _, p := range rep.Phases {
		if r := p.Result; r.OK == 0 || r.Errors != 0 || r.RequestsPerSec <= 0 {
			t.Errorf("two-arm %v: %d ok, %d errors, %v req/s (status %v, %s)", p.TwoArm, r.OK, r.Errors, r.RequestsPerSec, r.Status, r.FirstError)
		}
	}
	if rep.Weight != CanaryWeight || rep.Failed != 0 {
		t.Errorf("report has weight %d bp and %d failed; want %d and none", rep.Weight, rep.Failed, CanaryWeight)
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
	for _, want := range []string{"--canary-cost", "one version", "two-arm canary", "median", "÷ with one version", verdict} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, out.String())
		}
	}
}
