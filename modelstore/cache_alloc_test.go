//go:build !race

package modelstore_test

import (
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// runAllocs is what one Infer of a warm request to small(1) allocated
// before the response cache existed (in the run through onnxruntime).
const runAllocs = 4

// TestInferAllocs pins what Infer allocates once its request is warm:
// nothing for an answer from the cache, and no more with the cache off
// than before the cache existed.
func TestInferAllocs(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "cached", small(1))
	testenv.Publish(t, dir, "plain", small(1))
	st, _ := openCachedStore(t, dir)
	applyPolicy(t, st, dir, "cached", "cache:\n  max_bytes: 1MiB\n  ttl: 1h\n")
	f := func(model string, want float64) {
		t.Helper()
		v, err := st.Lookup(model, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := &modelstore.Request{In: []engine.Tensor{engine.NewTensor("input", []int64{1, 3}, []float32{1, 2, 3})}}
		if model == "cached" {
			inferUntilCached(t, v, r)
		} else if err := v.Infer(r); err != nil {
			t.Fatal(err)
		}
		n := testing.AllocsPerRun(200, func() {
			if err := v.Infer(r); err != nil || r.Cached != (model == "cached") {
				panic("Infer's outcome changed")
			}
		})
		if n > want {
			t.Errorf("Infer on %s: %v allocations; want at most %v", model, n, want)
		}
	}
	f("cached", 0)
	f("plain", runAllocs)
}
