package mlflow

import (
	"fmt"
	"slices"
	"strings"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// stages are MLflow's model version stages, as it spells them.
var stages = []string{"None", "Staging", "Production", "Archived"}

// getLatestVersions answers MLflow's GetLatestVersions (POST with
// {"name", "stages"}, or GET with name and repeated stages): the latest
// version in each stage asked for, or in every stage when none is.
// switchyard has no stages yet, so every version is in stage None: the
// answer is the newest complete version when None is asked for (or no
// stage is), and nothing for the other stages.
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
	none := len(req.Stages) == 0
	for _, st := range req.Stages {
		i := slices.IndexFunc(stages, func(s string) bool { return strings.EqualFold(s, st) })
		if i < 0 {
			return nil, &requestError{fmt.Sprintf("Invalid Model Version stage: %s. Value must be one of %s.", st, strings.Join(stages, ", "))}
		}
		none = none || i == 0
	}
	if _, err := s.modelDir(req.Name); err != nil {
		return nil, err
	}
	out := struct {
		ModelVersions []modelVersionJSON `json:"model_versions,omitempty"`
	}{}
	complete, _, err := modelstore.Versions(s.cfg.RegistryDir, req.Name)
	if err != nil {
		return nil, err
	}
	if n := len(complete); n > 0 && none {
		mv, err := s.modelVersion(ctx, req.Name, complete[n-1])
		if err != nil {
			return nil, err
		}
		out.ModelVersions = []modelVersionJSON{mv}
	}
	return out, nil
}
