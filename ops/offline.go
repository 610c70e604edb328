package ops

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// desireOffline is desire without a live store: it plans against the
// model's rollout.json with modelstore.PlanChange, as the reconciler does,
// and writes the file atomically. What serves is rollout.json's stable
// version, else the newest complete version whose gate, as far as the
// tracking store knows, did not fail; the previous version is the newest
// such below it.
func (s *Service) desireOffline(ctx context.Context, model string, force int, change modelstore.Change) (*rollout.State, error) {
	complete, _, err := modelstore.Versions(s.cfg.Registry, model)
	if err != nil {
		return nil, err
	}
	if !modelstore.ValidName(model) || len(complete) == 0 {
		return nil, fmt.Errorf("model %q has no version in %s: %w", model, s.cfg.Registry, modelstore.ErrNotFound)
	}
	dir := filepath.Join(s.cfg.Registry, model)
	cur, err := rollout.ReadState(dir)
	if err != nil {
		return nil, err
	}
	versions := make([]modelstore.Standing, len(complete))
	serving := 0
	for i, n := range complete {
		versions[i].Number = n
		v, err := s.latestVerdict(ctx, model, n)
		if err != nil {
			return nil, err
		}
		if v != nil && !v.Pass {
			versions[i].GateFailed, versions[i].GateReason = true, v.Reason
		} else {
			serving = n
		}
	}
	if cur != nil {
		serving = cur.Stable
	}
	next, err := modelstore.PlanChange(cur, serving, versions, change, force)
	if err != nil {
		return nil, err
	}
	if err := rollout.WriteState(dir, next); err != nil {
		return nil, err
	}
	return next, nil
}

// latestVerdict returns the gate's latest recorded verdict on a version,
// or nil.
func (s *Service) latestVerdict(ctx context.Context, model string, version int) (*tracking.Verdict, error) {
	if s.cfg.Tracking == nil {
		return nil, nil
	}
	vs, err := s.cfg.Tracking.Verdicts(ctx, tracking.VerdictQuery{Model: model, Version: version, Limit: 1})
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return &vs[0], nil
}
