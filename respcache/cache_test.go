package respcache

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchyard-ml/switchyard/engine"
)

// fp32 returns an FP32 tensor of shape holding x.
func fp32(name string, shape []int64, x ...float32) engine.Tensor {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return engine.Tensor{Name: name, DType: engine.FP32, Shape: shape, Data: b}
}

// question and answer are a one-row input of three features and its two
// outputs; seed makes them differ.
func question(seed float32) []engine.Tensor {
	return []engine.Tensor{fp32("input", []int64{1, 3}, seed, 2*seed, 3*seed)}
}

func answer(seed float32) []engine.Tensor {
	return []engine.Tensor{fp32("label", []int64{1}, seed), fp32("probabilities", []int64{1, 2}, 1-seed, seed)}
}

// newTestCache returns a cache for model "m" whose metrics register with
// a new pedantic registry, closed when the test ends.
func newTestCache(t *testing.T, maxBytes int64, ttl time.Duration) (*Cache, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Model: "m", MaxBytes: maxBytes, TTL: ttl, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, reg
}

// metric returns the value of the series name{model="m"}, and whether it
// is reported.
func metric(t *testing.T, reg *prometheus.Registry, name string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			if !slices.ContainsFunc(s.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == "model" && l.GetValue() == "m" }) {
				continue
			}
			if s.Counter != nil {
				return s.GetCounter().GetValue(), true
			}
			return s.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// put stores the answer to in for load, asking twice as the cache stores
// an answer the second time its question misses, and waits until lookups
// see it.
func put(c *Cache, load uint64, in, out []engine.Tensor) {
	// Both lookups come before either Put: ristretto stores a Put a
	// moment later, and a second lookup after the first Put could hit or
	// miss by that moment.
	k1, _ := c.Lookup(load, in, make([]engine.Tensor, len(out)))
	k2, _ := c.Lookup(load, in, make([]engine.Tensor, len(out)))
	c.Put(k1, in, out)
	c.Put(k2, in, out)
	c.rc.Wait()
}

func TestHitCopiesTheAnswer(t *testing.T) {
	c, reg := newTestCache(t, 1<<20, time.Hour)
	in, want := question(0.25), answer(0.25)
	out := make([]engine.Tensor, 2)
	if _, hit := c.Lookup(1, in, out); hit {
		t.Fatal("Lookup on an empty cache hit")
	}
	put(c, 1, in, want)
	want[1].Data[0] ^= 0xff // the cache keeps a copy, not the caller's buffers
	in2 := question(0.25)
	if _, hit := c.Lookup(1, in2, out); !hit {
		t.Fatal("Lookup after Put missed")
	}
	stored := answer(0.25)
	for i := range out {
		if out[i].Name != stored[i].Name || out[i].DType != stored[i].DType || !slices.Equal(out[i].Shape, stored[i].Shape) ||
			!slices.Equal(out[i].Data, stored[i].Data) {
			t.Errorf("output %d = %+v; want %+v", i, out[i], stored[i])
		}
	}
	out[0].Data[0] ^= 0xff // nor does it hand out its own
	if _, hit := c.Lookup(1, in2, out); !hit || !slices.Equal(out[0].Data, stored[0].Data) {
		t.Errorf("second hit = %v %v; want the stored answer %v", hit, out[0].Data, stored[0].Data)
	}
	for name, want := range map[string]float64{"switchyard_cache_hits_total": 2, "switchyard_cache_misses_total": 3} {
		if got, _ := metric(t, reg, name); got != want {
			t.Errorf("%s = %v; want %v", name, got, want)
		}
	}
	if b, ok := metric(t, reg, "switchyard_cache_bytes"); !ok || b <= 0 || b > 1<<20 {
		t.Errorf("switchyard_cache_bytes = %v, %v; want positive and at most max bytes", b, ok)
	}
}

// TestOnlyTheSameQuestionHits checks that an answer is given only for
// the load that gave it and inputs equal in type, shape and bytes, even
// when an entry is found under the hash of other inputs.
func TestOnlyTheSameQuestionHits(t *testing.T) {
	c, _ := newTestCache(t, 1<<20, time.Hour)
	in := question(0.5)
	put(c, 7, in, answer(0.5))
	out := make([]engine.Tensor, 2)
	f := func(what string, load uint64, q []engine.Tensor) {
		t.Helper()
		if _, hit := c.Lookup(load, q, out); hit {
			t.Errorf("%s hit the answer to another question", what)
		}
	}
	f("another load of the version", 8, in)
	f("other values", 7, question(0.75))
	f("another shape", 7, []engine.Tensor{fp32("input", []int64{3, 1}, 0.5, 1, 1.5)})
	asInt := in[0]
	asInt.DType = engine.INT32
	f("another element type", 7, []engine.Tensor{asInt})
	f("a second input", 7, append(question(0.5), fp32("extra", []int64{1, 1}, 0)))
	if _, hit := c.Lookup(7, in, make([]engine.Tensor, 3)); hit {
		t.Error("a lookup for three outputs hit an answer of two")
	}

	// A collision: the answer to one question filed under another's
	// hash is never given for that other.
	other := question(0.125)
	c.Lookup(7, other, out)
	k, _ := c.Lookup(7, other, out)
	c.Put(k, in, answer(0.5))
	c.rc.Wait()
	f("a question whose hash files another's answer", 7, other)
}

