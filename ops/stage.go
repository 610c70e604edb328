package ops

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// Transition asks to move a version to one of MLflow's stages.
type Transition struct {
	// Version is the version to move.
	Version int
	// Stage is None, Staging, Production or Archived, in any case.
	Stage string
	// ArchiveExisting moves the model's other versions in Stage to
	// Archived; it is valid only for Staging and Production, as in
	// MLflow.
	ArchiveExisting bool
	// Actor and Reason say who asks and why.
	Actor, Reason string
}

// TransitionStage moves a version to an MLflow stage, mapped onto what
// serves:
//   - Production promotes it as setting the champion alias does: with the
//     model's on_publish strategy (canary, or bluegreen when that is
//     manual, latest or unset), audited as a promote. A version that
//     already takes all traffic stays as it is. One that has not finished
//     loading and gating, or that failed, is refused: it cannot serve.
//   - Staging and Archived take the version out of traffic: a candidate
//     or shadow is rolled back (audited as a rollback), and what the store
//     no longer routes drains, unless it keeps it loaded for an instant
//     rollback (keep_previous) or an instant promote. The stable version
//     is refused: nothing else would serve in its place (MLflow allows
//     it; switchyard would have to stop serving the model), so another
//     version goes to Production first. A version that failed its gate
//     cannot be Staging.
//   - None only records the stage.
//
// With ArchiveExisting the model's other versions in the stage become
// Archived: a previous Production version leaves traffic as the promote
// replaces it (at once with bluegreen, when the canary completes with
// canary). The stage is recorded in the tracking store and the transition
// audited (action "stage") with the versions archived. It returns those.
//
// A bad stage or a change that cannot be made fails with an error
// wrapping tracking.ErrInvalid before anything changes; online, a model
// the store does not know with one wrapping tracking.ErrNotFound. The
// caller checks that the version exists.
func (s *Service) TransitionStage(ctx context.Context, model string, t Transition) ([]int, error) {
	stage, err := tracking.CanonicalStage(t.Stage)
	if err != nil {
		return nil, err
	}
	if err := tracking.CheckTransition(stage, t.ArchiveExisting); err != nil {
		return nil, err
	}
	if s.cfg.Tracking == nil {
		return nil, fmt.Errorf("%w: stages are kept in the tracking store, and this registry has none", tracking.ErrInvalid)
	}
	reason := t.Reason
	if reason == "" {
		reason = "stage " + stage + " set through MLflow"
	}
	c := change(t.Actor, reason)
	switch stage {
	case tracking.StageProduction:
		err = s.toProduction(ctx, model, t.Version, c)
	case tracking.StageStaging, tracking.StageArchived:
		err = s.outOfTraffic(ctx, model, t.Version, stage, c)
	}
	if err != nil {
		return nil, err
	}
	from, archived, err := s.cfg.Tracking.TransitionModelVersionStage(ctx, model, t.Version, stage, t.ArchiveExisting)
	if err != nil {
		return nil, err
	}
	return archived, s.audit(ctx, tracking.Entry{Actor: c.Actor, Action: "stage", Model: model, Versions: append([]int{t.Version}, archived...),
		Reason: c.Reason, Details: map[string]any{"stage": stage, "from": from, "archive_existing_versions": t.ArchiveExisting, "archived": archived}})
}

// toProduction promotes version as the champion alias does, unless it
// already takes all traffic; online it refuses a version that cannot
// serve yet or failed.
func (s *Service) toProduction(ctx context.Context, model string, version int, c rollout.Change) error {
	if s.Online() {
		m := s.cfg.Models.Model(model)
		if m == nil {
			return fmt.Errorf("%w: model version (name=%s, version=%d) is not loaded by this server", tracking.ErrNotFound, model, version)
		}
		if m.Stable != nil && m.Stable.Number == version && (m.Rollout == nil || m.Rollout.Candidate == 0) {
			return nil // takes all traffic already
		}
		v := m.Version(version)
		switch st := stateOf(v); st {
		case modelstore.Loading, modelstore.Gating:
			return fmt.Errorf("%w: version %d of %s is %s: it can go to Production once its status is READY", tracking.ErrInvalid, version, model, st)
		case modelstore.Failed:
			return fmt.Errorf("%w: version %d of %s failed and cannot serve: %s", tracking.ErrInvalid, version, model, v.Reason())
		}
	}
	return s.rollOut(ctx, model, version, true, c, map[string]any{"stage": tracking.StageProduction})
}

// stateOf returns v's state, Loading for a version the store has not
// seen yet.
func stateOf(v *modelstore.Version) modelstore.State {
	if v == nil {
		return modelstore.Loading
	}
	return v.State()
}

// outOfTraffic takes version out of the model's traffic for stage
// (Staging or Archived): a candidate or shadow is rolled back; the stable
// version is refused.
func (s *Service) outOfTraffic(ctx context.Context, model string, version int, stage string, c rollout.Change) error {
	cur, serving, err := s.routed(model)
	if err != nil {
		return err
	}
	if stage == tracking.StageStaging && s.Online() {
		if m := s.cfg.Models.Model(model); m != nil {
			if v := m.Version(version); v != nil && v.State() == modelstore.Failed {
				return fmt.Errorf("%w: version %d of %s failed and cannot be Staging: %s", tracking.ErrInvalid, version, model, v.Reason())
			}
		}
	}
	switch {
	case serving == version:
		return fmt.Errorf("%w: version %d takes %s's traffic and nothing would serve in its place: transition another version to Production first",
			tracking.ErrInvalid, version, model)
	case cur != nil && (cur.Candidate == version || cur.Shadow == version):
		_, err := s.Rollback(ctx, model, c.Actor, c.Reason)
		if err != nil {
			return fmt.Errorf("%w: %v", tracking.ErrInvalid, err)
		}
	}
	return nil
}

// routed returns the model's rollout state in force and the version that
// takes the traffic its candidate does not (0 when none is known):
// online the store's, offline rollout.json's.
func (s *Service) routed(model string) (*rollout.State, int, error) {
	if s.Online() {
		m := s.cfg.Models.Model(model)
		if m == nil {
			return nil, 0, fmt.Errorf("%w: registered model with name=%s is not loaded by this server", tracking.ErrNotFound, model)
		}
		serving := 0
		if m.Stable != nil {
			serving = m.Stable.Number
		}
		return m.Rollout, serving, nil
	}
	cur, err := rollout.ReadState(filepath.Join(s.cfg.Registry, model))
	if err != nil || cur == nil {
		return cur, 0, err
	}
	return cur, cur.Stable, nil
}
