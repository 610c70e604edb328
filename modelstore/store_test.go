package modelstore_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func openStore(t *testing.T, dir string) *modelstore.Store {
	t.Helper()
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

func small(seed uint64) *onnx.Model { return onnx.RandomMLP(seed, onnx.ActivationNone, 3, 2).Model() }

// runOnce runs v on one row of zeros and returns its first output value.
func runOnce(t *testing.T, v *modelstore.Version) float32 {
	t.Helper()
	out := make([]engine.Tensor, 1)
	if err := v.Run([]engine.Tensor{engine.NewTensor("input", []int64{1, 3}, []float32{1, 2, 3})}, out); err != nil {
		t.Fatalf("Run %s/%d: %v", v.Model, v.Number, err)
	}
	vals, _ := engine.Values[float32](&out[0])
	return vals[0]
}

func TestPublishThenServeHighestVersion(t *testing.T) {
	dir := t.TempDir()
	if v := testenv.Publish(t, dir, "fraud", small(1)); v != 1 {
		t.Fatalf("first publish = version %d; want 1", v)
	}
	if v := testenv.Publish(t, dir, "fraud", small(2)); v != 2 {
		t.Fatalf("second publish = version %d; want 2", v)
	}
	st := openStore(t, dir)
	v, err := st.Lookup("fraud", 0)
	if err != nil || v.Number != 2 || v.Label != "2" {
		t.Fatalf("Lookup(fraud, 0) = %v, %v; want version 2", v, err)
	}
	v1, err := st.Lookup("fraud", 1)
	if err != nil || v1.Number != 1 {
		t.Fatalf("Lookup(fraud, 1) = %v, %v; want version 1", v1, err)
	}
	want := onnx.RandomMLP(2, onnx.ActivationNone, 3, 2).Predict([]float32{1, 2, 3})[0]
	if got := runOnce(t, v); math.Abs(float64(got-want)) > 1e-5 {
		t.Fatalf("version 2 answered %v; want %v", got, want)
	}
	m := v.Manifest
	if m.Model != "fraud" || m.Version != 2 || m.CreatedBy != "test" || m.Signature == nil ||
		m.Signature.Inputs[0].Name != "input" || m.Signature.Inputs[0].Datatype != "FP32" {
		t.Fatalf("manifest = %+v", m)
	}

	// A third version appears on disk; LoadModel picks it up and keeps
	// the loaded ones as they are.
	testenv.Publish(t, dir, "fraud", small(3))
	if err := st.Load(context.Background(), "fraud"); err != nil {
		t.Fatal(err)
	}
	v3, err := st.Lookup("fraud", 0)
	if err != nil || v3.Number != 3 {
		t.Fatalf("after Load, serving = %v, %v; want version 3", v3, err)
	}
	if again, _ := st.Lookup("fraud", 2); again != v {
		t.Fatal("Load reloaded a version that was already ready")
	}
}

func TestLookupErrors(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "fraud", small(1))
	st := openStore(t, dir)
	f := func(model string, version int, want error) {
		t.Helper()
		if _, err := st.Lookup(model, version); !errors.Is(err, want) {
			t.Errorf("Lookup(%q, %d) = %v; want %v", model, version, err, want)
		}
	}
	f("nope", 0, modelstore.ErrNotFound)
	f("fraud", 2, modelstore.ErrNotFound)
	ctx := context.Background()
	if err := st.Unload(ctx, "fraud"); err != nil {
		t.Fatal(err)
	}
	f("fraud", 0, modelstore.ErrNotReady)
	f("fraud", 1, modelstore.ErrNotReady)
	if err := st.Unload(ctx, "nope"); !errors.Is(err, modelstore.ErrNotFound) {
		t.Errorf("Unload(nope) = %v; want ErrNotFound", err)
	}
	if err := st.Load(ctx, "nope"); !errors.Is(err, modelstore.ErrNotFound) {
		t.Errorf("Load(nope) = %v; want ErrNotFound", err)
	}
	if err := st.Load(ctx, "../etc"); !errors.Is(err, modelstore.ErrNotFound) {
		t.Errorf("Load(../etc) = %v; want ErrNotFound", err)
	}
	// Loading again brings it back.
	if err := st.Load(ctx, "fraud"); err != nil {
		t.Fatal(err)
	}
	v, err := st.Lookup("fraud", 0)
	if err != nil {
		t.Fatalf("after reload: %v", err)
	}
	runOnce(t, v)
}

