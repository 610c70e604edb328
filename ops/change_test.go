package ops_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestOnline drives the rollout changes and the aliases through a live
// store on a real registry and checks what serves after each, and the
// audit trail's numbers.
func TestOnline(t *testing.T) {
	ctx := context.Background()
	reg := registry(t, 3)
	store, err := modelstore.Open(ctx, modelstore.Config{Dir: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	st := openTracking(t)
	svc := newService(t, ops.Config{Registry: reg, Models: store, Tracking: st})
	serves := func(want int) {
		t.Helper()
		if v, err := store.Lookup("m", 0); err != nil || v.Number != want {
			t.Fatalf("Lookup = %v, %v; want version %d", v, err, want)
		}
	}
	serves(3)
	if s, err := svc.Rollback(ctx, "m", "ana", "bad numbers"); err != nil || s.Stable != 2 {
		t.Fatalf("Rollback = %+v, %v; want stable 2", s, err)
	}
	serves(2)
	e := lastAudit(t, st)
	if e.Action != "rollback" || e.Actor != "ana" || e.Reason != "bad numbers" || e.Details["stable"] != 2.0 || e.Details["via"] != nil {
		t.Fatalf("audit = %+v; want the rollback to 2", e)
	}
	s, err := svc.Promote(ctx, "m", ops.Promote{Version: 3, Strategy: rollout.Canary, Actor: "ana", Reason: "retry"})
	if err != nil || s.Candidate != 3 || s.Weight != rollout.DefaultPolicy().Steps[0] {
		t.Fatalf("Promote canary = %+v, %v; want candidate 3 at the first step", s, err)
	}
	if e := lastAudit(t, st); e.Action != "promote" || !slices.Equal(e.Versions, []int{2, 3}) || e.Details["weight_bp"] != float64(s.Weight) {
		t.Fatalf("audit = %+v; want the canary's numbers", e)
	}
	if s, err := svc.Pause(ctx, "m", "ana", "look"); err != nil || !s.Paused || s.Candidate != 3 {
		t.Fatalf("Pause = %+v, %v", s, err)
	}
	if s, err := svc.Resume(ctx, "m", "ana", "go on"); err != nil || s.Paused {
		t.Fatalf("Resume = %+v, %v", s, err)
	}
	if _, err := svc.Promote(ctx, "m", ops.Promote{Version: 2, Actor: "ana", Reason: "x"}); !errors.Is(err, rollout.ErrState) {
		t.Fatalf("Promote of the stable version = %v; want ErrState", err)
	}
	if _, err := svc.Promote(ctx, "nope", ops.Promote{Version: 1, Actor: "ana", Reason: "x"}); !errors.Is(err, modelstore.ErrNotFound) {
		t.Fatalf("Promote of an unknown model = %v; want ErrNotFound", err)
	}

	// champion promotes with on_publish (latest, so bluegreen at once).
	if err := svc.SetAlias(ctx, "m", ops.AliasChampion, 3, "mlflow-api"); err != nil {
		t.Fatal(err)
	}
	serves(3)
	if e := lastAudit(t, st); e.Action != "promote" || e.Details["alias"] != ops.AliasChampion || !slices.Equal(e.Versions, []int{3, 3}) {
		t.Fatalf("audit = %+v; want the champion's promote", e)
	}
	// challenger starts a canary; other aliases are only names.
	if err := svc.SetAlias(ctx, "m", ops.AliasChallenger, 1, "mlflow-api"); err != nil {
		t.Fatal(err)
	}
	if m := store.Model("m"); m.Rollout.Candidate != 1 || m.Rollout.Strategy != rollout.Canary {
		t.Fatalf("rollout = %+v; want candidate 1, canary", m.Rollout)
	}
	if err := svc.SetAlias(ctx, "m", "prod", 2, "mlflow-api"); err != nil {
		t.Fatal(err)
	}
	rm, err := st.RegisteredModel(ctx, "m")
	if err != nil || len(rm.Aliases) != 3 {
		t.Fatalf("aliases = %+v, %v; want champion, challenger and prod", rm, err)
	}
	if err := svc.DeleteAlias(ctx, "m", "prod"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetAlias(ctx, "nope", ops.AliasChampion, 1, "mlflow-api"); !errors.Is(err, tracking.ErrNotFound) {
		t.Fatalf("SetAlias on an unknown model = %v; want ErrNotFound", err)
	}
}

// TestOffline drives the rollout changes on a registry with no server:
// rollout.json and the gate verdicts in a real tracking store decide.
func TestOffline(t *testing.T) {
	ctx := context.Background()
	reg := registry(t, 3)
	st := openTracking(t)
	if err := st.RecordVerdict(ctx, tracking.Verdict{Model: "m", Version: 3, Pass: false, Reason: "auc 0.4 < 0.8", Detail: []byte(`{"pass": false}`)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(reg, "m", modelstore.PolicyFile), []byte("rollout:\n  steps: [10%, 100%]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, ops.Config{Registry: reg, Tracking: st})
	state := func() *rollout.State {
		t.Helper()
		s, err := rollout.ReadState(filepath.Join(reg, "m"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Version 3 failed its gate: 2 serves, and 1 is the previous.
	if s, err := svc.Rollback(ctx, "m", "ana", "back"); err != nil || s.Stable != 1 || state().Stable != 1 {
		t.Fatalf("Rollback = %+v, %v; want stable 1", s, err)
	}
	if e := lastAudit(t, st); e.Action != "rollback" || e.Details["via"] != "registry" || e.Details["stable"] != 1.0 {
		t.Fatalf("audit = %+v", e)
	}
	s, err := svc.Promote(ctx, "m", ops.Promote{Version: 2, Strategy: rollout.Canary, Actor: "ana", Reason: "again"})
	if err != nil || s.Candidate != 2 || s.Weight != 1000 {
		t.Fatalf("Promote canary = %+v, %v; want candidate 2 at policy.yaml's first step, 10%%", s, err)
	}
	_, err = svc.Promote(ctx, "m", ops.Promote{Version: 3, Actor: "ana", Reason: "x"})
	if !errors.Is(err, rollout.ErrState) || !strings.Contains(err.Error(), "auc 0.4 < 0.8") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("Promote of a version that failed its gate = %v; want a refusal", err)
	}
	s, err = svc.Promote(ctx, "m", ops.Promote{Version: 3, Force: true, Actor: "ana", Reason: "stale labels"})
	if err != nil || s.Stable != 3 || !slices.Equal(s.GateOverrides, []int{3}) {
		t.Fatalf("Promote --force = %+v, %v; want stable 3 overridden", s, err)
	}
	if e := lastAudit(t, st); e.Details["force"] != true {
		t.Fatalf("audit = %+v; want force", e)
	}
	// The override stays across later changes.
	if s, err := svc.Pause(ctx, "m", "ana", "hold"); err != nil || !s.Paused || !s.Overrides(3) {
		t.Fatalf("Pause = %+v, %v", s, err)
	}
	if s, err := svc.Pin(ctx, "m", 1, "ana", "pin"); err != nil || s.Stable != 1 || s.Strategy != rollout.Manual || state().Stable != 1 {
		t.Fatalf("Pin = %+v, %v; want stable 1", s, err)
	}
	if _, err := svc.Rollback(ctx, "nope", "ana", "x"); !errors.Is(err, modelstore.ErrNotFound) {
		t.Fatalf("Rollback of an unknown model = %v; want ErrNotFound", err)
	}
}

// TestNotAudited: a change whose audit fails is in force, and says so.
func TestNotAudited(t *testing.T) {
	ctx := context.Background()
	reg := registry(t, 2)
	st := openTracking(t)
	svc := newService(t, ops.Config{Registry: reg, Tracking: &failingTracking{Store: st, failAudit: true}})
	s, err := svc.Pin(ctx, "m", 1, "ana", "pin")
	if !errors.Is(err, ops.ErrNotAudited) || !errors.Is(err, errInjected) || s == nil || s.Stable != 1 {
		t.Fatalf("Pin with a failing audit = %+v, %v; want the state and ErrNotAudited", s, err)
	}
}
