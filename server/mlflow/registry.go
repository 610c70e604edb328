package server

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
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// ModelRegistry is what MLflow's model-registry API needs of the tracking
// store besides Tracking: the descriptions, tags, aliases and sources
// MLflow keeps, which switchyard's registry directory does not. Which
// models and versions exist is the directory's to say.
type ModelRegistry interface {
	CreateRegisteredModel(ctx context.Context, name, description string, tags []tracking.Tag) error
	RegisteredModel(ctx context.Context, name string) (*tracking.RegisteredModel, error)
	UpdateRegisteredModel(ctx context.Context, name, description string) error
	DeleteRegisteredModel(ctx context.Context, name string) error
	SetAlias(ctx context.Context, name, alias string, version int) error
	DeleteAlias(ctx context.Context, name, alias string) error
	PutModelVersion(ctx context.Context, v tracking.ModelVersion) error
	UpdateModelVersion(ctx context.Context, name string, version int, description string) error
	ModelVersion(ctx context.Context, name string, version int) (*tracking.ModelVersion, error)
	LinkVersion(ctx context.Context, model string, version int, runID string) error
	VersionRun(ctx context.Context, model string, version int) (string, error)
	Audit(ctx context.Context, e tracking.Entry) error
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

// registeredModel describes a model of the registry as MLflow does.
func (s *Server) registeredModel(ctx context.Context, name string) (registeredModelJSON, error) {
	dir, err := s.modelDir(name)
	if err != nil {
		return registeredModelJSON{}, err
	}
	out := registeredModelJSON{Name: name}
	meta, err := s.registry.RegisteredModel(ctx, name)
	switch {
	case err == nil:
		out.CreationTimestamp, out.LastUpdatedTimestamp, out.Description = meta.CreationTime, meta.LastUpdatedTime, meta.Description
		out.Tags = tagsJSON(meta.Tags)

	case errors.Is(err, tracking.ErrNotFound): // published without MLflow: times from the directory
		if fi, err := os.Stat(dir); err == nil {
			out.CreationTimestamp = fi.ModTime().UnixMilli()
			out.LastUpdatedTimestamp = out.CreationTimestamp
		}
	default:
		return out, err
	}
	aliases, err := s.aliases(ctx, name)
	if err != nil {
		return out, err
	}
	for _, a := range aliases {
		out.Aliases = append(out.Aliases, aliasJSON{a.Alias, strconv.Itoa(a.Version)})
	}
	complete, _, err := modelstore.Versions(s.cfg.RegistryDir, name)
	if err != nil {
		return out, err
	}
	if n := len(complete); n > 0 {
		mv, err := s.modelVersion(ctx, name, complete[n-1])
		if err != nil {
			return out, err
		}
		out.LatestVersions = []modelVersionJSON{mv}
	}
	if len(out.Tags) == 0 {
		out.Tags = nil
	}
	return out, nil
}

// modelVersion describes a version of the registry as MLflow does: its
// manifest, overlaid with what the store recorded of it.
func (s *Server) modelVersion(ctx context.Context, name string, version int) (modelVersionJSON, error) {
	notFound := fmt.Errorf("%w: model version (name=%s, version=%d) not found", tracking.ErrNotFound, name, version)
	if _, err := s.modelDir(name); err != nil {
		return modelVersionJSON{}, err
	}
	dir := filepath.Join(s.cfg.RegistryDir, name, strconv.Itoa(version))
	raw, err := os.ReadFile(filepath.Join(dir, modelstore.ManifestFile))
	if err != nil {
		return modelVersionJSON{}, notFound
	}
	out := modelVersionJSON{Name: name, Version: strconv.Itoa(version), CurrentStage: "None", Status: "READY", Source: dir}
	if m, err := modelstore.ParseManifest(raw); err == nil {
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
		out.LastUpdatedTimestamp = max(out.LastUpdatedTimestamp, meta.LastUpdatedTime)
		out.Tags = tagsJSON(meta.Tags)
	} else if !errors.Is(err, tracking.ErrNotFound) {
		return out, err
	}
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

func (s *Server) createRegisteredModel(ctx *fasthttp.RequestCtx) (any, error) {
	var req struct {
		Name        string         `json:"name"`
		Tags        []keyValueJSON `json:"tags"`
		Description string         `json:"description"`
	}
	if err := decodeMLflowBody(ctx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	if !modelstore.ValidName(req.Name) {
		return nil, &mlflowRequestError{fmt.Sprintf("Invalid registered model name '%s': switchyard serves it at /v2/models/NAME, so use 1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit.", req.Name)}
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

func (s *Server) getRegisteredModel(ctx *fasthttp.RequestCtx) (any, error) {
	name := query(ctx, "name")
	if name == "" {
		return nil, missingParam("name")
	}
	rm, err := s.registeredModel(ctx, name)
	return registeredModelResponse{rm}, err
}

func (s *Server) searchRegisteredModels(ctx *fasthttp.RequestCtx) (any, error) {
	limit, offset, err := registryPage(query(ctx, "max_results"), query(ctx, "page_token"), 100, 1000)
	if err != nil {
		return nil, err
	}
	match, err := nameFilter(query(ctx, "filter"))
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.cfg.RegistryDir)
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && modelstore.ValidName(e.Name()) && match(e.Name()) {
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
			return 0, 0, &mlflowRequestError{fmt.Sprintf("Invalid value %s for parameter 'max_results' supplied. It must be between 1 and %d", maxResults, most)}
		}
	}
	if token != "" {
		if offset, err = strconv.Atoi(token); err != nil || offset < 0 {
			return 0, 0, &mlflowRequestError{"Invalid page token"}
		}
	}
	return limit, offset, nil
}

// nameFilter reads the filters registry searches support here: none,
// name = 'x', name LIKE 'x%' and name ILIKE 'x%'.
func nameFilter(filter string) (func(string) bool, error) {
	filter = strings.TrimSpace(filter)
	if filter == "" {
		return func(string) bool { return true }, nil
	}
	f := strings.Fields(filter)
	if len(f) < 3 || f[0] != "name" {
		return nil, &mlflowRequestError{fmt.Sprintf("Invalid filter '%s': switchyard supports name = 'x', name LIKE 'x%%' and name ILIKE 'x%%'", filter)}
	}
	op := strings.ToUpper(f[1])
	val := strings.TrimSpace(strings.TrimPrefix(filter[strings.Index(filter, f[1])+len(f[1]):], " "))
	if len(val) < 2 || (val[0] != '\'' && val[0] != '"') || val[len(val)-1] != val[0] {
		return nil, &mlflowRequestError{fmt.Sprintf("Invalid filter '%s': the value must be quoted", filter)}
	}
	val = val[1 : len(val)-1]
	switch op {
	case "=":
		return func(n string) bool { return n == val }, nil
	case "!=":
		return func(n string) bool { return n != val }, nil
	case "LIKE", "ILIKE":
		pat := likePattern(val, op == "ILIKE")
		return func(n string) bool {
			if op == "ILIKE" {
				n = strings.ToLower(n)
			}
			ok, _ := path.Match(pat, n)
			return ok
		}, nil
	}
	return nil, &mlflowRequestError{fmt.Sprintf("Invalid filter '%s': unsupported comparator '%s'", filter, f[1])}
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

func (s *Server) updateRegisteredModel(ctx *fasthttp.RequestCtx) (any, error) {
	var req struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decodeMLflowBody(ctx, &req); err != nil {
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
func (s *Server) deleteRegisteredModel(ctx *fasthttp.RequestCtx) (any, error) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeMLflowBody(ctx, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, missingParam("name")
	}
	dir, err := s.modelDir(req.Name)
	if err != nil {
		return nil, err
	}
	gone := filepath.Join(s.cfg.RegistryDir, fmt.Sprintf(".deleted-%s-%d", req.Name, time.Now().UnixNano()))
	if err := os.Rename(dir, gone); err != nil {
		return nil, fmt.Errorf("delete registered model: %w", err)
	}
	if err := os.RemoveAll(gone); err != nil {
		s.log.Warn("deleted model directory not fully removed", "path", gone, "error", err)
	}
	if err := s.registry.DeleteRegisteredModel(ctx, req.Name); err != nil {
		return nil, err
	}
	return empty{}, s.registry.Audit(ctx, tracking.Entry{Actor: "mlflow-api", Action: "delete", Model: req.Name, Reason: "registered-models/delete"})
}

// alias serves registered-models/alias: POST sets, GET reads, DELETE
// removes.
func (s *Server) alias(ctx *fasthttp.RequestCtx) (any, error) {
	var req struct {
		Name    string `json:"name"`
		Alias   string `json:"alias"`
		Version string `json:"version"`
	}
	if ctx.IsGet() {
		req.Name, req.Alias = query(ctx, "name"), query(ctx, "alias")
	} else if err := decodeMLflowBody(ctx, &req); err != nil {
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
	case ctx.IsDelete():
		return empty{}, s.registry.DeleteAlias(ctx, req.Name, req.Alias)
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
	if err := s.rollOutAlias(ctx, req.Name, req.Alias, v); err != nil {
		return nil, err
	}
	return empty{}, s.registry.SetAlias(ctx, req.Name, req.Alias, v)
}

// The aliases that mean a rollout: champion is the stable version, and
// challenger the candidate (or shadow).
const (
	aliasChampion   = "champion"
	aliasChallenger = "challenger"
)

// aliases returns a model's aliases: those stored, with champion and
// challenger as the live rollout state says whatever was stored.
func (s *Server) aliases(ctx context.Context, name string) ([]tracking.Alias, error) {
	var out []tracking.Alias
	rm, err := s.registry.RegisteredModel(ctx, name)
	switch {
	case err == nil:
		out = rm.Aliases
	case !errors.Is(err, tracking.ErrNotFound):
		return nil, err
	}
	live := map[string]int{}
	if m := s.models.Model(name); m != nil {
		if m.Stable != nil {
			live[aliasChampion] = m.Stable.Number
		}
		if st := m.Rollout; st != nil && st.Candidate+st.Shadow != 0 {
			live[aliasChallenger] = max(st.Candidate, st.Shadow)
		}
	}
	out = slices.DeleteFunc(slices.Clone(out), func(a tracking.Alias) bool {
		return a.Alias == aliasChampion || a.Alias == aliasChallenger
	})
	for alias, v := range live {
		out = append(out, tracking.Alias{Alias: alias, Version: v})
	}
	slices.SortFunc(out, func(a, b tracking.Alias) int { return cmp.Compare(a.Alias, b.Alias) })
	return out, nil
}

// rollOutAlias gives champion and challenger their meaning: champion
// promotes the version with the model's strategy (its on_publish, or an
// immediate switch when that is manual), challenger starts it as a canary
// candidate. Other aliases are only names.
func (s *Server) rollOutAlias(ctx context.Context, name, alias string, version int) error {
	if alias != aliasChampion && alias != aliasChallenger {
		return nil
	}
	m := s.models.Model(name)
	if m == nil {
		return fmt.Errorf("%w: model version (name=%s, version=%d) is not loaded by this server", tracking.ErrNotFound, name, version)
	}
	strategy := rollout.Canary
	if alias == aliasChampion {
		strategy = m.Policy.OnPublish
		if strategy == rollout.Manual || strategy == "" {
			strategy = rollout.BlueGreen
		}
	}
	c := rollout.Change{Actor: "mlflow-api", Reason: "alias " + alias + " set through MLflow", Now: time.Now().UTC()}
	st, err := s.models.Desire(ctx, name, func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
		if cur != nil && cur.Stable == version && alias == aliasChampion {
			return cur, nil // already the champion
		}
		return rollout.PlanPromote(cur, serving, version, strategy, m.Policy.Steps[0], c)
	})
	if err != nil {
		return fmt.Errorf("%w: %v", tracking.ErrInvalid, err)
	}
	return s.registry.Audit(ctx, tracking.Entry{Actor: c.Actor, Action: "promote", Model: name, Versions: []int{st.Stable, version},
		Reason: c.Reason, Details: map[string]any{"alias": alias, "strategy": st.Strategy, "weight_bp": st.Weight}})
}

// versionNumber parses a model version as MLflow sends it.
func versionNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, &mlflowRequestError{fmt.Sprintf("Model version must be an integer, got '%s'", v)}
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
	model, err := s.readSource(ctx, req.Source)
	if err != nil {
		return nil, err
	}
	opts := modelstore.PublishOptions{Description: req.Description, CreatedBy: "mlflow-api", Engine: s.cfg.PublishEngine}
	if req.RunID != "" {
		opts.Lineage = &modelstore.Lineage{RunID: req.RunID}
	}
	v, err := modelstore.Publish(s.cfg.RegistryDir, req.Name, model, opts)
	if err != nil {
		return nil, &mlflowRequestError{fmt.Sprintf("Invalid model version source '%s': %v", req.Source, err)}
	}
	if req.RunID != "" {
		if err := s.registry.LinkVersion(ctx, req.Name, v, req.RunID); err != nil {
			return nil, err
		}
	}
	if err := s.registry.PutModelVersion(ctx, tracking.ModelVersion{Name: req.Name, Version: v, Description: req.Description,
		Source: req.Source, UserID: "mlflow-api", Tags: tagsOf(req.Tags)}); err != nil {
		return nil, err
	}
	err = s.registry.Audit(ctx, tracking.Entry{Actor: "mlflow-api", Action: "publish", Model: req.Name, Versions: []int{v},
		Reason: "model-versions/create", Details: map[string]any{"source": req.Source, "run_id": req.RunID}})
	if err != nil {
		return nil, err
	}
	mv, err := s.modelVersion(ctx, req.Name, v)
	return modelVersionResponse{mv}, err
}

// maxSourceBytes bounds the model a model-versions/create may read.
const maxSourceBytes = 1 << 30

// readSource reads the ONNX model a model version's source names.
func (s *Server) readSource(ctx context.Context, source string) ([]byte, error) {
	invalid := func(why string) error {
		return &mlflowRequestError{fmt.Sprintf("Invalid model version source '%s': %s", source, why)}
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
			return nil, &mlflowRequestError{fmt.Sprintf("Invalid model version source: %s holds no model.onnx and not exactly one .onnx file", p)}
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
		return nil, &mlflowRequestError{fmt.Sprintf("model version source %s is larger than %d bytes", p, maxSourceBytes)}
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
				return nil, &mlflowRequestError{fmt.Sprintf("Invalid filter '%s': switchyard supports name = 'x' and run_id = 'y', joined by AND", f)}
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
