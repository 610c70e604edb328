package modelstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// persistAudits records the store's audits of rollout.json writes, and
// recalls the state of a failing one as a tracking-backed auditor would.
type persistAudits struct {
	mu      sync.Mutex
	entries []string
	pending *rollout.State
}

func (a *persistAudits) AuditRefusal(_ context.Context, model, reason string) error {
	a.add("refuse " + model + ": " + reason)
	return nil
}

func (a *persistAudits) AuditPersistFailing(_ context.Context, model string, st *rollout.State, reason string) error {
	a.mu.Lock()
	a.pending = st
	a.mu.Unlock()
	a.add("failing " + model + ": " + reason)
	return nil
}

func (a *persistAudits) AuditPersistResolved(_ context.Context, model, reason string) error {
	a.mu.Lock()
	a.pending = nil
	a.mu.Unlock()
	a.add("resolved " + model + ": " + reason)
	return nil
}

func (a *persistAudits) PendingState(context.Context, string) (*rollout.State, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending, nil
}

func (a *persistAudits) add(e string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
}

// count returns how many entries begin with prefix.
func (a *persistAudits) count(prefix string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.entries {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func (a *persistAudits) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.entries, "\n")
}

// until polls cond until it holds, failing the test after waitLimit.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// value returns the value of the gauge or counter name of model in reg,
// or -1 when there is none.
func value(t *testing.T, reg *prometheus.Registry, name, model string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() != model {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// candidateShare returns how many of 10,000 routing keys the route of
// model sends to version n.
func candidateShare(st *modelstore.Store, model string, n int) int {
	rt := st.Table().Route(model)
	hits := 0
	for i := range 10_000 {
		if v, ok := rt.PickKey(model, fmt.Appendf(nil, "key-%d", i)); ok && v.Number == n {
			hits++
		}
	}
	return hits
}

// writeState writes model's rollout.json.
func writeState(t *testing.T, dir, model string, st *rollout.State) {
	t.Helper()
	if err := rollout.WriteState(filepath.Join(dir, model), st); err != nil {
		t.Fatal(err)
	}
}

// diskState reads model's rollout.json.
func diskState(t *testing.T, dir, model string) *rollout.State {
	t.Helper()
	st, err := rollout.ReadState(filepath.Join(dir, model))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// canaryRegistry is a registry with versions 1 and 2 of m, and 2 a
// canary at 25% since decided, an hour ago.
func canaryRegistry(t *testing.T) (dir string, decided time.Time) {
	t.Helper()
	dir = t.TempDir()
	testenv.Publish(t, dir, "m", small(1))
	testenv.Publish(t, dir, "m", small(2))
	decided = time.Now().Add(-time.Hour).UTC()
	writeState(t, dir, "m", &rollout.State{Stable: 1, Candidate: 2, Strategy: rollout.Canary, Weight: 2500,
		UpdatedAt: decided, Actor: "test", Reason: "canary"})
	if err := os.Chtimes(filepath.Join(dir, "m", rollout.StateFile), decided, decided); err != nil {
		t.Fatal(err)
	}
	return dir, decided
}

// TestRestartRecallsUnwrittenRollback restarts over a rollout.json left
// stale by a rollback that could not be written: the store recalls the
// rollback (Config.PendingWrites), routes by it from the start and writes
// it; a rollout.json edited after the rollback wins over it instead.
func TestRestartRecallsUnwrittenRollback(t *testing.T) {
	dir, decided := canaryRegistry(t)
	rollback := &rollout.State{Stable: 1, Strategy: rollout.Manual, UpdatedAt: decided.Add(time.Minute),
		Actor: "controller", Reason: "candidate error rate 1 exceeds stable's 0"}
	audit := &persistAudits{pending: rollback}
	st := openWatching(t, modelstore.Config{Dir: dir, Auditor: audit, PendingWrites: audit})
	if n := candidateShare(st, "m", 2); n != 0 {
		t.Fatalf("after a restart over a stale canary, version 2 takes %d of 10000 keys; want 0", n)
	}
	if m := st.Model("m"); m.Rollout.Candidate != 0 || m.PersistError != "" {
		t.Fatalf("after a restart the state in force is %+v (persist error %q); want the rollback, written", m.Rollout, m.PersistError)
	}
	if disk := diskState(t, dir, "m"); disk.Candidate != 0 || disk.Reason != rollback.Reason {
		t.Fatalf("rollout.json after the restart = %+v; want the recalled rollback written", disk)
	}
	until(t, "the write audited as resolved", func() bool { return audit.count("resolved m: rollout.json written") == 1 })
	st.Close()

	// A person edits rollout.json after the unwritten rollback: the edit
	// is newer, and applies.
	dir, decided = canaryRegistry(t)
	later := decided.Add(2 * time.Minute)
	if err := os.Chtimes(filepath.Join(dir, "m", rollout.StateFile), later, later); err != nil {
		t.Fatal(err)
	}
	audit = &persistAudits{pending: rollback}
	st = openWatching(t, modelstore.Config{Dir: dir, Auditor: audit, PendingWrites: audit})
	if n := candidateShare(st, "m", 2); n < 2000 || n > 3000 {
		t.Fatalf("with rollout.json edited after the unwritten rollback, version 2 takes %d of 10000 keys; want about 2500", n)
	}
}
