package rollout

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"testing"
	"time"
)

// armFleet is one model in a canary at step 0 over real ArmStats; it keeps
// the state the controller desires.
type armFleet struct {
	state *State
	arms  map[int]*ArmStats
	pol   Policy
}

func (f *armFleet) Rollouts() []Live {
	return []Live{{Model: "m", State: f.state, Policy: f.pol, Serving: 1, Arms: f.arms}}
}

func (f *armFleet) Desire(_ context.Context, _ string, plan Plan) (*State, error) {
	next, err := plan(f.state, 1, 0)
	if err != nil {
		return nil, err
	}
	f.state = next
	return next, nil
}

// record records n requests on arm a ending at end, with latencies spread
// from base by up to 200µs.
func record(a *ArmStats, n int, end time.Time, base time.Duration) {
	for i := range n {
		a.RecordSuccess(end, base+time.Duration(i%50)*4*time.Microsecond, math.NaN())
	}
}

func newArmFleet(t0 time.Time) *armFleet {
	pol := DefaultPolicy()
	pol.MinRequests, pol.Bake, pol.MaxBake = 20, time.Second, 2*time.Second
	return &armFleet{pol: pol, arms: map[int]*ArmStats{1: {}, 2: {}},
		state: &State{Stable: 1, Candidate: 2, Strategy: Canary, Weight: 500, UpdatedAt: t0, Actor: "test"}}
}

// TestResumeKeepsCounts pauses a step for too little traffic, resumes it,
// and checks that the requests from before the pause still count, and
// that max_bake counts again from the resume.
func TestResumeKeepsCounts(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := newArmFleet(t0)
	c := NewController(f, ControllerConfig{Logger: slog.New(slog.DiscardHandler)})
	ctx := t.Context()
	c.look(ctx, f.Rollouts()[0], t0) // the window begins
	record(f.arms[1], 200, t0.Add(time.Second), time.Millisecond)
	record(f.arms[2], 12, t0.Add(time.Second), time.Millisecond)
	d, _ := c.look(ctx, f.Rollouts()[0], t0.Add(3*time.Second))
	if d.Action != Inconclusive || !f.state.Paused {
		t.Fatalf("12 requests past max_bake: %v; want inconclusive and paused (%+v)", d.Reasons, f.state)
	}
	resumed := t0.Add(10 * time.Second)
	f.state = &State{Stable: 1, Candidate: 2, Strategy: Canary, Weight: 500, UpdatedAt: resumed, Actor: "person"}
	record(f.arms[1], 200, resumed.Add(100*time.Millisecond), time.Millisecond)
	record(f.arms[2], 12, resumed.Add(100*time.Millisecond), time.Millisecond)
	d, _ = c.look(ctx, f.Rollouts()[0], resumed.Add(500*time.Millisecond))
	if d.Action != Hold || !d.Analysed || d.AnalysedAt != 24 || !d.Passed {
		t.Fatalf("after the resume: %v %+v; want a hold with a passing analysis of all 24 requests", d.Action, d)
	}
	d, _ = c.look(ctx, f.Rollouts()[0], resumed.Add(time.Second))
	if d.Action != Advance {
		t.Fatalf("a bake after the resume: %v %v; want advance", d.Action, d.Reasons)
	}
}

// TestBreachMustRepeat gives the candidate 5 ms more latency than
// stable, in the same window: the first breaching analysis holds, the
// second, min_requests later, rolls back.
func TestBreachMustRepeat(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := newArmFleet(t0)
	c := NewController(f, ControllerConfig{Logger: slog.New(slog.DiscardHandler)})
	ctx := t.Context()
	c.look(ctx, f.Rollouts()[0], t0)
	record(f.arms[1], 400, t0.Add(100*time.Millisecond), time.Millisecond)
	record(f.arms[2], 20, t0.Add(100*time.Millisecond), 6*time.Millisecond)
	d, _ := c.look(ctx, f.Rollouts()[0], t0.Add(200*time.Millisecond))
	if d.Action != Hold || d.Breaches != 1 || f.state.Candidate != 2 {
		t.Fatalf("first breach: %v %v; want a hold with 1 breach", d.Action, d.Reasons)
	}
	record(f.arms[2], 10, t0.Add(300*time.Millisecond), 6*time.Millisecond)
	if d, _ = c.look(ctx, f.Rollouts()[0], t0.Add(400*time.Millisecond)); d.Action != Hold || d.Analysed {
		t.Fatalf("before the next analysis is due: %v analysed %v; want a hold without one", d.Action, d.Analysed)
	}
	record(f.arms[2], 10, t0.Add(500*time.Millisecond), 6*time.Millisecond)
	d, _ = c.look(ctx, f.Rollouts()[0], t0.Add(600*time.Millisecond))
	if d.Action != RollBack || f.state.Candidate != 0 || len(d.Measures) == 0 {
		t.Fatalf("second breach: %v %v; want a rollback with its measures", d.Action, d.Reasons)
	}
	for _, m := range d.Measures {
		if m.Name == "latency" && (m.Verdict != VerdictBreach || m.Low < 0.004 || m.Candidate != 40 || m.Baseline != 400) {
			t.Errorf("latency measure %+v; want a breach with the interval above 4ms on 40 and 400 requests", m)
		}
	}
}

// TestSameWindowIgnoresEarlierRequests checks that requests recorded
// before the step's window began do not count in its samples.
func TestSameWindowIgnoresEarlierRequests(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := newArmFleet(t0)
	record(f.arms[2], 100, t0.Add(-time.Second), 50*time.Millisecond) // before the window: slow, not counted
	c := NewController(f, ControllerConfig{Logger: slog.New(slog.DiscardHandler)})
	ctx := t.Context()
	c.look(ctx, f.Rollouts()[0], t0)
	record(f.arms[1], 400, t0.Add(100*time.Millisecond), time.Millisecond)
	record(f.arms[2], 20, t0.Add(100*time.Millisecond), time.Millisecond)
	d, _ := c.look(ctx, f.Rollouts()[0], t0.Add(200*time.Millisecond))
	if !d.Passed || d.Breaches != 0 {
		t.Fatalf("%v %v; want a passing analysis of the window's requests only", d.Action, d.Reasons)
	}
}

// TestMeasuresEncode checks that an analysis with extreme figures (every
// candidate request failing, p-values that underflow) still encodes as
// JSON for the audit trail: every figure is finite.
func TestMeasuresEncode(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := newArmFleet(t0)
	c := NewController(f, ControllerConfig{Logger: slog.New(slog.DiscardHandler)})
	c.look(t.Context(), f.Rollouts()[0], t0)
	record(f.arms[1], 4000, t0.Add(100*time.Millisecond), time.Millisecond)
	for range 3000 {
		f.arms[2].RecordError(t0.Add(100*time.Millisecond), time.Second)
	}
	d, _ := c.look(t.Context(), f.Rollouts()[0], t0.Add(200*time.Millisecond))
	if d.Action != RollBack {
		t.Fatalf("every request failing: %v %v; want a rollback", d.Action, d.Reasons)
	}
	if _, err := json.Marshal(d.Measures); err != nil {
		t.Fatalf("json.Marshal(measures) = %v", err)
	}
}
