//go:build !race

package onnx

import "testing"

// TestAppendMarshalAllocs pins AppendMarshal's promise to allocate only when
// dst lacks capacity.
func TestAppendMarshalAllocs(t *testing.T) {
	f := func(name string, m *Model) {
		t.Helper()
		buf := m.Marshal()
		if n := testing.AllocsPerRun(20, func() { buf = m.AppendMarshal(buf[:0]) }); n != 0 {
			t.Fatalf("%s: AppendMarshal into a large enough buffer allocates %v times; want 0", name, n)
		}
	}
	f("forest", RandomForest(1, 8, 10, 4).Model())
	f("mlp", RandomMLP(1, ActivationSoftmax, 30, 64, 2).Model())
	f("logreg", (&LogReg{Weights: []float32{1, 2}, Bias: []float32{3}}).Model())
}
