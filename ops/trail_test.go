package ops_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/rollout"
)

// TestTrailRecallsUnwrittenState writes the audit entries of a
// rollout.json that could not be written and reads them back as a restart
// would: the latest unresolved state comes back whole, a resolved one
// does not, and entries of other models and actions do not interfere.
func TestTrailRecallsUnwrittenState(t *testing.T) {
	ctx := context.Background()
	trail := ops.NewTrail(openTracking(t))
	pending := func(model string) *rollout.State {
		t.Helper()
		st, err := trail.PendingState(ctx, model)
		if err != nil {
			t.Fatalf("PendingState(%s): %v", model, err)
		}
		return st
	}
	if st := pending("m"); st != nil {
		t.Fatalf("a fresh trail recalls %+v; want nothing", st)
	}
	rolledBack := &rollout.State{Stable: 1, Strategy: rollout.Canary, Actor: "controller", Reason: "error rate breached",
		UpdatedAt: time.Date(2026, 12, 6, 1, 2, 3, 0, time.UTC), GateOverrides: []int{3}}
	if err := trail.AuditPersistFailing(ctx, "m", &rollout.State{Stable: 1, Candidate: 2, Strategy: rollout.Canary, Weight: 2500}, "read-only file system"); err != nil {
		t.Fatal(err)
	}
	if err := trail.AuditPersistFailing(ctx, "m", rolledBack, "read-only file system"); err != nil {
		t.Fatal(err)
	}
	if err := trail.AuditRefusal(ctx, "m", "policy.yaml: bad"); err != nil {
		t.Fatal(err)
	}
	if err := trail.AuditPersistResolved(ctx, "other", "written"); err != nil {
		t.Fatal(err)
	}
	if st := pending("m"); !reflect.DeepEqual(st, rolledBack) {
		t.Fatalf("recalled %+v; want the latest unwritten state %+v", st, rolledBack)
	}
	if st := pending("other"); st != nil {
		t.Fatalf("a model whose write was resolved recalls %+v; want nothing", st)
	}
	if err := trail.AuditPersistResolved(ctx, "m", "written"); err != nil {
		t.Fatal(err)
	}
	if st := pending("m"); st != nil {
		t.Fatalf("after the write was resolved, recalled %+v; want nothing", st)
	}
}
