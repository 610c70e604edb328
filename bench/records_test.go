package bench

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRecordsBodies checks that the records request and the V2 request
// carry the same values: the V2 row is the records instance encoded as
// recordsFeatures says.
func TestRecordsBodies(t *testing.T) {
	records, v2 := recordsBodies(1)
	var rec struct{ Instances []map[string]any }
	var inf struct {
		Inputs []struct {
			Name  string
			Shape []int
			Data  []float32
		}
	}
	if err := json.Unmarshal(records, &rec); err != nil || len(rec.Instances) != 1 {
		t.Fatalf("records body %s: %v", records, err)
	}
	if err := json.Unmarshal(v2, &inf); err != nil || len(inf.Inputs) != 1 || !slices.Equal(inf.Inputs[0].Shape, []int{1, 30}) {
		t.Fatalf("V2 body %s: %v", v2, err)
	}
	inst, row := rec.Instances[0], inf.Inputs[0].Data
	var want []float32
	for _, f := range recordsFeatures() {
		switch v := inst[f.Name].(type) {
		case float64:
			want = append(want, float32(v))
		case string:
			for _, c := range f.Values {
				want = append(want, map[bool]float32{true: 1}[c == v])
			}
		case bool:
			want = append(want, map[bool]float32{true: 1}[v])
		default:
			t.Fatalf("records body %s: field %s is %#v", records, f.Name, inst[f.Name])
		}
	}
	if len(inst) != 28 || !slices.Equal(row, want) {
		t.Fatalf("V2 row %v; the records instance %v encodes as %v", row, inst, want)
	}
}

// TestRecordsCostSmoke runs the records-cost scenario for one round of
// short phases against a real `switchyard serve`, built from this module.
// It checks that every measurement was taken, never how fast.
func TestRecordsCostSmoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var progress bytes.Buffer
	rep, err := RecordsCost(t.Context(), RecordsConfig{
		RoundsConfig: RoundsConfig{Binary: bin, Dir: t.TempDir(), Rounds: 1, Duration: 300 * time.Millisecond,
			Warmup: 100 * time.Millisecond, Connections: 16, Progress: &progress},
	})
	if err != nil {
		t.Fatalf("RecordsCost = %v\n%s", err, progress.String())
	}
	if len(rep.Phases) != 2 || rep.Phases[0].Records || !rep.Phases[1].Records {
		t.Fatalf("report has phases %+v; want V2, then records", rep.Phases)
	}
	for _, p := range rep.Phases {
		if r := p.Result; r.OK == 0 || r.Errors != 0 || r.RequestsPerSec <= 0 {
			t.Errorf("records %v: %d ok, %d errors, %v req/s (status %v, %s)", p.Records, r.OK, r.Errors, r.RequestsPerSec, r.Status, r.FirstError)
		}
	}
	if len(rep.RoundRatios) != 1 || rep.RoundRatios[0] <= 0 || rep.Ratio != rep.RoundRatios[0] || rep.Failed != 0 {
		t.Errorf("round ratios %v, median %v, %d failed; want one positive ratio, its own median, none failed",
			rep.RoundRatios, rep.Ratio, rep.Failed)
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
	for _, want := range []string{"--records-cost", "V2", "records", "median", "÷ one-row V2", verdict} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, out.String())
		}
	}
}
