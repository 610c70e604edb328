package rollout_test

import (
	"testing"

	"github.com/switchyard-ml/switchyard/rollout"
)

func TestActionString(t *testing.T) {
	f := func(a rollout.Action, want string) {
		t.Helper()
		if got := a.String(); got != want {
			t.Errorf("Action(%d).String() = %q; want %q", int(a), got, want)
		}
	}
	f(rollout.Hold, "hold")
	f(rollout.Advance, "advance")
	f(rollout.Promote, "promote")
	f(rollout.RollBack, "rollback")
	f(rollout.Inconclusive, "inconclusive")
	f(rollout.Action(9), "Action(9)")
}
