package onnx

import "testing"

func BenchmarkAppendMarshal(b *testing.B) {
	f := func(name string, m *Model) {
		b.Run(name, func(b *testing.B) {
			buf := m.Marshal()
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = m.AppendMarshal(buf[:0])
			}
		})
	}
	f("mlp-30-64-2", RandomMLP(1, ActivationSoftmax, 30, 64, 2).Model())
	f("mlp-1024x4", RandomMLP(1, ActivationNone, 1024, 1024, 1024, 1024, 16).Model())
	f("forest-100x4", RandomForest(1, 20, 100, 4).Model())
}
