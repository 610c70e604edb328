package engine_test

import (
	"fmt"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

// benchRows are the batch sizes the engine benchmarks run.
var benchRows = []int{1, 16, 256}

// benchSession opens the 30-64-2 MLP for a benchmark.
func benchSession(b *testing.B) *engine.Session {
	b.Helper()
	s, err := engine.New(onnx.RandomMLP(1, onnx.ActivationSoftmax, 30, 64, 2).Model().Marshal(), engine.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkRun measures one call into onnxruntime for the 30-64-2 MLP at a
// few batch sizes, with output buffers reused across calls.
func BenchmarkRun(b *testing.B) {
	s := benchSession(b)
	for _, rows := range benchRows {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			in := []engine.Tensor{engine.NewTensor("input", []int64{int64(rows), 30}, testenv.Rows(1, rows*30))}
			out := make([]engine.Tensor, 1)
			b.SetBytes(int64(len(in[0].Data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Run(in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBindingRun measures a batch's call into onnxruntime through a
// reused Binding, as the batcher makes it.
func BenchmarkBindingRun(b *testing.B) {
	s := benchSession(b)
	for _, rows := range benchRows {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			bind, err := s.Bind([][]int64{{int64(rows), 30}})
			if err != nil {
				b.Fatal(err)
			}
			defer bind.Close()
			copy(bind.In[0].Data, engine.NewTensor("input", []int64{int64(rows), 30}, testenv.Rows(1, rows*30)).Data)
			b.SetBytes(int64(len(bind.In[0].Data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := bind.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
