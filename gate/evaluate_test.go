package gate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
)

// gauge wraps a Predictor, counting calls and the most in flight at once.
// Until hold calls are in flight together, each call waits for them (at
// most a minute), so that a test sees the bound reached, not merely
// respected.
type gauge struct {
	gate.Predictor
	hold     int32
	calls    atomic.Int32
	inFlight atomic.Int32
	peak     atomic.Int32
	once     sync.Once
	full     chan struct{} // closed once hold calls are in flight
}

func (g *gauge) Predict(ctx context.Context, features []float32, rows int, out []float64) error {
	g.calls.Add(1)
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	if n >= g.hold {
		g.once.Do(func() { close(g.full) })
	}
	select {
	case <-g.full:
	case <-time.After(time.Minute):
	}
	return g.Predictor.Predict(ctx, features, rows, out)
}

func TestRunConcurrencyBound(t *testing.T) {
	set := binarySet(t, 20, false, slicePart{country: "FR", rows: 1000})
	for _, c := range []int{1, 3} {
		s := subject(t, "version 1", good())
		g := &gauge{Predictor: s.Predictor, hold: int32(c), full: make(chan struct{})}
		s.Predictor = g
		v := run(t, gate.Policy{BatchRows: 50, Concurrency: c}, set, s, nil)
		if !v.Pass {
			t.Fatalf("concurrency %d: Run failed: %q", c, v.Reasons)
		}
		if calls, peak := g.calls.Load(), g.peak.Load(); calls != 20 || peak != int32(c) {
			t.Fatalf("concurrency %d: %d calls, at most %d at once; want 20, %d", c, calls, peak, c)
		}
	}
}

// canceller wraps a Predictor and cancels the run's context after its
// first call.
type canceller struct {
	gate.Predictor
	cancel context.CancelFunc
	calls  atomic.Int32
}

func (c *canceller) Predict(ctx context.Context, features []float32, rows int, out []float64) error {
	c.calls.Add(1)
	err := c.Predictor.Predict(ctx, features, rows, out)
	c.cancel()
	return err
}

func TestRunHonoursContext(t *testing.T) {
	set := binarySet(t, 21, false, slicePart{country: "FR", rows: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := subject(t, "version 1", good())
	c := &canceller{Predictor: s.Predictor, cancel: cancel}
	s.Predictor = c
	v, err := gate.Run(ctx, gate.Policy{BatchRows: 100}, set, s, nil)
	if !errors.Is(err, context.Canceled) || v != nil {
		t.Fatalf("Run = %v, %v; want context.Canceled", v, err)
	}
	if n := c.calls.Load(); n != 1 {
		t.Fatalf("%d calls; want 1: no batch starts after the context ends", n)
	}

	// A context that has ended already runs nothing, the stable version
	// included.
	stable := subject(t, "version 0", good())
	if v, err := gate.Run(ctx, gate.Policy{}, set, s, &stable); !errors.Is(err, context.Canceled) || v != nil {
		t.Fatalf("Run(ended context) = %v, %v; want context.Canceled", v, err)
	}
	if n := c.calls.Load(); n != 1 {
		t.Fatalf("%d calls; want still 1", n)
	}
}

// panicker panics on the rows of its second call.
type panicker struct {
	gate.Predictor
	calls atomic.Int32
}

func (p *panicker) Predict(ctx context.Context, features []float32, rows int, out []float64) error {
	if p.calls.Add(1) == 2 {
		panic("index out of range")
	}
	return p.Predictor.Predict(ctx, features, rows, out)
}

func TestRunRecoversPredictorPanic(t *testing.T) {
	set := binarySet(t, 22, false, slicePart{country: "FR", rows: 300})
	s := subject(t, "version 2", good())
	s.Predictor = &panicker{Predictor: s.Predictor}
	v := run(t, gate.Policy{BatchRows: 100}, set, s, nil)
	if v.Pass || len(v.Reasons) != 1 ||
		!strings.Contains(v.Reasons[0], "version 2 could not be evaluated on this set: rows 101 to 200: the predictor panicked: index out of range") {
		t.Fatalf("Run = pass %v, %q; want the panic as the reason", v.Pass, v.Reasons)
	}
}
