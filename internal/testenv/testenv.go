// Package testenv gives tests the real things they run against: the
// onnxruntime library fetched by `make ort`, and registries of models the
// project builds itself.
package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// Main loads onnxruntime, from $SWITCHYARD_ORT_LIB or the `make ort` cache,
// then runs the tests. A test binary that cannot load it fails: tests never
// quietly skip the engine. Call it from TestMain.
func Main(m *testing.M) {
	path, err := engine.LocateLibrary(os.Getenv("SWITCHYARD_ORT_LIB"))
	if err == nil {
		err = engine.Init(path)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// Publish publishes model into the registry at dir under name and returns
// the version number.
func Publish(t testing.TB, dir, name string, model *onnx.Model) int {
	t.Helper()
	v, err := modelstore.Publish(dir, name, model.Marshal(), modelstore.PublishOptions{CreatedBy: "test"})
	if err != nil {
		t.Fatalf("publish %s: %v", name, err)
	}
	return v
}

// Rows returns n values drawn from a standard normal distribution by a
// generator seeded with seed: test inputs that are the same on every run.
func Rows(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// PlaceVersion writes version n of model into the registry at dir by hand,
// as a person or another tool would, bypassing Publish's checks: the files
// go into a hidden directory that is renamed into place complete. The
// manifest is written as given.
func PlaceVersion(t testing.TB, dir, model string, n int, modelBytes []byte, manifest string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, model), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Join(dir, model), ".hand-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, modelstore.ModelFile), modelBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, modelstore.ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, model, strconv.Itoa(n))); err != nil {
		t.Fatal(err)
	}
}

// Manifest returns a minimal manifest.json for model bytes b: their sha256
// and nothing else.
func Manifest(b []byte) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf(`{"sha256": %q}`, hex.EncodeToString(sum[:]))
}

// Classifier is a binary logistic regression over three features, a, b
// and c, for the label EvalSet draws: 1 when a + b/2 > 0, give or take
// some noise. weights (three) decide how well it predicts it: {4, 2, 0}
// well, {0, 0, 0} not at all (the same scores for every row).
func Classifier(weights ...float32) []byte {
	return (&onnx.LogReg{Weights: weights, Bias: []float32{0}}).Model().Marshal()
}

// EvalSet is a labelled evaluation set of n rows for Classifier, in CSV
// with the header a,b,c,label; seed makes different sets.
func EvalSet(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	var b []byte
	b = append(b, "a,b,c,label\n"...)
	for range n {
		a, bb, c := r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
		y := 0
		if a+bb/2+r.NormFloat64()/4 > 0 {
			y = 1
		}
		b = fmt.Appendf(b, "%.4f,%.4f,%.4f,%d\n", a, bb, c, y)
	}
	return b
}
