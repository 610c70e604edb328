package mlflow

import (
	"context"
	"slices"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// getLatestVersions answers MLflow's GetLatestVersions (POST with
// {"name", "stages"}, or GET with name and repeated stages): the newest
// version in each stage asked for, or in every stage when none is, as
// MLflow's store answers it. Stage names match without regard to case; an
// unknown one is INVALID_PARAMETER_VALUE.
func (s *Server) getLatestVersions(ctx *request) (any, error) {
	var req struct {
		Name   string   `json:"name"`
		Stages []string `json:"stages"`
	}
	if ctx.IsGet() {
		req.Name, req.Stages = query(ctx, "name"), queryAll(ctx, "stages")
	} else if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	want := tracking.Stages
	if len(req.Stages) > 0 {
		want = nil
		for _, st := range req.Stages {
			c, err := tracking.CanonicalStage(st)
			if err != nil {
				return nil, err
			}
			want = append(want, c)
		}
	}
	if _, err := s.modelDir(req.Name); err != nil {
		return nil, err
	}
	out := struct {
		ModelVersions []modelVersionJSON `json:"model_versions,omitempty"`
	}{}
	var err error
	out.ModelVersions, err = s.latestVersions(ctx, req.Name, want)
	return out, err
}

// latestVersions returns the newest complete version of the model in each
// of stages that holds one, in MLflow's order of stages.
func (s *Server) latestVersions(ctx context.Context, name string, stages []string) ([]modelVersionJSON, error) {
	complete, _, err := modelstore.Versions(s.cfg.RegistryDir, name)
	if err != nil {
		return nil, err
	}
	staged, err := s.registry.ModelVersionStages(ctx, name)
	if err != nil {
		return nil, err
	}
	newest := map[string]int{}
	for _, n := range complete { // ascending: the last one of a stage is its newest
		st, ok := staged[n]
		if !ok {
			st = tracking.StageNone
		}
		newest[st] = n
	}
	var out []modelVersionJSON
	for _, st := range tracking.Stages {
		n, ok := newest[st]
		if !ok || !slices.Contains(stages, st) {
			continue
		}
		mv, err := s.modelVersion(ctx, name, n)
		if err != nil {
			return nil, err
		}
		out = append(out, mv)
	}
	return out, nil
}