// TestBrokenVersions checks that each kind of broken version is recorded
// with its reason, never served, and does not stop the good ones.
func TestBrokenVersions(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", small(1)) // 1: good
	for range 5 {                          // 2..6: broken below
		testenv.Publish(t, dir, "m", small(1))
	}
	vdir := func(n string) string { return filepath.Join(dir, "m", n) }
	edit := func(path string, fn func(string) string) {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(fn(string(data))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// 2: model.onnx changed after publishing.
	edit(filepath.Join(vdir("2"), modelstore.ModelFile), func(s string) string { return s + "x" })
	// 3: manifest lacks the sha256.
	edit(filepath.Join(vdir("3"), modelstore.ManifestFile), func(s string) string {
		return strings.Replace(s, `"sha256"`, `"sha256_was"`, 1)
	})
	// 4: manifest records a different signature.
	edit(filepath.Join(vdir("4"), modelstore.ManifestFile), func(s string) string {
		return strings.Replace(s, `"name": "input"`, `"name": "features"`, 1)
	})
	// 5: manifest is not JSON.
	edit(filepath.Join(vdir("5"), modelstore.ManifestFile), func(string) string { return "{" })
	// 6: manifest names another version.
	edit(filepath.Join(vdir("6"), modelstore.ManifestFile), func(s string) string {
		return strings.Replace(s, `"version": 6`, `"version": 9`, 1)
	})
	// 7: incomplete (no manifest): ignored altogether.
	if err := os.MkdirAll(vdir("7"), 0o755); err != nil {
		t.Fatal(err)
	}

	st := openStore(t, dir)
	m := st.Model("m")
	if m == nil || len(m.Versions) != 6 {
		t.Fatalf("model m has %d versions; want 6 (1-6; 7 is incomplete)", len(m.Versions))
	}
	wantErr := map[int]error{2: modelstore.ErrChecksum, 3: modelstore.ErrManifest, 4: modelstore.ErrSignature, 5: modelstore.ErrManifest, 6: modelstore.ErrManifest}
	for n, want := range wantErr {
		v := m.Version(n)
		if v.State() != modelstore.Failed || !strings.Contains(v.Reason(), want.Error()) {
			t.Errorf("version %d: state %s, reason %q; want FAILED with %v", n, v.State(), v.Reason(), want)
		}
		if _, err := st.Lookup("m", n); !errors.Is(err, modelstore.ErrNotReady) {
			t.Errorf("Lookup(m, %d) = %v; want ErrNotReady", n, err)
		}
	}
	if !strings.Contains(m.Version(3).Reason(), "missing required field sha256") {
		t.Errorf("version 3 reason %q does not name the missing field", m.Version(3).Reason())
	}
	v, err := st.Lookup("m", 0)
	if err != nil || v.Number != 1 {
		t.Fatalf("serving = %v, %v; want the one good version, 1", v, err)
	}
	runOnce(t, v)
}

func TestPublishRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	f := func(name string, model []byte, want error) {
		t.Helper()
		_, err := modelstore.Publish(dir, name, model, modelstore.PublishOptions{})
		if err == nil || (want != nil && !errors.Is(err, want)) {
			t.Errorf("Publish(%q) = %v; want an error (%v)", name, err, want)
		}
	}
	good := small(1).Marshal()
	f("", good, modelstore.ErrName)
	f("../escape", good, modelstore.ErrName)
	f(".hidden", good, modelstore.ErrName)
	f("a/b", good, modelstore.ErrName)
	f("ok", []byte("not a model"), nil)
	f("ok", onnx.Identity(onnx.String, onnx.DimParam("N")).Marshal(), engine.ErrUnsupportedType)
	// Nothing was left behind: no version, no temporary directory.
	entries, _ := os.ReadDir(filepath.Join(dir, "ok"))
	if len(entries) != 0 {
		t.Fatalf("refused publishes left %v behind", entries)
	}
	// And a good publish still works.
	if v := testenv.Publish(t, dir, "ok", small(1)); v != 1 {
		t.Fatalf("publish after refusals = %d; want 1", v)
	}
}

func TestConcurrentPublishersGetDistinctVersions(t *testing.T) {
	dir := t.TempDir()
	model := small(1).Marshal()
	const n = 8
	got := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{})
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	slices.Sort(got)
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("versions = %v; want 1..%d each once", got, n)
		}
	}
	st := openStore(t, dir)
	if m := st.Model("m"); len(m.Versions) != n {
		t.Fatalf("store sees %d versions; want %d", len(m.Versions), n)
	}
}

