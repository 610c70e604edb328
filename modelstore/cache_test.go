package modelstore_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/respcache"
)

// cacheWait bounds the wait for a stored answer to become visible: the
// cache applies a Put on its own goroutine. A bound against hangs, not a
// measure of speed.
const cacheWait = 30 * time.Second

// openCachedStore opens the registry at dir with the caches' metrics
// registered with the registry it returns.
func openCachedStore(t *testing.T, dir string) (*modelstore.Store, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	cm, err := respcache.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: dir, CacheMetrics: cm, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, reg
}

// applyPolicy writes model's policy.yaml and has st read it.
func applyPolicy(t *testing.T, st *modelstore.Store, dir, model, policy string) {
	t.Helper()
	writePolicy(t, dir, model, policy)
	if err := st.Rescan(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// inferUntilCached runs r on v until the answer comes from the cache,
// failing the test after cacheWait.
func inferUntilCached(t *testing.T, v *modelstore.Version, r *modelstore.Request) {
	t.Helper()
	for deadline := time.Now().Add(cacheWait); ; time.Sleep(time.Millisecond) {
		if err := v.Infer(r); err != nil {
			t.Fatal(err)
		}
		if r.Cached {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%d: no answer from the cache within %v", v.Model, v.Number, cacheWait)
		}
	}
}

// hasSeries reports whether reg reports a series named name.
func hasSeries(t *testing.T, reg *prometheus.Registry, name string) bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return true
		}
	}
	return false
}

// TestCacheFollowsPolicy turns a model's cache on, resizes it and turns
// it off again through policy.yaml, and checks what Infer answers from
// it: only the same question to the same load of the version.
func TestCacheFollowsPolicy(t *testing.T) {
	dir := t.TempDir()
	testenv.Publish(t, dir, "m", small(1))
	st, reg := openCachedStore(t, dir)
	v, err := st.Lookup("m", 0)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{0.5, -1, 2}
	newRequest := func() *modelstore.Request {
		return &modelstore.Request{In: []engine.Tensor{engine.NewTensor("input", []int64{1, 3}, x)}}
	}
	r := newRequest()
	for range 3 {
		if err := v.Infer(r); err != nil || r.Cached {
			t.Fatalf("Infer without a cache block = %v, cached %v; want a run", err, r.Cached)
		}
	}
	want := slices.Clone(r.Out[0].Data)
	if hasSeries(t, reg, "switchyard_cache_misses_total") {
		t.Fatal("cache series reported for a model without a cache block")
	}

	applyPolicy(t, st, dir, "m", "cache:\n  max_bytes: 1MiB\n  ttl: 1h\n")
	inferUntilCached(t, v, r)
	if !slices.Equal(r.Out[0].Data, want) {
		t.Fatalf("cached answer %v; the model's is %v", r.Out[0].Data, want)
	}
	other := &modelstore.Request{In: []engine.Tensor{engine.NewTensor("input", []int64{1, 3}, []float32{0.5, -1, 2.5})}}
	if err := v.Infer(other); err != nil || other.Cached {
		t.Fatalf("Infer of other values = %v, cached %v; want a run", err, other.Cached)
	}
	skip := newRequest()
	skip.SkipCache = true
	if err := v.Infer(skip); err != nil || skip.Cached {
		t.Fatalf("Infer skipping the cache = %v, cached %v; want a run", err, skip.Cached)
	}

	// A resize keeps the answers.
	applyPolicy(t, st, dir, "m", "cache:\n  max_bytes: 2MiB\n  ttl: 30m\n")
	if err := v.Infer(r); err != nil || !r.Cached {
		t.Fatalf("Infer after a resize = %v, cached %v; want the answer kept", err, r.Cached)
	}

	// An invalid cache block is refused: the last good one stays in force.
	applyPolicy(t, st, dir, "m", "cache:\n  max_bytes: 0\n")
	if err := v.Infer(r); err != nil || !r.Cached {
		t.Fatalf("Infer under a refused cache block = %v, cached %v; want the cache kept", err, r.Cached)
	}

	// A new load of the same version never answers from the old one's.
	ctx := context.Background()
	if err := st.Unload(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if err := st.Load(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	reloaded, err := st.Lookup("m", 1)
	if err != nil || reloaded == v {
		t.Fatalf("Lookup after the reload = %p, %v; want a new load of version 1", reloaded, err)
	}
	if err := reloaded.Infer(r); err != nil || r.Cached {
		t.Fatalf("first Infer on the new load = %v, cached %v; want a run", err, r.Cached)
	}
	inferUntilCached(t, reloaded, r)

	// Without the block, nothing answers from the cache, and its series go.
	applyPolicy(t, st, dir, "m", "batching:\n  max_batch_size: 8\n")
	for range 3 {
		if err := reloaded.Infer(r); err != nil || r.Cached {
			t.Fatalf("Infer once the cache block is gone = %v, cached %v; want a run", err, r.Cached)
		}
	}
	if hasSeries(t, reg, "switchyard_cache_hits_total") {
		t.Error("cache series still reported once the cache block is gone")
	}

}
