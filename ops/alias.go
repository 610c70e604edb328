package ops

import (
	"context"
	"fmt"
	"slices"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The aliases that mean a rollout: champion is the stable version, and
// challenger the candidate (or shadow).
const (
	AliasChampion   = "champion"
	AliasChallenger = "challenger"
)

// SetAlias points a model's alias at version, as MLflow's registry does,
// and gives champion and challenger their meaning first: champion promotes
// the version with the model's on_publish strategy (bluegreen when that is
// manual or unset), challenger starts it as a canary at the policy's first
// step; the rollout change is audited as a promote by actor. Other aliases
// are only names. The caller checks that the version exists.
//
// Setting an alias is an idempotent upsert, as in MLflow. Online, the
// alias is only recorded, with no rollout change, when the version
// already takes all traffic (there is nothing to change) or has not
// finished loading and gating yet (it cannot take traffic yet; it is then
// rolled out as the model's policy says when it is ready, and setting the
// alias again once it is ready moves the rollout).
//
// A rollout change that cannot be made fails with an error wrapping
// tracking.ErrInvalid, and online a model the store does not know with
// one wrapping tracking.ErrNotFound; the alias is then left as it was.
func (s *Service) SetAlias(ctx context.Context, model, alias string, version int, actor string) error {
	if (alias == AliasChampion || alias == AliasChallenger) && !s.aliasOnly(model, version) {
		if err := s.rollOutAlias(ctx, model, alias, version, actor); err != nil {
			return err
		}
	}
	if s.cfg.Tracking == nil {
		return nil
	}
	return s.cfg.Tracking.SetAlias(ctx, model, alias, version)
}

// DeleteAlias removes a model's alias; removing one that does not exist
// is not an error. What serves does not change: deleting champion or
// challenger only forgets the name.
func (s *Service) DeleteAlias(ctx context.Context, model, alias string) error {
	if s.cfg.Tracking == nil {
		return nil
	}
	return s.cfg.Tracking.DeleteAlias(ctx, model, alias)
}

// aliasOnly reports whether, online, setting champion or challenger on
// version changes no rollout: the version already takes all traffic, or
// it is complete on disk but not loaded and gated yet.
func (s *Service) aliasOnly(model string, version int) bool {
	if !s.Online() {
		return false
	}
	m := s.cfg.Models.Model(model)
	if m != nil && m.Stable != nil && m.Stable.Number == version {
		return true
	}
	if m != nil {
		if v := m.Version(version); v != nil {
			st := v.State()
			return st == modelstore.Loading || st == modelstore.Gating
		}
	}
	complete, _, err := modelstore.Versions(s.cfg.Registry, model)
	return err == nil && slices.Contains(complete, version) // on disk, not seen by the store yet
}

// rollOutAlias makes the rollout change that setting alias means.
func (s *Service) rollOutAlias(ctx context.Context, model, alias string, version int, actor string) error {
	return s.rollOut(ctx, model, version, alias == AliasChampion, change(actor, "alias "+alias+" set through MLflow"), map[string]any{"alias": alias})
}

// rollOut promotes version as the champion alias and the Production
// stage mean, when champion is true: with the model's on_publish strategy
// (bluegreen when that is manual, latest or unset); otherwise it starts
// version as a canary candidate at the policy's first step, as the
// challenger alias means. The change is audited as a promote by c.Actor
// with details (which it extends). A change that cannot be made fails
// with an error wrapping tracking.ErrInvalid, and online a model the
// store does not know with one wrapping tracking.ErrNotFound.
func (s *Service) rollOut(ctx context.Context, model string, version int, champion bool, c rollout.Change, details map[string]any) error {
	if s.Online() && s.cfg.Models.Model(model) == nil {
		return fmt.Errorf("%w: model version (name=%s, version=%d) is not loaded by this server", tracking.ErrNotFound, model, version)
	}
	pol, err := s.policy(model)
	if err != nil {
		return fmt.Errorf("%w: %v", tracking.ErrInvalid, err)
	}
	strategy := rollout.Canary
	if champion {
		strategy = pol.OnPublish
		if strategy == rollout.Latest || strategy == rollout.Manual || strategy == "" {
			strategy = rollout.BlueGreen
		}
	}
	st, err := s.desire(ctx, model, 0, func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
		if cur != nil && cur.Stable == version && champion {
			return cur, nil // already the champion
		}
		return rollout.PlanPromote(cur, serving, version, strategy, pol.Steps[0], c)
	})
	if err != nil {
		return fmt.Errorf("%w: %v", tracking.ErrInvalid, err)
	}
	details["strategy"], details["weight_bp"] = st.Strategy, st.Weight
	return s.audit(ctx, tracking.Entry{Actor: c.Actor, Action: "promote", Model: model, Versions: []int{st.Stable, version},
		Reason: c.Reason, Details: details})
}
