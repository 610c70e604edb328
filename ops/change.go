package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// DefaultStrategy is the strategy of a promote that names none: a person
// who promotes without saying how means now. (The champion alias, set by
// tooling, follows the model's on_publish instead; see SetAlias.)
const DefaultStrategy = rollout.BlueGreen

// Promote asks to roll a version out.
type Promote struct {
	// Version is the version to roll out.
	Version int
	// Strategy is canary, bluegreen, shadow or manual; empty means
	// DefaultStrategy. A canary starts at the first step of the model's
	// policy.
	Strategy string
	// Force routes Version although it failed its gate: the override is
	// kept in rollout.json (gate_overrides) and audited with the reason.
	Force bool
	// Actor and Reason say who asks and why; both are required.
	Actor, Reason string
}

// Promote rolls p.Version out over what serves the model and audits it.
// It fails with an error wrapping rollout.ErrState for a change that
// cannot be made (such as a version that failed its gate, without
// p.Force), and modelstore.ErrNotFound for a model that is not there. A
// state returned with an error wrapping ErrNotAudited is in force.
func (s *Service) Promote(ctx context.Context, model string, p Promote) (*rollout.State, error) {
	if p.Strategy == "" {
		p.Strategy = DefaultStrategy
	}
	pol, err := s.policy(model)
	if err != nil {
		return nil, fmt.Errorf("promote %s: %w", model, err)
	}
	c := change(p.Actor, p.Reason)
	force := 0
	if p.Force {
		force = p.Version
	}
	return s.apply(ctx, model, "promote", force, c, func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
		return rollout.PlanPromote(cur, serving, p.Version, p.Strategy, pol.Steps[0], c)
	})
}

// Rollback undoes what the model's rollout is doing (a candidate or
// shadow is dropped), or, with none in progress, makes the previous good
// version stable; it takes effect on the next request. It fails and
// audits as Promote does.
func (s *Service) Rollback(ctx context.Context, model, actor, reason string) (*rollout.State, error) {
	c := change(actor, reason)
	return s.apply(ctx, model, "rollback", 0, c, func(cur *rollout.State, serving, previous int) (*rollout.State, error) {
		return rollout.PlanRollback(cur, serving, previous, c)
	})
}

// Pause stops the controller from taking decisions on the model's
// rollout; its weights stay. It fails and audits as Promote does.
func (s *Service) Pause(ctx context.Context, model, actor, reason string) (*rollout.State, error) {
	return s.pause(ctx, model, "pause", actor, reason)
}

// Resume lets the controller take decisions on a paused rollout again.
// It fails and audits as Promote does.
func (s *Service) Resume(ctx context.Context, model, actor, reason string) (*rollout.State, error) {
	return s.pause(ctx, model, "resume", actor, reason)
}

func (s *Service) pause(ctx context.Context, model, action, actor, reason string) (*rollout.State, error) {
	c := change(actor, reason)
	return s.apply(ctx, model, action, 0, c, func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
		return rollout.PlanPause(cur, serving, action == "pause", c)
	})
}

// Pin makes version the model's stable version with no rollout in
// progress (strategy manual), whatever serves now and whatever
// rollout.json said: a fresh registry's first version, say, then keeps
// serving until a later one is rolled out, instead of the newest. It is
// audited as a promote.
func (s *Service) Pin(ctx context.Context, model string, version int, actor, reason string) (*rollout.State, error) {
	c := change(actor, reason)
	return s.apply(ctx, model, "promote", 0, c, func(*rollout.State, int, int) (*rollout.State, error) {
		return rollout.PlanPromote(nil, 0, version, rollout.Manual, 0, c)
	})
}

// change returns the rollout.Change that actor makes now for reason.
func change(actor, reason string) rollout.Change {
	return rollout.Change{Actor: actor, Reason: reason, Now: time.Now().UTC()}
}

// apply makes a rollout change and audits it as action, with the state's
// numbers.
func (s *Service) apply(ctx context.Context, model, action string, force int, c rollout.Change, plan modelstore.Change) (*rollout.State, error) {
	st, err := s.desire(ctx, model, force, plan)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", action, model, err)
	}
	versions := []int{st.Stable}
	for _, v := range []int{st.Candidate, st.Shadow} {
		if v != 0 {
			versions = append(versions, v)
		}
	}
	details := map[string]any{"stable": st.Stable, "candidate": st.Candidate, "shadow": st.Shadow, "strategy": st.Strategy,
		"weight_bp": st.Weight, "paused": st.Paused, "force": force != 0, "gate_overrides": st.GateOverrides}
	if !s.Online() {
		details["via"] = "registry"
	}
	err = s.audit(ctx, tracking.Entry{Actor: c.Actor, Action: action, Model: model, Versions: versions, Reason: c.Reason, Details: details})
	return st, err
}
