package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// buildSwitchyard builds this module's switchyard command into a
// temporary directory: the scenarios start it as their servers, which
// the test binary cannot stand in for.
func buildSwitchyard(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// smokeRounds runs an A/B scenario for one round of short phases
// against a freshly built switchyard and returns its report; it fails
// the test, with the progress lines, if the scenario fails.
func smokeRounds[R any](t *testing.T, run func(context.Context, RoundsConfig) (R, error)) R {
	t.Helper()
	var progress bytes.Buffer
	rep, err := run(t.Context(), RoundsConfig{Binary: buildSwitchyard(t), Dir: t.TempDir(), Rounds: 1,
		Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, Connections: 16, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	return rep
}

// checkReport checks that rep encodes as JSON and that its text holds
// each of wants.
func checkReport(t *testing.T, rep interface{ WriteText(io.Writer) error }, wants ...string) {
	t.Helper()
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("json.Marshal(report) = %v", err)
	}
	var out strings.Builder
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range wants {
		if !strings.Contains(out.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, out.String())
		}
	}
}

// verdict is how the text reports judge g.
func verdict(g Goal) string { return map[bool]string{true: "PASS", false: "MISS"}[g.Pass] }

// checkRoundPhases checks that phases alternate baseline and variant, as
// isVariant tells them apart, and that every one answered every request.
func checkRoundPhases[P roundPhaser](t *testing.T, phases []P, rounds int, isVariant func(P) bool) {
	t.Helper()
	if len(phases) != 2*rounds {
		t.Fatalf("report has %d phases; want %d", len(phases), 2*rounds)
	}
	for i, p := range phases {
		r := p.roundPhase().Result
		if isVariant(p) != (i%2 == 1) {
			t.Errorf("phase %d is the variant: %v; want the baseline first, then the variant", i, isVariant(p))
		}
		if r.OK == 0 || r.Errors != 0 || r.RequestsPerSec <= 0 {
			t.Errorf("phase %d: %d ok, %d errors, %v req/s (status %v, %s)", i, r.OK, r.Errors, r.RequestsPerSec, r.Status, r.FirstError)
		}
	}
}

// checkRatio checks a report of one round: one positive ratio, its own
// median, one goal measured and nothing failed.
func checkRatio(t *testing.T, r *RoundsReport) {
	t.Helper()
	if len(r.RoundRatios) != 1 || r.RoundRatios[0] <= 0 || r.Ratio != r.RoundRatios[0] || r.Failed != 0 {
		t.Errorf("round ratios %v, median %v, %d failed; want one positive ratio, its own median, none failed",
			r.RoundRatios, r.Ratio, r.Failed)
	}
	if len(r.Goals) != 1 || r.Goals[0].Missing {
		t.Fatalf("goals %+v; want the ratio's, measured", r.Goals)
	}
}
