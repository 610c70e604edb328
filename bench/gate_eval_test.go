package bench

import (
	"bytes"
	"strings"
	"testing"

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
