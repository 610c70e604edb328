package ops_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestTransitionStageOffline moves versions through MLflow's stages
// against a registry directory (no live store): Production writes the
// promote into rollout.json, the others keep it unless the version is
// routed; each transition is recorded and audited, and each refusal
// changes nothing.
func TestTransitionStageOffline(t *testing.T) {
	reg := registry(t, 3)
	st := openTracking(t)
	svc := newService(t, ops.Config{Registry: reg, Tracking: st})
	ctx := context.Background()
	move := func(v int, stage string, archive bool) ([]int, error) {
		return svc.TransitionStage(ctx, "m", ops.Transition{Version: v, Stage: stage, ArchiveExisting: archive, Actor: "ana", Reason: "review"})
	}
	stable := func() int {
		t.Helper()
		cur, err := rollout.ReadState(filepath.Join(reg, "m"))
		if err != nil || cur == nil {
			t.Fatalf("rollout.json = %+v, %v", cur, err)
		}
		return cur.Stable
	}

	if _, err := move(2, "production", false); err != nil {
		t.Fatal(err)
	}
	if got := stable(); got != 2 {
		t.Fatalf("after Production: stable %d; want 2", got)
	}
	if e := lastAudit(t, st); e.Action != "stage" || e.Actor != "ana" || e.Details["stage"] != "Production" || e.Details["from"] != "None" {
		t.Fatalf("audit = %+v", e)
	}
	if _, err := move(3, "Staging", false); err != nil {
		t.Fatal(err)
	}
	archived, err := move(1, "Production", true)
	if err != nil || len(archived) != 1 || archived[0] != 2 || stable() != 1 {
		t.Fatalf("Production with archive_existing_versions: archived %v, %v, stable %d; want [2], stable 1", archived, err, stable())
	}
	stages, err := st.ModelVersionStages(ctx, "m")
	if err != nil || len(stages) != 3 || stages[1] != "Production" || stages[2] != "Archived" || stages[3] != "Staging" {
		t.Fatalf("stages = %v, %v", stages, err)
	}

	before := lastAudit(t, st)
	for _, c := range []struct {
		v       int
		stage   string
		archive bool
	}{
		{2, "Prod", false},
		{2, "Archived", true},
		{2, "None", true},
		{1, "Archived", false}, // takes all traffic
		{1, "Staging", false},
	} {
		if _, err := move(c.v, c.stage, c.archive); !errors.Is(err, tracking.ErrInvalid) {
			t.Errorf("%d to %s (archive %t) = %v; want ErrInvalid", c.v, c.stage, c.archive, err)
		}
	}
	if after := lastAudit(t, st); after.ID != before.ID || stable() != 1 {
		t.Errorf("the refusals changed something: audit %+v, stable %d", after, stable())
	}
	if again, err := st.ModelVersionStages(ctx, "m"); err != nil || len(again) != 3 || again[1] != "Production" {
		t.Errorf("stages after the refusals = %v, %v", again, err)
	}
}
