package mlflow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// ModelRegistry is what MLflow's model-registry API needs of the tracking
// store besides Tracking: the descriptions, tags, aliases and sources
// MLflow keeps, which switchyard's registry directory does not. Which
// models and versions exist is the directory's to say, and the changes to
// it (publishes, alias moves, deletions) are Operations'.
type ModelRegistry interface {
	CreateRegisteredModel(ctx context.Context, name, description string, tags []tracking.Tag) error
	RegisteredModel(ctx context.Context, name string) (*tracking.RegisteredModel, error)
	UpdateRegisteredModel(ctx context.Context, name, description string) error
	UpdateModelVersion(ctx context.Context, name string, version int, description string) error
	ModelVersion(ctx context.Context, name string, version int) (*tracking.ModelVersion, error)
	VersionRun(ctx context.Context, model string, version int) (string, error)
	SetRegisteredModelTag(ctx context.Context, name string, tag tracking.Tag) error
	DeleteRegisteredModelTag(ctx context.Context, name, key string) error
	SetModelVersionTag(ctx context.Context, name string, version int, tag tracking.Tag) error
	DeleteModelVersionTag(ctx context.Context, name string, version int, key string) error
	// SeeRegisteredModel is RegisteredModel that first records a model
	// nothing is recorded of, created at created (Unix milliseconds), so
	// that its creation time stays what it was first seen with.
	SeeRegisteredModel(ctx context.Context, name string, created int64) (*tracking.RegisteredModel, error)
	// ModelVersionStages returns the stage of each of a model's versions
	// not in stage None.
	ModelVersionStages(ctx context.Context, name string) (map[int]string, error)
	// Verdicts returns the gate's recorded verdicts, newest first.
	Verdicts(ctx context.Context, q tracking.VerdictQuery) ([]tracking.Verdict, error)
}

type registeredModelJSON struct {
	Name                 string             `json:"name"`
	CreationTimestamp    int64              `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp int64              `json:"last_updated_timestamp,omitempty"`
	Description          string             `json:"description,omitempty"`
	LatestVersions       []modelVersionJSON `json:"latest_versions,omitempty"`
	Tags                 []keyValueJSON     `json:"tags,omitempty"`
	Aliases              []aliasJSON        `json:"aliases,omitempty"`
}

type aliasJSON struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

type modelVersionJSON struct {
	Name                 string         `json:"name"`
	Version              string         `json:"version"`
	CreationTimestamp    int64          `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp int64          `json:"last_updated_timestamp,omitempty"`
	UserID               string         `json:"user_id,omitempty"`
	CurrentStage         string         `json:"current_stage"`
	Description          string         `json:"description,omitempty"`
	Source               string         `json:"source,omitempty"`
	RunID                string         `json:"run_id,omitempty"`
	Status               string         `json:"status"`
	StatusMessage        string         `json:"status_message,omitempty"`
	Tags                 []keyValueJSON `json:"tags,omitempty"`
	Aliases              []string       `json:"aliases,omitempty"`
}

// registryDir returns the model's directory, failing with ErrNotFound, as
// MLflow words it, when the model is not in the registry.
func (s *Server) modelDir(name string) (string, error) {
	dir := filepath.Join(s.cfg.RegistryDir, name)
	if !modelstore.ValidName(name) {
		return "", fmt.Errorf("%w: registered model with name=%s not found", tracking.ErrNotFound, name)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w: registered model with name=%s not found", tracking.ErrNotFound, name)
	}
	return dir, nil
}

