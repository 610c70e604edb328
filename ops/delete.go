package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// DeleteModel removes a model from the registry, out of a watcher's sight
// first so that its versions drain at once (modelstore.DeleteModel), then
// forgets what the tracking store kept of it as a registered model and
// audits the deletion. The runs and the audit trail stay. It fails with an
// error wrapping modelstore.ErrNotFound when the model has no directory; a
// directory left behind once the model is out of sight is logged.
func (s *Service) DeleteModel(ctx context.Context, model, actor, reason string) error {
	err := modelstore.DeleteModel(s.cfg.Registry, model)
	var left *modelstore.LeftoverError
	switch {
	case errors.As(err, &left):
		s.log.Warn("deleted model directory not fully removed", "path", left.Path, "error", left.Err)
	case err != nil:
		return err
	}
	if s.cfg.Tracking == nil {
		return nil
	}
	if err := s.cfg.Tracking.DeleteRegisteredModel(ctx, model); err != nil {
		return fmt.Errorf("delete model %q: forget its registry records: %w", model, err)
	}
	return s.audit(ctx, tracking.Entry{Actor: actor, Action: "delete", Model: model, Reason: reason})
}
