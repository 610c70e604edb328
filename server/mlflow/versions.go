package mlflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

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

// createModelVersion publishes the ONNX file that source names as the
// next version of the model, exactly as switchyard publish would, with
// lineage to run_id. source is an mlflow-artifacts:/ URI, a runs:/RUN/PATH
// URI, or an absolute local path; a directory is searched for model.onnx.
func (s *Server) createModelVersion(ctx *fasthttp.RequestCtx) (any, error) {
	var req struct {
		Name        string         `json:"name"`
		Source      string         `json:"source"`
		RunID       string         `json:"run_id"`
		Tags        []keyValueJSON `json:"tags"`
		Description string         `json:"description"`
	}
	if err := decodeMLflowBody(ctx, &req); err != nil {
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
	model, err := s.readSource(ctx, req.Source)
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
	v, err := s.cfg.Ops.Publish(ctx, req.Name, model, spec)
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

// maxSourceBytes bounds the model a model-versions/create may read.
const maxSourceBytes = 1 << 30

// readSource reads the ONNX model a model version's source names.
func (s *Server) readSource(ctx context.Context, source string) ([]byte, error) {
	invalid := func(why string) error {
		return &requestError{fmt.Sprintf("Invalid model version source '%s': %s", source, why)}
	}
	u, err := url.Parse(source)
	if err != nil {
		return nil, invalid(err.Error())
	}
	switch u.Scheme {
	case "mlflow-artifacts", "runs":
		p := strings.TrimPrefix(u.Path, "/")
		if u.Scheme == "runs" { // runs:/RUN_ID/PATH
			runID, rest, _ := strings.Cut(p, "/")
			p = rest
			run, err := s.tracking.Run(ctx, runID)
			if err != nil {
				return nil, err
			}
			base, ok := strings.CutPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
			if !ok {
				return nil, invalid("the run's artifacts are not kept by this server")
			}
			p = path.Join(base, p)
		}
		if s.artifactStore == nil {
			return nil, errNotConfigured
		}
		return readONNX(func(name string) (io.ReadCloser, error) { return s.artifactStore.Open(name) },
			func(dir string) ([]string, error) {
				files, err := s.artifactStore.List(dir)
				names := make([]string, 0, len(files))
				for _, f := range files {
					if !f.IsDir {
						names = append(names, f.Name)
					}
				}
				return names, err
			}, p)
	case "", "file":
		if !filepath.IsAbs(u.Path) {
			return nil, invalid("a local source must be an absolute path")
		}
		return readONNX(func(name string) (io.ReadCloser, error) { return os.Open(name) },
			func(dir string) ([]string, error) {
				entries, err := os.ReadDir(dir)
				var names []string
				for _, e := range entries {
					if !e.IsDir() {
						names = append(names, e.Name())
					}
				}
				return names, err
			}, u.Path)
	}
	return nil, invalid("switchyard reads mlflow-artifacts:/, runs:/ and local sources")
}

// readONNX reads the file at p, or, when p is a directory, its model.onnx
// or its only .onnx file.
func readONNX(open func(string) (io.ReadCloser, error), list func(string) ([]string, error), p string) ([]byte, error) {
	if names, err := list(p); err == nil && len(names) > 0 {
		pick := ""
		var onnx []string
		for _, n := range names {
			if n == modelstore.ModelFile {
				pick = n
			}
			if strings.HasSuffix(n, ".onnx") {
				onnx = append(onnx, n)
			}
		}
		if pick == "" && len(onnx) == 1 {
			pick = onnx[0]
		}
		if pick == "" {
			return nil, &requestError{fmt.Sprintf("Invalid model version source: %s holds no model.onnx and not exactly one .onnx file", p)}
		}
		p = path.Join(p, pick)
	}
	f, err := open(p)
	if errors.Is(err, tracking.ErrInvalid) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: model version source %s: %v", tracking.ErrNotFound, p, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSourceBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read model version source: %w", err)
	}
	if len(b) > maxSourceBytes {
		return nil, &requestError{fmt.Sprintf("model version source %s is larger than %d bytes", p, maxSourceBytes)}
	}
	return b, nil
}

func (s *Server) getModelVersion(ctx *fasthttp.RequestCtx) (any, error) {
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

// searchModelVersions lists versions, newest first, filtered by
// name = 'x' and run_id = 'y' joined by AND.
func (s *Server) searchModelVersions(ctx *fasthttp.RequestCtx) (any, error) {
	limit, offset, err := registryPage(query(ctx, "max_results"), query(ctx, "page_token"), 10000, 200000)
	if err != nil {
		return nil, err
	}
	want := map[string]string{}
	if f := strings.TrimSpace(query(ctx, "filter")); f != "" {
		for _, clause := range splitAnd(f) {
			key, val, ok := strings.Cut(clause, "=")
			key, val = strings.TrimSpace(key), strings.Trim(strings.TrimSpace(val), `'"`)
			if !ok || key != "name" && key != "run_id" || strings.HasSuffix(key, "!") {
				return nil, &requestError{fmt.Sprintf("Invalid filter '%s': switchyard supports name = 'x' and run_id = 'y', joined by AND", f)}
			}
			want[key] = val
		}
	}
	entries, err := os.ReadDir(s.cfg.RegistryDir)
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	var all []modelVersionJSON
	for _, e := range entries {
		if !e.IsDir() || !modelstore.ValidName(e.Name()) || want["name"] != "" && want["name"] != e.Name() {
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
			if want["run_id"] == "" || mv.RunID == want["run_id"] {
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

// splitAnd splits a filter on the word AND, whatever its case.
func splitAnd(f string) []string {
	var out []string
	words := strings.Fields(f)
	start := 0
	for i, w := range words {
		if strings.EqualFold(w, "and") {
			out = append(out, strings.Join(words[start:i], " "))
			start = i + 1
		}
	}
	return append(out, strings.Join(words[start:], " "))
}

func (s *Server) updateModelVersion(ctx *fasthttp.RequestCtx) (any, error) {
	var req struct {
		Name        string  `json:"name"`
		Version     string  `json:"version"`
		Description *string `json:"description"`
	}
	if err := decodeMLflowBody(ctx, &req); err != nil {
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
