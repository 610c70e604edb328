package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// externalModel writes a logistic regression whose coefficients live in
// the external data file "weights-uuid" beside model.onnx in a new
// directory, and returns the directory, the model bytes and the model.
func externalModel(t *testing.T) (string, []byte, *onnx.LogReg) {
	t.Helper()
	lr := &onnx.LogReg{Weights: make([]float32, 300), Bias: []float32{0.25}}
	for i := range lr.Weights {
		lr.Weights[i] = float32(i%11-5) / 50
	}
	m, data := onnx.Externalize(lr.Model(), "weights-uuid", 1024)
	if len(data) == 0 {
		t.Fatal("Externalize moved nothing")
	}
	dir := t.TempDir()
	model := m.Marshal()
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "weights-uuid"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, model, lr
}

func TestExternalDataLoads(t *testing.T) {
	dir, model, lr := externalModel(t)
	x := make([]float32, 2*300)
	for i := range x {
		x[i] = float32(i%13) / 10
	}
	_, want := lr.Predict(x)
	check := func(s *engine.Session, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		defer s.Close()
		out := run(t, s, engine.NewTensor("input", []int64{2, 300}, x))
		assertClose(t, "probabilities", values[float32](t, &out[1]), want)
	}
	check(engine.New(model, engine.Config{ExternalDataDir: dir}))
	check(engine.Open(filepath.Join(dir, "model.onnx"), engine.Config{}))
}

func TestExternalDataFailure(t *testing.T) {
	f := func(name string, mutate func(dir string), cfg func(dir string) engine.Config, want string) {
		t.Helper()
		dir, model, _ := externalModel(t)
		mutate(dir)
		s, err := engine.New(model, cfg(dir))
		if err == nil {
			s.Close()
			t.Fatalf("%s: New succeeded; want an error", name)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: New = %v; want it to say %q", name, err, want)
		}
	}
	withDir := func(dir string) engine.Config { return engine.Config{ExternalDataDir: dir} }
	nothing := func(string) {}
	f("no directory given", nothing, func(string) engine.Config { return engine.Config{} }, "weights-uuid")
	f("missing file", func(dir string) { os.Remove(filepath.Join(dir, "weights-uuid")) }, withDir, `external data file "weights-uuid"`)
	f("truncated file", func(dir string) { os.Truncate(filepath.Join(dir, "weights-uuid"), 100) }, withDir, "pass the end")
	f("directory for a file", func(dir string) {
		os.Remove(filepath.Join(dir, "weights-uuid"))
		os.Mkdir(filepath.Join(dir, "weights-uuid"), 0o755)
	}, withDir, "not a regular file")
	f("file outside the directory", func(dir string) {
		os.Remove(filepath.Join(dir, "weights-uuid"))
		os.Symlink("/etc/passwd", filepath.Join(dir, "weights-uuid"))
	}, withDir, "weights-uuid")
}
