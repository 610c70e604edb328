package rollout

import "strconv"

// Action is what Decide tells the controller to do.
type Action int

const (
	// Hold keeps the rollout where it is: a step is still baking, traffic
	// is still arriving, the rollout is paused or manual, or it awaits a
	// person. The zero Action.
	Hold Action = iota
	// Advance moves the candidate to Decision.Step and Decision.Weight
	// under Decision.Strategy: the next canary step, a bluegreen switch,
	// or the start of what follows a shadow.
	Advance
	// Promote makes the candidate the stable version: it passed the last
	// canary step or the bluegreen watch.
	Promote
	// RollBack sends all traffic back to the stable version (or, after a
	// bluegreen switch, to the previous stable) and drops a shadow.
	RollBack
	// Inconclusive says too little traffic arrived to judge: the
	// controller pauses the rollout and alerts, and a person resumes or
	// rolls back.
	Inconclusive
)

// String returns the action's lowercase name ("rollback" for RollBack),
// as audit entries and metrics label it.
func (a Action) String() string {
	switch a {
	case Hold:
		return "hold"
	case Advance:
		return "advance"
	case Promote:
		return "promote"
	case RollBack:
		return "rollback"
	case Inconclusive:
		return "inconclusive"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}