// registeredModel describes a model of the registry as MLflow does. Its
// creation time is recorded once, when it is created through MLflow or
// first seen in the registry directory (then as its oldest version's),
// and its last update time moves with each change, a new version
// included.
func (s *Server) registeredModel(ctx context.Context, name string) (registeredModelJSON, error) {
	if _, err := s.modelDir(name); err != nil {
		return registeredModelJSON{}, err
	}
	out := registeredModelJSON{Name: name}
	complete, _, err := modelstore.Versions(s.cfg.RegistryDir, name)
	if err != nil {
		return out, err
	}
	firstSeen, newest := time.Now().UnixMilli(), int64(0)
	for i, n := range complete {
		if i > 0 && i < len(complete)-1 {
			continue // only the oldest and the newest count
		}
		if m, err := modelstore.ReadManifest(filepath.Join(s.cfg.RegistryDir, name, strconv.Itoa(n))); err == nil && !m.CreatedAt.IsZero() {
			firstSeen, newest = min(firstSeen, m.CreatedAt.UnixMilli()), max(newest, m.CreatedAt.UnixMilli())
		}
	}
	meta, err := s.registry.SeeRegisteredModel(ctx, name, firstSeen)
	if err != nil {
		return out, err
	}
	out.CreationTimestamp, out.LastUpdatedTimestamp, out.Description = meta.CreationTime, max(meta.LastUpdatedTime, newest), meta.Description
	out.Tags = tagsJSON(meta.Tags)
	aliases, err := s.aliases(ctx, name)
	if err != nil {
		return out, err
	}
	for _, a := range aliases {
		out.Aliases = append(out.Aliases, aliasJSON{a.Alias, strconv.Itoa(a.Version)})
	}
	if out.LatestVersions, err = s.latestVersions(ctx, name, tracking.Stages); err != nil {
		return out, err
	}
	if len(out.Tags) == 0 {
		out.Tags = nil
	}
	return out, nil
}

// modelVersion describes a version of the registry as MLflow does: its
// manifest, overlaid with what the store recorded of it, its status (see
// versionStatus) and its serving tags (see servingTags). A version
// published without MLflow has its download URI as its source.
func (s *Server) modelVersion(ctx context.Context, name string, version int) (modelVersionJSON, error) {
	notFound := fmt.Errorf("%w: model version (name=%s, version=%d) not found", tracking.ErrNotFound, name, version)
	if _, err := s.modelDir(name); err != nil {
		return modelVersionJSON{}, err
	}
	dir := filepath.Join(s.cfg.RegistryDir, name, strconv.Itoa(version))
	m, err := modelstore.ReadManifest(dir)
	if err != nil && !errors.Is(err, modelstore.ErrManifest) {
		return modelVersionJSON{}, notFound // no manifest: not a complete version
	}
	out := modelVersionJSON{Name: name, Version: strconv.Itoa(version), CurrentStage: tracking.StageNone, Source: downloadURI(name, version)}
	if err == nil {
		out.CreationTimestamp = m.CreatedAt.UnixMilli()
		out.LastUpdatedTimestamp = out.CreationTimestamp
		out.UserID, out.Description = m.CreatedBy, m.Description
		if m.Lineage != nil {
			out.RunID = m.Lineage.RunID
		}
	}
	if meta, err := s.registry.ModelVersion(ctx, name, version); err == nil {
		if meta.Description != "" {
			out.Description = meta.Description
		}
		if meta.Source != "" {
			out.Source = meta.Source
		}
		if meta.CurrentStage != "" {
			out.CurrentStage = meta.CurrentStage
		}
		out.LastUpdatedTimestamp = max(out.LastUpdatedTimestamp, meta.LastUpdatedTime)
		out.Tags = tagsJSON(meta.Tags)
	} else if !errors.Is(err, tracking.ErrNotFound) {
		return out, err
	}
	if out.Status, out.StatusMessage, err = s.versionStatus(ctx, name, version); err != nil {
		return out, err
	}
	out.Tags = append(out.Tags, s.servingTags(name, version)...)
	if run, err := s.registry.VersionRun(ctx, name, version); err == nil {
		out.RunID = run
	}
	aliases, err := s.aliases(ctx, name)
	if err != nil {
		return out, err
	}
	for _, a := range aliases {
		if a.Version == version {
			out.Aliases = append(out.Aliases, a.Alias)
		}
	}
	if len(out.Tags) == 0 {
		out.Tags = nil
	}
	return out, nil
}

type registeredModelResponse struct {
	RegisteredModel registeredModelJSON `json:"registered_model"`
}

type modelVersionResponse struct {
	ModelVersion modelVersionJSON `json:"model_version"`
}