// TestStoredOnSecondMiss checks the doorkeeper: an answer is stored only
// when its question missed before, so questions asked once store nothing.
func TestStoredOnSecondMiss(t *testing.T) {
	c, reg := newTestCache(t, 1<<20, time.Hour)
	out := make([]engine.Tensor, 2)
	for i := range 100 {
		in := question(float32(i))
		k, _ := c.Lookup(1, in, out)
		c.Put(k, in, answer(float32(i)))
	}
	c.rc.Wait()
	if b, _ := metric(t, reg, "switchyard_cache_bytes"); b != 0 {
		t.Errorf("100 questions asked once take %v bytes; want none stored", b)
	}
	// Asked twice in a row: the doorkeeper's slot is a direct-mapped
	// table with a random seed, so one of the 100 above may have taken
	// question(0)'s slot since it was asked; a new question's cannot.
	in := question(1000)
	for range 2 {
		k, _ := c.Lookup(1, in, out)
		c.Put(k, in, answer(1000))
	}
	c.rc.Wait()
	if _, hit := c.Lookup(1, in, out); !hit {
		t.Error("a question that missed twice in a row was not stored")
	}
}

func TestEvictionsCounted(t *testing.T) {
	const maxBytes = 8 << 10
	c, reg := newTestCache(t, maxBytes, time.Hour)
	for i := range 200 {
		put(c, 1, question(float32(i)), answer(float32(i)))
	}
	if n, _ := metric(t, reg, "switchyard_cache_evictions_total"); n == 0 {
		t.Error("200 answers in 8 KiB evicted none")
	}
	if b, _ := metric(t, reg, "switchyard_cache_bytes"); b <= 0 || b > maxBytes {
		t.Errorf("switchyard_cache_bytes = %v; want positive and at most %d", b, maxBytes)
	}

	// An answer larger than the whole cache is not stored.
	big := []engine.Tensor{fp32("probabilities", []int64{1, 4096}, make([]float32, 4096)...)}
	in := question(-1)
	put(c, 1, in, big)
	if _, hit := c.Lookup(1, in, make([]engine.Tensor, 1)); hit {
		t.Error("an answer larger than the cache was stored")
	}
}

func TestEntriesExpire(t *testing.T) {
	const ttl = 50 * time.Millisecond
	c, reg := newTestCache(t, 1<<20, ttl)
	in, out := question(1), make([]engine.Tensor, 2)
	put(c, 1, in, answer(1))
	stored := time.Now()
	_, hit := c.Lookup(1, in, out)
	if !hit && time.Since(stored) < ttl {
		t.Fatal("Lookup within the TTL missed")
	}
	time.Sleep(2 * ttl)
	if _, hit := c.Lookup(1, in, out); hit {
		t.Fatalf("Lookup after twice the TTL hit")
	}
	if n, _ := metric(t, reg, "switchyard_cache_evictions_total"); n != 0 {
		t.Errorf("an expired answer counted as %v evictions; want 0", n)
	}

	// Resize gives entries stored from then on the new TTL.
	c.Resize(1<<20, time.Hour)
	put(c, 1, in, answer(1))
	time.Sleep(2 * ttl)
	if _, hit := c.Lookup(1, in, out); !hit {
		t.Fatal("an answer stored after Resize to an hour expired within twice the old TTL")
	}
	if b, ttl := c.Limits(); b != 1<<20 || ttl != time.Hour {
		t.Errorf("Limits() = %d, %v; want %d, 1h", b, ttl, 1<<20)
	}
}

// TestCloseUnderLoad closes a cache while goroutines look up and store,
// and checks that nothing fails, that the cache misses and stores
// nothing afterwards, and that its series are no longer reported.
func TestCloseUnderLoad(t *testing.T) {
	c, reg := newTestCache(t, 1<<20, time.Hour)
	put(c, 1, question(1), answer(1))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			out := make([]engine.Tensor, 2)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				in := question(float32(g*1000 + i%10))
				if k, hit := c.Lookup(1, in, out); !hit {
					c.Put(k, in, answer(1))
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	c.Close()
	c.Close()
	close(stop)
	wg.Wait()
	in := question(1)
	k, hit := c.Lookup(1, in, make([]engine.Tensor, 2))
	c.Put(k, in, answer(1))
	if hit {
		t.Error("Lookup after Close hit")
	}
	for _, name := range []string{"switchyard_cache_hits_total", "switchyard_cache_misses_total", "switchyard_cache_bytes"} {
		if v, ok := metric(t, reg, name); ok {
			t.Errorf("%s = %v reported after Close", name, v)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Model: "m", MaxBytes: 0, TTL: time.Second}, {Model: "m", MaxBytes: 1, TTL: -time.Second}} {
		c, err := New(cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `model "m"`) {
			t.Errorf("New(%+v) = %v, %v; want ErrConfig naming the model", cfg, c, err)
		}
	}
}
