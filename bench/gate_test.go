package bench

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// TestGateEvalSet checks the evaluation set's shape, that it labels both
// classes, and that it is the same for the same arguments.
func TestGateEvalSet(t *testing.T) {
	m := onnx.RandomMLP(1, onnx.ActivationSoftmax, 3, 4, 2)
	set := gateEvalSet(m, 500, 1)
	lines := strings.Split(strings.TrimSuffix(string(set), "\n"), "\n")
	if len(lines) != 501 || lines[0] != "f0,f1,f2,label" {
		t.Fatalf("gateEvalSet gave %d lines, header %q; want 501, %q", len(lines), lines[0], "f0,f1,f2,label")
	}
	labels := map[string]int{}
	for _, l := range lines[1:] {
		cells := strings.Split(l, ",")
		if len(cells) != 4 {
			t.Fatalf("row %q has %d cells; want 4", l, len(cells))
		}
		labels[cells[3]]++
	}
	if len(labels) != 2 || labels["0"] == 0 || labels["1"] == 0 {
		t.Errorf("labels %v; want both 0 and 1", labels)
	}
	if !bytes.Equal(set, gateEvalSet(m, 500, 1)) || bytes.Equal(set, gateEvalSet(m, 500, 2)) {
		t.Errorf("gateEvalSet is not a function of its seed")
	}
}

// TestGateCostSmoke runs the gate-cost scenario for one round of short
// phases and a small evaluation set against a real `switchyard serve`,
// built from this module: the test binary cannot stand in for it. It
// checks that every measurement was taken and the gate judged the whole
// set, never how fast.
func TestGateCostSmoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const rows = 20_000
	var progress bytes.Buffer
	rep, err := GateCost(t.Context(), GateConfig{
		RoundsConfig: RoundsConfig{Binary: bin, Dir: t.TempDir(), Rounds: 1, Duration: 300 * time.Millisecond,
			Warmup: 100 * time.Millisecond, Connections: 16, Progress: &progress},
		Rows: rows,
	})
	if err != nil {
		t.Fatalf("GateCost = %v\n%s", err, progress.String())
	}
	if len(rep.Phases) != 2 || rep.Phases[0].Gating || !rep.Phases[1].Gating {
		t.Fatalf("report has phases %+v; want one with no gate, then one gating", rep.Phases)
	}
	for _, p := range rep.Phases {
		if r := p.Result; r.OK == 0 || r.Errors != 0 || r.RequestsPerSec <= 0 {
			t.Errorf("gating %v: %d ok, %d errors, %v req/s (status %v, %s)", p.Gating, r.OK, r.Errors, r.RequestsPerSec, r.Status, r.FirstError)
		}
	}
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
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("json.Marshal(report) = %v", err)
	}
	var out strings.Builder
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--gate-cost", "no gate", "gating", "median", "p99 while a gate runs ÷ with no gate", "req/s while a gate runs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, out.String())
		}
	}
}
