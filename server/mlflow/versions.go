package mlflow

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// versionNumber parses a model version as MLflow sends it.
func versionNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, &requestError{fmt.Sprintf("Model version must be an integer, got '%s'", v)}
	}
	return n, nil
}

// createModelVersion publishes the model that source names as the next
// version of the model, exactly as switchyard publish would, with
// lineage to run_id. source is an mlflow-artifacts:/ URI, a runs:/RUN/PATH
// URI, or an absolute local path; a directory is an MLflow model
// directory when it holds an MLmodel (see readSource), else it is
// searched for model.onnx. An MLflow model directory gives the version
// all its files, its records schema (from the column-based input
// signature) and its evaluation set (evalSetOf); what it cannot give is
// said in the version's switchyard.schema and switchyard.eval tags.
func (s *Server) createModelVersion(ctx *request) (any, error) {
	var req struct {
		Name        string         `json:"name"`
		Source      string         `json:"source"`
		RunID       string         `json:"run_id"`
		Tags        []keyValueJSON `json:"tags"`
		Description string         `json:"description"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	if req.Source == "" {
		return nil, missingParam("source")
	}
	if _, err := s.modelDir(req.Name); err != nil {
		return nil, err
	}
	if req.RunID != "" {
		if _, err := s.tracking.Run(ctx, req.RunID); err != nil {
			return nil, err
		}
	}
	if s.cfg.Ops == nil {
		return nil, errNotConfigured
	}
	src, err := s.readSource(ctx, req.Source)
	if err != nil {
		return nil, err
	}
	spec := ops.PublishSpec{
		Options: modelstore.PublishOptions{Description: req.Description, CreatedBy: "mlflow-api", Engine: s.cfg.PublishEngine},
		Meta:    &tracking.ModelVersion{Description: req.Description, Source: req.Source, UserID: "mlflow-api", Tags: tagsOf(req.Tags)},
		Actor:   "mlflow-api", Reason: "model-versions/create",
		Details: map[string]any{"source": req.Source, "run_id": req.RunID},
	}
	if req.RunID != "" {
		spec.Options.Lineage = &modelstore.Lineage{RunID: req.RunID}
	}
	if src.MLmodel != nil {
		if err := s.fromMLflowDir(ctx, src, cmp.Or(req.RunID, src.MLmodel.RunID), &spec); err != nil {
			return nil, err
		}
	}
	v, err := s.cfg.Ops.Publish(ctx, req.Name, src.Model, spec)
	switch {
	case errors.Is(err, ops.ErrRejected):
		return nil, &requestError{fmt.Sprintf("Invalid model version source '%s': %v", req.Source, err)}
	case err != nil && v == 0:
		return nil, err
	case err != nil:
		// In place and recorded, but the registry could not be synced.
		s.log.Warn("published version not synced to disk", "model", req.Name, "version", v, "error", err)
	}
	mv, err := s.modelVersion(ctx, req.Name, v)
	return modelVersionResponse{mv}, err
}

func (s *Server) getModelVersion(ctx *request) (any, error) {
	name, version := query(ctx, "name"), query(ctx, "version")
	if name == "" {
		return nil, missingParam("name")
	}
	if version == "" {
		return nil, missingParam("version")
	}
	v, err := versionNumber(version)
	if err != nil {
		return nil, err
	}
	mv, err := s.modelVersion(ctx, name, v)
	return modelVersionResponse{mv}, err
}

// searchModelVersions lists versions, newest first, filtered by name and
// run_id compared with =, !=, LIKE or ILIKE, joined by AND.
func (s *Server) searchModelVersions(ctx *request) (any, error) {
	limit, offset, err := registryPage(query(ctx, "max_results"), query(ctx, "page_token"), 10000, 200000)
	if err != nil {
		return nil, err
	}
	filter, err := parseRegistryFilter(query(ctx, "filter"), "name", "run_id")
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.cfg.RegistryDir)
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	var all []modelVersionJSON
	for _, e := range entries {
		if !e.IsDir() || !modelstore.ValidName(e.Name()) || filter.value("name") != "" && filter.value("name") != e.Name() {
			continue
		}
		complete, _, err := modelstore.Versions(s.cfg.RegistryDir, e.Name())
		if err != nil {
			return nil, err
		}
		for _, n := range complete {
			mv, err := s.modelVersion(ctx, e.Name(), n)
			if err != nil {
				return nil, err
			}
			if filter.match(func(key string) string {
				if key == "run_id" {
					return mv.RunID
				}
				return mv.Name
			}) {
				all = append(all, mv)
			}
		}
	}
	slices.SortFunc(all, func(a, b modelVersionJSON) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		x, _ := strconv.Atoi(a.Version)
		y, _ := strconv.Atoi(b.Version)
		return cmp.Compare(y, x)
	})
	out := struct {
		ModelVersions []modelVersionJSON `json:"model_versions,omitempty"`
		NextPageToken string             `json:"next_page_token,omitempty"`
	}{}
	if offset < len(all) {
		out.ModelVersions = all[offset:min(len(all), offset+limit)]
	}
	if offset+limit < len(all) {
		out.NextPageToken = strconv.Itoa(offset + limit)
	}
	return out, nil
}

func (s *Server) updateModelVersion(ctx *request) (any, error) {
	var req struct {
		Name        string  `json:"name"`
		Version     string  `json:"version"`
		Description *string `json:"description"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
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
	if req.Description != nil {
		if err := s.registry.UpdateModelVersion(ctx, req.Name, v, *req.Description); err != nil {
			return nil, err
		}
	}
	mv, err := s.modelVersion(ctx, req.Name, v)
	return modelVersionResponse{mv}, err
}
