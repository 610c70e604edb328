package gate_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/switchyard-ml/switchyard/gate"
)

// BenchmarkReadEvalSet reads a 100,000-row set of 30 features, the size
// bench --gate-cost gates.
func BenchmarkReadEvalSet(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	var buf bytes.Buffer
	for j := range 30 {
		fmt.Fprintf(&buf, "x%d,", j)
	}
	buf.WriteString("label\n")
	for range 100_000 {
		for range 30 {
			fmt.Fprintf(&buf, "%.6f,", r.NormFloat64())
		}
		fmt.Fprintf(&buf, "%d\n", r.IntN(2))
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gate.ReadEvalSet(bytes.NewReader(data), gate.EvalConfig{Label: "label", Classes: 2}); err != nil {
			b.Fatal(err)
		}
	}
}