func (s *Server) createRegisteredModel(ctx *request) (any, error) {
	var req struct {
		Name        string         `json:"name"`
		Tags        []keyValueJSON `json:"tags"`
		Description string         `json:"description"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	if !modelstore.ValidName(req.Name) {
		return nil, &requestError{fmt.Sprintf("Invalid registered model name '%s': switchyard serves it at /v2/models/NAME, so use 1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit.", req.Name)}
	}
	dir := filepath.Join(s.cfg.RegistryDir, req.Name)
	if err := os.Mkdir(dir, 0o755); errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%w: registered model (name=%s) already exists", tracking.ErrExists, req.Name)
	} else if err != nil {
		return nil, fmt.Errorf("create registered model: %w", err)
	}
	if err := s.registry.CreateRegisteredModel(ctx, req.Name, req.Description, tagsOf(req.Tags)); err != nil {
		os.Remove(dir)
		return nil, err
	}
	rm, err := s.registeredModel(ctx, req.Name)
	return registeredModelResponse{rm}, err
}

func (s *Server) getRegisteredModel(ctx *request) (any, error) {
	name := query(ctx, "name")
	if name == "" {
		return nil, missingParam("name")
	}
	rm, err := s.registeredModel(ctx, name)
	return registeredModelResponse{rm}, err
}

func (s *Server) searchRegisteredModels(ctx *request) (any, error) {
	limit, offset, err := registryPage(query(ctx, "max_results"), query(ctx, "page_token"), 100, 1000)
	if err != nil {
		return nil, err
	}
	filter, err := parseRegistryFilter(query(ctx, "filter"), "name")
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.cfg.RegistryDir)
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && modelstore.ValidName(e.Name()) && filter.match(func(string) string { return e.Name() }) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	if desc := slices.ContainsFunc(queryAll(ctx, "order_by"), func(o string) bool { return strings.HasSuffix(strings.ToUpper(o), "DESC") }); desc {
		slices.Reverse(names)
	}
	out := struct {
		RegisteredModels []registeredModelJSON `json:"registered_models,omitempty"`
		NextPageToken    string                `json:"next_page_token,omitempty"`
	}{}
	for i := offset; i < len(names) && i < offset+limit; i++ {
		rm, err := s.registeredModel(ctx, names[i])
		if err != nil {
			return nil, err
		}
		out.RegisteredModels = append(out.RegisteredModels, rm)
	}
	if offset+limit < len(names) {
		out.NextPageToken = strconv.Itoa(offset + limit)
	}
	return out, nil
}

// registryPage reads the page size and token of a registry search; the
// token is the offset in decimal.
func registryPage(maxResults, token string, def, most int) (limit, offset int, err error) {
	limit = def
	if maxResults != "" {
		if limit, err = strconv.Atoi(maxResults); err != nil || limit <= 0 || limit > most {
			return 0, 0, &requestError{fmt.Sprintf("Invalid value %s for parameter 'max_results' supplied. It must be between 1 and %d", maxResults, most)}
		}
	}
	if token != "" {
		if offset, err = strconv.Atoi(token); err != nil || offset < 0 {
			return 0, 0, &requestError{"Invalid page token"}
		}
	}
	return limit, offset, nil
}

// likePattern turns an SQL LIKE pattern into a path.Match pattern.
func likePattern(p string, fold bool) string {
	if fold {
		p = strings.ToLower(p)
	}
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		case '*', '?', '[', '\\':
			b.WriteString("\\" + string(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *Server) updateRegisteredModel(ctx *request) (any, error) {
	var req struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	if _, err := s.modelDir(req.Name); err != nil {
		return nil, err
	}
	if err := s.registry.UpdateRegisteredModel(ctx, req.Name, req.Description); err != nil {
		return nil, err
	}
	rm, err := s.registeredModel(ctx, req.Name)
	return registeredModelResponse{rm}, err
}

// deleteRegisteredModel removes the model's directory from the registry:
// it is renamed out of the watcher's sight first, so its versions drain
// at once, then removed, and the store forgets what it kept of it.
func (s *Server) deleteRegisteredModel(ctx *request) (any, error) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	if _, err := s.modelDir(req.Name); err != nil {
		return nil, err
	}
	if s.cfg.Ops == nil {
		return nil, errNotConfigured
	}
	err := s.cfg.Ops.DeleteModel(ctx, req.Name, "mlflow-api", "registered-models/delete")
	if errors.Is(err, ops.ErrNotAudited) {
		s.log.Error("model deleted but not audited", "model", req.Name, "error", err)
		err = nil
	}
	return empty{}, err
}
