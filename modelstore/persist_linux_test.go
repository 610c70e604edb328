package modelstore_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// TestRollbackNotBlockedByDisk runs the controller over a real store whose
// registry becomes read-only mid-canary: the candidate breaches and is
// rolled back at once, in memory (zero candidate keys, the pending gauge
// at 1, the failure in the snapshot and audited once), the decision is
// not refused on every tick, and once the registry is writable again
// rollout.json is written and the gauge returns to 0.
func TestRollbackNotBlockedByDisk(t *testing.T) {
	dir, _ := canaryRegistry(t)
	writePolicy(t, dir, "m", "rollout:\n  steps: [\"25%\", 10000]\n  bake: 50ms\n  min_requests: 20\n")
	reg := prometheus.NewPedanticRegistry()
	metrics, err := modelstore.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	audit := &persistAudits{}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	st := openWatching(t, modelstore.Config{Dir: dir, Metrics: metrics, Auditor: audit, PersistRetry: 20 * time.Millisecond, Logger: log})
	if n := candidateShare(st, "m", 2); n < 2000 || n > 3000 {
		t.Fatalf("the canary takes %d of 10000 keys; want about 2500", n)
	}
	writable := testenv.ReadOnly(t, filepath.Join(dir, "m"))

	ctrl := rollout.NewController(st, rollout.ControllerConfig{Tick: 10 * time.Millisecond, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctrl.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	until(t, "the controller watching the canary", func() bool { _, ok := ctrl.Analysis("m"); return ok })
	m := st.Model("m")
	for range 50 { // the candidate fails every request
		m.Version(1).Stats.RecordSuccess(time.Now(), time.Millisecond, 0.5)
		m.Version(2).Stats.RecordError(time.Now(), time.Millisecond)
	}
	until(t, "the rollback in force", func() bool { r := st.Model("m").Rollout; return r != nil && r.Candidate == 0 })

	if n := candidateShare(st, "m", 2); n != 0 {
		t.Fatalf("after the rollback version 2 takes %d of 10000 keys; want 0", n)
	}
	if g := value(t, reg, "switchyard_rollout_persist_pending", "m"); g != 1 {
		t.Errorf("pending gauge = %v; want 1", g)
	}
	if m := st.Model("m"); !strings.Contains(m.PersistError, "read-only file system") && !strings.Contains(m.PersistError, "permission denied") ||
		m.PersistFailingSince.IsZero() {
		t.Errorf("snapshot persist error %q since %v; want the filesystem's error", m.PersistError, m.PersistFailingSince)
	}
	if disk := diskState(t, dir, "m"); disk.Candidate != 2 {
		t.Fatalf("rollout.json = %+v; want it still stale (the registry is read-only)", disk)
	}
	time.Sleep(200 * time.Millisecond) // a few retries and twenty ticks
	if n := candidateShare(st, "m", 2); n != 0 {
		t.Fatalf("while the write is pending version 2 takes %d of 10000 keys; want 0", n)
	}
	if f := value(t, reg, "switchyard_rollout_persist_failures_total", "m"); f < 2 {
		t.Errorf("failed writes = %v; want the retries counted", f)
	}
	if n := strings.Count(logs.String(), "rollout decision not applied"); n != 0 {
		t.Errorf("the controller logged %d refused decisions; want none:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "rollout.json not written"); n != 1 {
		t.Errorf("the failing write was logged %d times; want once", n)
	}
	if n := audit.count("failing m: "); n != 1 {
		t.Errorf("the failing write was audited %d times; want once:\n%s", n, audit)
	}

	writable()
	until(t, "rollout.json written", func() bool { return value(t, reg, "switchyard_rollout_persist_pending", "m") == 0 })
	if disk := diskState(t, dir, "m"); disk.Candidate != 0 || disk.Stable != 1 || disk.Actor != "controller" {
		t.Fatalf("rollout.json once writable = %+v; want the controller's rollback", disk)
	}
	if m := st.Model("m"); m.PersistError != "" {
		t.Errorf("persist error %q after the write; want none", m.PersistError)
	}
	until(t, "the recovery audited", func() bool { return audit.count("resolved m: rollout.json written") == 1 })
	if n := audit.count("failing m: "); n != 1 {
		t.Errorf("the failing write was audited %d times; want once:\n%s", n, audit)
	}
}

// TestRescanKeepsUnwrittenState checks that while the state in force
// waits to be written, a rescan that reads the stale rollout.json does not
// bring the canary back, and that an edit of rollout.json made meanwhile
// supersedes the pending write.
func TestRescanKeepsUnwrittenState(t *testing.T) {
	dir, _ := canaryRegistry(t)
	audit := &persistAudits{}
	st := openWatching(t, modelstore.Config{Dir: dir, Auditor: audit, PersistRetry: time.Hour})
	writable := testenv.ReadOnly(t, filepath.Join(dir, "m"))
	ctx := context.Background()
	c := rollout.Change{Actor: "ana", Reason: "the canary misbehaves", Now: time.Now()}
	next, err := st.Desire(ctx, "m", func(cur *rollout.State, serving, previous int) (*rollout.State, error) {
		return rollout.PlanRollback(cur, serving, previous, c)
	})
	if err != nil || next.Candidate != 0 {
		t.Fatalf("Desire(rollback) on a read-only registry = %+v, %v; want the rollback applied", next, err)
	}
	if st.Model("m").PersistError == "" {
		t.Fatal("no persist error in the snapshot after a failed write")
	}
	for range 3 {
		if err := st.Rescan(ctx); err != nil {
			t.Fatal(err)
		}
		if n := candidateShare(st, "m", 2); n != 0 {
			t.Fatalf("a rescan of the stale rollout.json gave version 2 %d of 10000 keys; want 0", n)
		}
	}
	if m := st.Model("m"); m.Rollout.Candidate != 0 || m.PersistError == "" {
		t.Fatalf("after rescans the state in force is %+v (persist error %q); want the rollback, pending", m.Rollout, m.PersistError)
	}

	// A person edits rollout.json (where it is writable): the edit is
	// newer than the pending rollback, and applies.
	writable()
	writeState(t, dir, "m", &rollout.State{Stable: 1, Candidate: 2, Strategy: rollout.Canary, Weight: 5000,
		UpdatedAt: time.Now(), Actor: "bob", Reason: "try again at half"})
	if err := st.Rescan(ctx); err != nil {
		t.Fatal(err)
	}
	if n := candidateShare(st, "m", 2); n < 4500 || n > 5500 {
		t.Fatalf("after an edit during the pending write version 2 takes %d of 10000 keys; want about 5000", n)
	}
	if m := st.Model("m"); m.PersistError != "" || m.Rollout.Actor != "bob" {
		t.Fatalf("after the edit the state in force is %+v (persist error %q); want bob's, nothing pending", m.Rollout, m.PersistError)
	}
	until(t, "the superseded write audited", func() bool { return audit.count("resolved m: rollout.json edited") == 1 })
}
