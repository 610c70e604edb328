package rollout

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fleet is one model whose version 2 has just become ready over version 1,
// with on_publish: canary; it counts the controller's passes and keeps
// the state the controller desires.
type fleet struct {
	mu     sync.Mutex
	looked int
	state  *State
	policy Policy
}

func (f *fleet) Rollouts() []Live {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.looked++
	return []Live{{Model: "m", State: f.state, Policy: f.policy, Serving: 1, Newest: 2, NewestPublished: time.Now()}}
}

func (f *fleet) Desire(_ context.Context, _ string, plan Plan) (*State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next, err := plan(f.state, 1, 0)
	if err != nil {
		return nil, err
	}
	f.state = next
	return next, nil
}

func (f *fleet) snapshot() (looked int, st *State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.looked, f.state
}

// TestWakeLooksAtOnce checks that a wake-up makes the controller look at
// once, not at its next tick, and that wake-ups coalesce without
// blocking.
func TestWakeLooksAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := DefaultPolicy()
		pol.OnPublish = Canary
		f := &fleet{policy: pol}
		c := NewController(f, ControllerConfig{Tick: time.Hour, Logger: slog.New(slog.DiscardHandler)})
		for range 10 { // before Run: kept, and merged into one
			c.Wake()
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Run(ctx)
		}()
		synctest.Wait()
		start := time.Now()
		looked, st := f.snapshot()
		if looked != 1 {
			t.Errorf("after 10 wake-ups before Run the controller looked %d times; want 1", looked)
		}
		if st == nil || st.Candidate != 2 || st.Weight != pol.Steps[0] {
			t.Fatalf("state after a wake-up = %+v; want a canary of version 2 at %d bp", st, pol.Steps[0])
		}

		c.Wake()
		synctest.Wait()
		if looked, _ := f.snapshot(); looked != 2 {
			t.Errorf("after another wake-up the controller looked %d times; want 2", looked)
		}
		if d, ok := c.Analysis("m"); !ok || !d.At.Equal(start) {
			t.Errorf("Analysis(m) = %+v, %v; want one taken at %v, without waiting for a tick", d, ok, start)
		}

		time.Sleep(time.Hour) // the tick still comes
		synctest.Wait()
		if looked, _ := f.snapshot(); looked != 3 {
			t.Errorf("after a tick the controller looked %d times; want 3", looked)
		}
		cancel()
		<-done
	})
}
