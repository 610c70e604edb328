package bench

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
)

// runRow runs model on one row on the real engine and returns its output.
func runRow(t *testing.T, model []byte, row []float32) []float32 {
	t.Helper()
	s, err := engine.New(model, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := make([]byte, 4*len(row))
	for i, v := range row {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	in := []engine.Tensor{{Name: s.Signature().Inputs[0].Name, DType: engine.FP32, Shape: []int64{1, int64(len(row))}, Data: data}}
	out := make([]engine.Tensor, 1)
	if err := s.Run(in, out); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(out[0].Data)/4)
	for i := range got {
		got[i] = math.Float32frombits(binary.LittleEndian.Uint32(out[0].Data[4*i:]))
	}
	return got
}

// TestJudgmentCandidates checks the scenario's candidates on onnxruntime:
// the slower one answers exactly as stable does, and the failing one too
// except on rows whose first feature is positive, where it gives NaN.
func TestJudgmentCandidates(t *testing.T) {
	base := compareModels()[0].mlp
	bodies := judgmentBodies(base.Features())
	rows := make([][]float32, 0, 3)
	for _, b := range [][]byte{bodies[0], bodies[1], bodies[7]} {
		var req struct {
			Inputs []struct{ Data []float32 } `json:"inputs"`
		}
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, req.Inputs[0].Data)
	}
	if rows[0][0] <= 0 || rows[1][0] >= 0 || rows[2][0] >= 0 {
		t.Fatalf("bodies' first features %v, %v, %v; want positive, negative, negative", rows[0][0], rows[1][0], rows[2][0])
	}
	slow := slowerModel(base, 64, 3).Marshal()
	failing := failingMLP(base).Model().Marshal()
	stable := base.Model().Marshal()
	for i, row := range rows {
		want := runRow(t, stable, row)
		if got := runRow(t, slow, row); !equalFloats(got, want) {
			t.Errorf("row %d: slower model = %v; want stable's %v", i, got, want)
		}
		got := runRow(t, failing, row)
		switch {
		case i == 0 && !math.IsNaN(float64(got[0])):
			t.Errorf("row %d (first feature positive): failing model = %v; want NaN", i, got)
		case i > 0 && !equalFloats(got, want):
			t.Errorf("row %d: failing model = %v; want stable's %v", i, got, want)
		}
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