func TestOpenMissingRegistry(t *testing.T) {
	_, err := modelstore.Open(context.Background(), modelstore.Config{Dir: filepath.Join(t.TempDir(), "absent")})
	if err == nil {
		t.Fatal("Open on a missing directory succeeded")
	}
}

func fixedModel() *onnx.Model {
	return (&onnx.Affine{Shape: []onnx.Dim{onnx.DimValue(1), onnx.DimValue(4)}, Scale: 3}).Model()
}

// TestUnloadDrains sends requests from many goroutines, each holding the
// version as the server does, while the model is unloaded: every request
// that acquired the version gets the right answer (unloading drains
// instead of failing what is queued), the others are refused, and none
// hangs. One executor and no batching keep requests queued behind the
// running one.
func TestUnloadDrains(t *testing.T) {
	dir := t.TempDir()
	mlp := onnx.RandomMLP(9, onnx.ActivationNone, 3, 1024, 1024, 1024, 2)
	testenv.Publish(t, dir, "m", mlp.Model())
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler),
		Batching: modelstore.Batching{Config: batcher.Config{Executors: 1, MaxBatchSize: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	v, err := st.Lookup("m", 0)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2, 3}
	want := mlp.Predict(x)
	var wg sync.WaitGroup
	var served, refused atomic.Int64
	for range 16 {
		wg.Go(func() {
			r := &modelstore.Request{In: []engine.Tensor{engine.NewTensor("input", []int64{1, 3}, x)}}
			// Until the version refuses requests, bounded in count.
			for range 1_000_000 {
				if !v.Acquire() {
					refused.Add(1)
					return
				}
				err := v.Infer(r)
				v.Release()
				if err != nil {
					t.Errorf("a request that acquired the version failed: %v", err)
					return
				}
				got, _ := engine.Values[float32](&r.Out[0])
				if math.Abs(float64(got[0]-want[0])) > 1e-5 {
					t.Errorf("got %v; want %v", got, want)
					return
				}
				served.Add(1)
			}
		})
	}
	for served.Load() < 16 {
		runtime.Gosched()
	}
	if err := st.Unload(context.Background(), "m"); err != nil {
		t.Fatal(err)
	}
	if s := v.State(); s != modelstore.Unloaded {
		t.Fatalf("after Unload the version is %s; want UNLOADED", s)
	}
	wg.Wait()
	t.Logf("served %d, refused %d", served.Load(), refused.Load())
	if _, err := st.Lookup("m", 0); !errors.Is(err, modelstore.ErrNotReady) {
		t.Fatalf("after unload Lookup = %v", err)
	}
	if err := v.Infer(&modelstore.Request{In: []engine.Tensor{engine.NewTensor("input", []int64{1, 3}, x)}}); !errors.Is(err, modelstore.ErrNotReady) {
		t.Fatalf("Infer on an unloaded version = %v; want ErrNotReady", err)
	}
}
