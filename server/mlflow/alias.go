package mlflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/switchyard-ml/switchyard/tracking"
)

// alias serves registered-models/alias: POST sets, GET reads, DELETE
// removes.
func (s *Server) alias(ctx *request) (any, error) {
	var req struct {
		Name    string `json:"name"`
		Alias   string `json:"alias"`
		Version string `json:"version"`
	}
	if ctx.IsGet() {
		req.Name, req.Alias = query(ctx, "name"), query(ctx, "alias")
	} else if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	if req.Alias == "" {
		return nil, missingParam("alias")
	}
	if _, err := s.modelDir(req.Name); err != nil {
		return nil, err
	}
	switch {
	case ctx.IsGet():
		aliases, err := s.aliases(ctx, req.Name)
		if err != nil {
			return nil, err
		}
		for _, a := range aliases {
			if a.Alias == req.Alias {
				mv, err := s.modelVersion(ctx, req.Name, a.Version)
				return modelVersionResponse{mv}, err
			}
		}
		return nil, fmt.Errorf("%w: registered model alias %s not found", tracking.ErrInvalid, req.Alias)
	case s.cfg.Ops == nil:
		return nil, errNotConfigured
	case ctx.IsDelete():
		return empty{}, s.cfg.Ops.DeleteAlias(ctx, req.Name, req.Alias)
	}
	if req.Version == "" {
		return nil, missingParam("version")
	}
	v, err := versionNumber(req.Version)
	if err != nil {
		return nil, err
	}
	if _, err := s.modelVersion(ctx, req.Name, v); err != nil {
		return nil, err
	}
	return empty{}, s.cfg.Ops.SetAlias(ctx, req.Name, req.Alias, v, "mlflow-api")
}

// aliases returns a model's aliases exactly as they were set, sorted by
// name: champion and challenger are recorded when set, as every other
// alias is, and are never made up from the rollout state.
func (s *Server) aliases(ctx context.Context, name string) ([]tracking.Alias, error) {
	rm, err := s.registry.RegisteredModel(ctx, name)
	switch {
	case errors.Is(err, tracking.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	out := slices.Clone(rm.Aliases)
	slices.SortFunc(out, func(a, b tracking.Alias) int { return cmp.Compare(a.Alias, b.Alias) })
	return out, nil
}
