package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// Models is the live model store a Service works through online:
// *modelstore.Store implements it. Desire and Force route by the new state
// before they return, so the next request follows it.
type Models interface {
	// Model returns a snapshot of the named model, or nil.
	Model(name string) *modelstore.Model
	// Desire changes a model's rollout state; see modelstore.Store.Desire.
	Desire(ctx context.Context, model string, change modelstore.Change) (*rollout.State, error)
	// Force is Desire for a change that routes version although it failed
	// its gate; see modelstore.Store.Force.
	Force(ctx context.Context, model string, version int, change modelstore.Change) (*rollout.State, error)
}

// Tracking is what a Service records in the tracking store:
// *tracking.Store implements it.
type Tracking interface {
	// Audit appends an entry to the audit trail.
	Audit(ctx context.Context, e tracking.Entry) error
	// Verdicts returns the gate's recorded verdicts; offline, the latest
	// one on a version says whether it may serve.
	Verdicts(ctx context.Context, q tracking.VerdictQuery) ([]tracking.Verdict, error)
	// RecordPublish and UndoPublish record a version as it is published,
	// in one transaction, and forget it when it then does not appear.
	RecordPublish(ctx context.Context, p tracking.Publication) (*tracking.Recorded, error)
	UndoPublish(ctx context.Context, r *tracking.Recorded) error
	// SetAlias and DeleteAlias keep MLflow's aliases.
	SetAlias(ctx context.Context, name, alias string, version int) error
	DeleteAlias(ctx context.Context, name, alias string) error
	// TransitionModelVersionStage keeps MLflow's model version stages.
	TransitionModelVersionStage(ctx context.Context, name string, version int, stage string, archiveExisting bool) (string, []int, error)
	// DeleteRegisteredModel forgets what MLflow kept of a model.
	DeleteRegisteredModel(ctx context.Context, name string) error
}

// Config configures a Service.
type Config struct {
	// Registry is the registry directory. Required.
	Registry string
	// Models is the live store of a running server. Nil makes the
	// Service offline: it plans against each model's rollout.json and the
	// gate verdicts in Tracking, and writes rollout.json itself (a server
	// watching the registry follows it).
	Models Models
	// Tracking receives the audit trail and the records of a publish.
	// Nil records nothing; offline, every version then counts as having
	// passed its gate.
	Tracking Tracking
	// Rollout is the rollout policy a model's policy.yaml overrides,
	// offline (online the store knows each model's policy). The zero value
	// means rollout.DefaultPolicy().
	Rollout rollout.Policy
	// Logger receives what a caller cannot act on, such as a deleted
	// model's directory left behind. Nil means slog.Default().
	Logger *slog.Logger
}

// Service carries out every change to what serves: rollout changes,
// alias moves, publishes and deletions, each checked, applied and audited
// the same way whether it comes from the operations API, the MLflow API,
// the CLI or the demo. Its methods may be called concurrently; online the
// store's reconciler orders the changes of one model, offline the last
// rollout.json written wins (the file is always whole).
type Service struct {
	cfg Config
	log *slog.Logger
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Registry == "" {
		return nil, errors.New("ops: no registry directory")
	}
	if cfg.Rollout.Steps == nil {
		cfg.Rollout = rollout.DefaultPolicy()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Service{cfg: cfg, log: log}, nil
}

// Online reports whether the Service works through a live store.
func (s *Service) Online() bool { return s.cfg.Models != nil }

// desire applies change to the model's rollout state, routing force
// despite its failed gate when it is not 0: online through the store,
// offline against rollout.json.
func (s *Service) desire(ctx context.Context, model string, force int, change modelstore.Change) (*rollout.State, error) {
	switch {
	case s.cfg.Models == nil:
		return s.desireOffline(ctx, model, force, change)
	case force != 0:
		return s.cfg.Models.Force(ctx, model, force, change)
	}
	return s.cfg.Models.Desire(ctx, model, change)
}

// policy returns the model's rollout policy: online the store's, which is
// the defaults for a model it does not know; offline its policy.yaml over
// cfg.Rollout.
func (s *Service) policy(model string) (rollout.Policy, error) {
	if s.cfg.Models != nil {
		if m := s.cfg.Models.Model(model); m != nil && len(m.Policy.Steps) > 0 {
			return m.Policy, nil
		}
		return s.cfg.Rollout, nil
	}
	path := filepath.Join(s.cfg.Registry, model, modelstore.PolicyFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s.cfg.Rollout, nil
	case err != nil:
		return rollout.Policy{}, fmt.Errorf("read %s: %w", path, err)
	}
	pol, err := modelstore.ParsePolicy(data)
	if err != nil {
		return rollout.Policy{}, fmt.Errorf("%s: %w", path, err)
	}
	return pol.Rollout.Apply(s.cfg.Rollout), nil
}

// withToken adds to details the name of the token ctx's request carried
// (access.Name), when there was one: who acted, as the server
// authenticated them, beside the actor they claim.
func withToken(ctx context.Context, details map[string]any) map[string]any {
	name := access.Name(ctx)
	if name == "" {
		return details
	}
	if details == nil {
		details = map[string]any{}
	}
	details["token"] = name
	return details
}

// audit appends e to the audit trail, if there is one; a failure wraps
// ErrNotAudited.
func (s *Service) audit(ctx context.Context, e tracking.Entry) error {
	if s.cfg.Tracking == nil {
		return nil
	}
	e.Details = withToken(ctx, e.Details)
	if err := s.cfg.Tracking.Audit(ctx, e); err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrNotAudited, e.Action, e.Model, err)
	}
	return nil
}
