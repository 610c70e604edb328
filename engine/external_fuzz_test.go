package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// FuzzInlineExternal feeds inlineExternal arbitrary model bytes: it must
// never panic, and what it inlines never passes the data file's size.
func FuzzInlineExternal(f *testing.F) {
	lr := &onnx.LogReg{Weights: make([]float32, 300), Bias: []float32{1}}
	m, data := onnx.Externalize(lr.Model(), "w.bin", 1024)
	f.Add(m.Marshal())
	f.Add(lr.Model().Marshal())
	f.Add([]byte{0x3a, 0x05, 0x2a, 0x03, 0x70, 0x01, 0x00})
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), data, 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, model []byte) {
		out, err := inlineExternal(model, dir)
		if err == nil && len(out) > len(model)+len(data)*len(model)+64 {
			t.Fatalf("inlineExternal grew %d bytes into %d", len(model), len(out))
		}
	})
}
