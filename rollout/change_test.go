package rollout

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestActions(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	c := Change{Actor: "ana", Reason: "why", Now: now}
	f := func(what string, got *State, err error, want State) {
		t.Helper()
		want.UpdatedAt, want.Actor, want.Reason = now, "ana", "why"
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("%s = %+v, %v; want %+v", what, got, err, want)
		}
	}
	s, err := PlanPromote(nil, 3, 4, Canary, 500, c)
	f("canary over newest-ready", s, err, State{Stable: 3, Candidate: 4, Strategy: Canary, Weight: 500})
	canary := *s
	s, err = PlanPromote(&canary, 3, 4, BlueGreen, 500, c)
	f("promote the candidate with another strategy: finish", s, err, State{Stable: 4, Strategy: BlueGreen})
	s, err = PlanPromote(nil, 3, 5, BlueGreen, 500, c)
	f("bluegreen", s, err, State{Stable: 5, Strategy: BlueGreen})
	s, err = PlanPromote(nil, 3, 5, Shadow, 500, c)
	f("shadow", s, err, State{Stable: 3, Shadow: 5, Strategy: Shadow})
	s, err = PlanPromote(nil, 0, 1, Manual, 500, c)
	f("first version, manual", s, err, State{Stable: 1, Strategy: Manual})
	s, err = PlanRollback(&canary, 3, 2, c)
	f("rollback a canary", s, err, State{Stable: 3, Strategy: Manual})
	s, err = PlanRollback(nil, 3, 2, c)
	f("rollback to previous", s, err, State{Stable: 2, Strategy: Manual})
	s, err = PlanPause(&canary, 3, true, c)
	f("pause", s, err, State{Stable: 3, Candidate: 4, Strategy: Canary, Weight: 500, Paused: true})

	bad := func(_ *State, err error) {
		t.Helper()
		if !errors.Is(err, ErrState) {
			t.Errorf("got %v; want ErrState", err)
		}
	}
	bad(PlanPromote(nil, 3, 3, Canary, 500, c))
	bad(PlanPromote(nil, 3, 4, "yolo", 500, c))
	bad(PlanPromote(nil, 3, 4, Canary, 0, c))
	bad(PlanPromote(nil, 0, 4, Canary, 500, c))
	bad(PlanPromote(nil, 3, 4, Canary, 500, Change{Actor: "ana"}))
	bad(PlanRollback(nil, 3, 0, c))
	bad(PlanRollback(nil, 3, 4, Change{Reason: "x"}))
	bad(PlanPause(nil, 0, true, c))
}
