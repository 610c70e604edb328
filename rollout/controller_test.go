package rollout

import (
	"cmp"
	"context"
	"errors"
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
	// newest is the newest ready version; 0 means 2.
	newest int
}

func (f *fleet) Rollouts() []Live {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.looked++
	return []Live{{Model: "m", State: f.state, Policy: f.policy, Serving: 1, Newest: cmp.Or(f.newest, 2), NewestPublished: time.Now()}}
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

// refusingFleet is fleet whose Desire always fails with err.
type refusingFleet struct {
	fleet
	err error
}

func (f *refusingFleet) Desire(context.Context, string, Plan) (*State, error) { return nil, f.err }

// countingHandler counts the records logged with each message.
type countingHandler struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs[r.Message]++
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

func (h *countingHandler) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.msgs[msg]
}

// TestRefusedChangeLoggedOnce checks that a change the fleet keeps
// refusing with the same error is logged once, not on every tick.
func TestRefusedChangeLoggedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := DefaultPolicy()
		pol.OnPublish = Canary
		f := &refusingFleet{fleet: fleet{policy: pol}, err: errors.New("disk on fire")}
		h := &countingHandler{msgs: map[string]int{}}
		c := NewController(f, ControllerConfig{Tick: time.Second, Logger: slog.New(h)})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Run(ctx)
		}()
		time.Sleep(10*time.Second + time.Millisecond)
		synctest.Wait()
		if looked, _ := f.snapshot(); looked != 10 {
			t.Errorf("the controller looked %d times in 10 ticks; want 10", looked)
		}
		if n := h.count("rollout not started"); n != 1 {
			t.Errorf("a refusal repeated on 10 ticks was logged %d times; want 1", n)
		}
		cancel()
		<-done
	})
}

// TestNewerVersionSupersedesRollout checks that a version ready above
// the canary being rolled out replaces it from the first step, and that
// a paused rollout is left to its operator.
func TestNewerVersionSupersedesRollout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := DefaultPolicy()
		pol.OnPublish = Canary
		canary := &State{Stable: 1, Candidate: 2, Strategy: Canary, Step: 1, Weight: pol.Steps[1], UpdatedAt: time.Now()}
		paused := *canary
		paused.Paused = true
		f := &fleet{policy: pol, newest: 3, state: &paused}
		c := NewController(f, ControllerConfig{Tick: time.Hour, Logger: slog.New(slog.DiscardHandler)})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Run(ctx)
		}()
		synctest.Wait()
		if _, st := f.snapshot(); st.Candidate != 2 || !st.Paused {
			t.Errorf("a paused canary of 2 became %+v; want it left as it is", st)
		}
		f.mu.Lock()
		f.state = canary
		f.mu.Unlock()
		c.Wake()
		synctest.Wait()
		if _, st := f.snapshot(); st.Stable != 1 || st.Candidate != 3 || st.Step != 0 || st.Weight != pol.Steps[0] {
			t.Errorf("a canary of 2 with version 3 ready became %+v; want a canary of 3 at its first step", st)
		}
		cancel()
		<-done
	})
}
