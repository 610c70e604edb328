package rollout

import (
	"fmt"
	"time"
)

// Change describes who asks for a state change and why; both are
// required, and both go into rollout.json and the audit trail.
type Change struct {
	Actor  string
	Reason string
	// Now is when the change is made: the state's UpdatedAt.
	Now time.Time
}

func (c Change) check() error {
	if c.Actor == "" || c.Reason == "" {
		return fmt.Errorf("%w: a change needs an actor and a reason", ErrState)
	}
	return nil
}

// PlanPromote returns the state that rolls version out over cur, the state in
// force (nil when the model has no rollout.json and serving, the version
// that serves now, takes all traffic).
//
//   - canary: version becomes the candidate at firstWeight basis points
//     (the policy's first step) over the stable version;
//   - shadow: version gets a copy of stable's requests, and no answer;
//   - bluegreen and manual: version becomes stable at once.
//
// Promoting the current candidate or shadow with any strategy other than
// its own finishes the rollout: it becomes stable. Promoting the stable
// version is an error.
func PlanPromote(cur *State, serving, version int, strategy string, firstWeight int, c Change) (*State, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	stable := serving
	if cur != nil {
		stable = cur.Stable
	}
	if version <= 0 {
		return nil, fmt.Errorf("%w: version %d is not a version", ErrState, version)
	}
	if version == stable {
		return nil, fmt.Errorf("%w: version %d is already stable", ErrState, version)
	}
	next := &State{Stable: stable, Strategy: strategy, UpdatedAt: c.Now, Actor: c.Actor, Reason: c.Reason}
	finishing := cur != nil && (cur.Candidate == version || cur.Shadow == version) && cur.Strategy != strategy
	switch {
	case finishing || strategy == BlueGreen || strategy == Manual:
		next.Stable = version
	case strategy == Canary:
		if firstWeight <= 0 || firstWeight > FullWeight {
			return nil, fmt.Errorf("%w: first canary step %d bp is outside 1..%d", ErrState, firstWeight, FullWeight)
		}
		next.Candidate, next.Weight = version, firstWeight
	case strategy == Shadow:
		next.Shadow = version
	default:
		return nil, fmt.Errorf("%w: strategy %q: want canary, bluegreen, shadow or manual", ErrState, strategy)
	}
	if stable <= 0 && next.Stable != version {
		return nil, fmt.Errorf("%w: nothing serves to roll version %d out over: promote it with bluegreen or manual", ErrState, version)
	}
	if err := next.check(); err != nil {
		return nil, err
	}
	return next, nil
}

// PlanRollback returns the state that undoes what cur is doing: a candidate or
// shadow is dropped and stable keeps all traffic; without one, previous
// (the newest good version below stable) becomes stable. It takes effect
// on the next request once applied.
func PlanRollback(cur *State, serving, previous int, c Change) (*State, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	stable := serving
	if cur != nil {
		stable = cur.Stable
	}
	next := &State{Stable: stable, Strategy: Manual, UpdatedAt: c.Now, Actor: c.Actor, Reason: c.Reason}
	if cur == nil || cur.Candidate == 0 && cur.Shadow == 0 {
		if previous <= 0 || previous == stable {
			return nil, fmt.Errorf("%w: no previous version to roll back to from version %d", ErrState, stable)
		}
		next.Stable = previous
	}
	if err := next.check(); err != nil {
		return nil, err
	}
	return next, nil
}

// PlanPause returns cur paused or resumed: a paused rollout keeps its
// weights, and the controller takes no decision on it until it resumes.
func PlanPause(cur *State, serving int, paused bool, c Change) (*State, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	next := &State{Stable: serving, Strategy: Manual}
	if cur != nil {
		kept := *cur
		next = &kept
	}
	if next.Stable <= 0 {
		return nil, fmt.Errorf("%w: nothing serves to pause", ErrState)
	}
	next.Paused, next.UpdatedAt, next.Actor, next.Reason = paused, c.Now, c.Actor, c.Reason
	return next, nil
}
