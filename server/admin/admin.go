package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
	"github.com/switchyard-ml/switchyard/server/internal/openapi"
	"github.com/switchyard-ml/switchyard/tracking"
)

// Store is what the operations API needs of the tracking store: the
// audit trail, runs and lineage. The Store of package tracking implements
// it; another (PostgreSQL) could.
type Store interface {
	AuditLog(ctx context.Context, q tracking.AuditQuery) ([]tracking.Entry, error)
	SearchExperiments(ctx context.Context, q tracking.ExperimentQuery) ([]*tracking.Experiment, string, error)
	SearchRuns(ctx context.Context, q tracking.RunQuery) ([]*tracking.Run, string, error)
	Run(ctx context.Context, id string) (*tracking.Run, error)
	VersionRun(ctx context.Context, model string, version int) (string, error)
	RunVersions(ctx context.Context, runID string) ([]tracking.VersionRef, error)
	Audit(ctx context.Context, e tracking.Entry) error
}

// The operations API's defaults.
const (
	// runsDefault is how many runs GET /admin/runs returns when the
	// request sets no max_results.
	runsDefault = 100
	// timeout bounds the store queries of one admin request.
	timeout = 30 * time.Second
)

// Models is what the operations API needs of the model lifecycle. The
// Store of package modelstore implements it.
type Models interface {
	// Table returns the live routing table.
	Table() *rollout.Table[*modelstore.Version]
	// Model and Models are snapshots of the models and their versions.
	Model(name string) *modelstore.Model
	Models() []*modelstore.Model
}

// Operations carries out the rollout changes the API asks for, checked,
// applied and audited: *ops.Service implements it.
type Operations interface {
	Promote(ctx context.Context, model string, p ops.Promote) (*rollout.State, error)
	Rollback(ctx context.Context, model, actor, reason string) (*rollout.State, error)
	Pause(ctx context.Context, model, actor, reason string) (*rollout.State, error)
	Resume(ctx context.Context, model, actor, reason string) (*rollout.State, error)
}

// Analyses gives the operations API the rollout controller's latest
// analysis of each model.
type Analyses interface {
	Analysis(model string) (rollout.Analysis, bool)
}

// Config configures a Server.
type Config struct {
	// Models are the live models. Required.
	Models Models
	// Ops carries out promote, rollback, pause and resume; nil answers
	// them with 503.
	Ops Operations
	// Store gives the API its audit trail, runs and lineage. Nil answers
	// /admin/audit and /admin/runs with 503; /admin/models then reports
	// lineage from the manifests alone.
	Store Store
	// Analyses gives the rollout controller's latest analysis of each
	// model; nil shows none.
	Analyses Analyses
	// Drift gives the drift monitor's reports; nil answers
	// /admin/models/{m}/drift with 503.
	Drift DriftReports
	// Quality gives the live quality monitor's reports, shown per version
	// in /admin/models/{m}; nil shows none.
	Quality QualityReports
	// Logger receives the API's warnings. Nil means slog.Default().
	Logger *slog.Logger
}

// Server serves the operations API under /admin. It answers JSON through
// encoding/json: none of it is on the inference path. It is safe for
// concurrent use.
type Server struct {
	models Models
	cfg    Config
	log    *slog.Logger
}

// New returns a Server over cfg.
func New(cfg Config) *Server {
	s := &Server{models: cfg.Models, cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// handler is what a line of the endpoint table runs: it reads the
// request, calls the domain within c and returns the answer to encode.
type handler func(s *Server, c context.Context, ctx *fasthttp.RequestCtx, p httpapi.Params) (any, error)

// API returns the operations API's endpoint table, one line per
// endpoint.
func (s *Server) API() *httpapi.API {
	const get, post = fasthttp.MethodGet, fasthttp.MethodPost
	const read, write = httpapi.Read, httpapi.Write
	lines := []struct {
		method, path string
		access       httpapi.Access
		handle       handler
		op           *openapi.Operation
	}{
		{get, "/admin/models", read, (*Server).listModels, modelsOp()},
		{get, "/admin/models/{model}", read, (*Server).model, modelOp()},
		{post, "/admin/models/{model}/promote", write, (*Server).promote, actionOp("promote", "Promote a version (body: version, strategy, reason)")},
		{post, "/admin/models/{model}/rollback", write, (*Server).rollback, actionOp("rollback", "Route back to the previous version at once")},
		{post, "/admin/models/{model}/pause", write, (*Server).pause, actionOp("pause", "Pause the model's rollout")},
		{post, "/admin/models/{model}/resume", write, (*Server).resume, actionOp("resume", "Resume the model's rollout")},
		{get, "/admin/models/{model}/drift", read, (*Server).drift, driftOp()},
		{get, "/admin/audit", read, (*Server).audit, auditOp()},
		{get, "/admin/runs", read, (*Server).runs, runsOp()},
		{get, "/admin/runs/{run_id}", read, (*Server).run, runOp()},
	}
	a := &httpapi.API{Tags: tags, Components: addComponents}
	for _, l := range lines {
		a.Endpoints = append(a.Endpoints, httpapi.Endpoint{Method: l.method, Path: l.path, Access: l.access, Op: l.op,
			Handler: func(ctx *fasthttp.RequestCtx, p httpapi.Params) { s.serve(ctx, p, l.handle) }})
	}
	return a
}

// serve answers a request with h, within timeout; the name of the
// token the request carried (access.Name) goes with h's context, for the
// audit trail.
func (s *Server) serve(ctx *fasthttp.RequestCtx, p httpapi.Params, h handler) {
	c, cancel := context.WithTimeout(access.WithName(context.Background(), access.Name(ctx)), timeout)
	defer cancel()
	resp, err := h(s, c, ctx, p)
	if err != nil {
		httpapi.WriteError(ctx, fmt.Errorf("%s %s: %w", ctx.Method(), ctx.Path(), err))
		return
	}
	httpapi.WriteJSON(ctx, fasthttp.StatusOK, resp)
}

// listModels serves GET /admin/models: every model the server knows, by
// name, as model describes it.
func (s *Server) listModels(ctx context.Context, _ *fasthttp.RequestCtx, _ httpapi.Params) (any, error) {
	out := adminModelsJSON{Models: []adminModelJSON{}}
	table := s.models.Table()
	for _, m := range s.models.Models() {
		out.Models = append(out.Models, s.adminModelOf(ctx, m, table.Route(m.Name)))
	}
	return out, nil
}

// model serves GET /admin/models/{m}: the model's versions with
// their state, its reason, their share of traffic from the routing table,
// and their lineage from the manifest (the run from the tracking store
// when the manifest names none).
func (s *Server) model(ctx context.Context, _ *fasthttp.RequestCtx, p httpapi.Params) (any, error) {
	name := string(p.Get("model"))
	m := s.models.Model(name)
	if m == nil {
		return nil, fmt.Errorf("%w: model %q", modelstore.ErrNotFound, name)
	}
	return s.adminModelOf(ctx, m, s.models.Table().Route(name)), nil
}

func (s *Server) adminModelOf(ctx context.Context, m *modelstore.Model, rt *rollout.Route[*modelstore.Version]) adminModelJSON {
	out := adminModelJSON{Name: m.Name, Versions: make([]adminVersionJSON, 0, len(m.Versions)), Rollout: m.Rollout,
		PersistError: m.PersistError}
	if s.cfg.Analyses != nil {
		if a, ok := s.cfg.Analyses.Analysis(m.Name); ok {
			d := a.Decision
			out.Analysis = &adminAnalysisJSON{At: a.At, Action: d.Action.String(), Step: d.Step, Weight: d.Weight, Reasons: d.Reasons,
				Measures: d.Measures, Breaches: d.Breaches}
		}
	}
	weights := map[int]int{}
	if rt != nil {
		for _, a := range rt.Arms() {
			weights[a.Version] += a.Weight
		}
		if v, ok := rt.Pick(); ok {
			out.ServingVersion = v.Number
		}
	}
	for _, v := range m.Versions {
		vj := adminVersionJSON{Version: v.Number, State: v.State().String(), Reason: v.Reason(), TrafficBP: weights[v.Number], Gate: v.Verdict(),
			Quality: s.qualityOf(m.Name, v.Number)}
		switch v.State() {
		case modelstore.Ready, modelstore.Draining:
			st := v.Stats.Snapshot()
			vj.Stats = &adminStatsJSON{Requests: st.Requests, Errors: st.Errors, ErrorRate: st.ErrorRate(),
				P99Seconds: st.P99().Seconds(), Scores: st.Scores.Total()}
		}
		if c, ok := v.ComputeCost(); ok {
			vj.Cost = costJSONOf(c)
		}
		if mf := manifestOf(v); mf != nil {
			vj.SHA256, vj.CreatedAt, vj.CreatedBy, vj.Description, vj.EvalLabel = mf.SHA256, mf.CreatedAt, mf.CreatedBy, mf.Description, mf.EvalLabel
			if mf.Lineage != nil {
				l := *mf.Lineage // a copy: the manifest may be shared
				vj.Lineage = &l
			}
		}
		if vj.Lineage == nil || vj.Lineage.RunID == "" {
			if id := s.versionRun(ctx, m.Name, v.Number); id != "" {
				if vj.Lineage == nil {
					vj.Lineage = &modelstore.Lineage{}
				}
				vj.Lineage.RunID = id
			}
		}
		out.Versions = append(out.Versions, vj)
	}
	return out
}

// manifestOf returns a version's manifest: the one its loader read when
// the version is loaded (the field is then settled), else the one on disk,
// or nil when there is none to read.
func manifestOf(v *modelstore.Version) *modelstore.Manifest {
	switch v.State() {
	case modelstore.Gating, modelstore.Ready, modelstore.Draining:
		if v.Manifest != nil {
			return v.Manifest
		}
	}
	m, err := modelstore.ReadManifest(v.Dir)
	if err != nil {
		return nil
	}
	return m
}

// versionRun returns the run the tracking store links a version to, or ""
// when there is no store or no link.
func (s *Server) versionRun(ctx context.Context, model string, version int) string {
	if s.cfg.Store == nil {
		return ""
	}
	id, err := s.cfg.Store.VersionRun(ctx, model, version)
	if err != nil {
		if !errors.Is(err, tracking.ErrNotFound) {
			s.log.Warn("admin: read lineage", "model", model, "version", version, "error", err)
		}
		return ""
	}
	return id
}

// audit serves GET /admin/audit?model=&since=&limit=: audit entries,
// newest first. since is a duration back from now ("24h") or an RFC 3339
// time; limit a positive integer (default 100).
func (s *Server) audit(ctx context.Context, req *fasthttp.RequestCtx, _ httpapi.Params) (any, error) {
	args := req.QueryArgs()
	if s.cfg.Store == nil {
		return nil, errNoStore
	}
	q := tracking.AuditQuery{Model: string(args.Peek("model"))}
	if raw := string(args.Peek("since")); raw != "" {
		since, err := parseSince(raw, time.Now())
		if err != nil {
			return nil, err
		}
		q.Since = since
	}
	limit, err := positiveArg(args, "limit", 0)
	if err != nil {
		return nil, err
	}
	q.Limit = limit
	entries, err := s.cfg.Store.AuditLog(ctx, q)
	if err != nil {
		return nil, err
	}
	out := adminAuditJSON{Entries: make([]adminEntryJSON, len(entries))}
	for i, e := range entries {
		out.Entries[i] = adminEntryJSON{ID: e.ID, Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Model: e.Model,
			Versions: e.Versions, Reason: e.Reason, Details: e.Details}
		if len(e.Details) == 0 {
			out.Entries[i].Details = nil
		}
	}
	return out, nil
}

// parseSince reads a since parameter: a positive duration before now, or
// an RFC 3339 time.
func parseSince(raw string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(raw); err == nil {
		if d < 0 {
			return time.Time{}, httpapi.RequestErrorf("since %q: a duration back from now must not be negative", raw)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, httpapi.RequestErrorf("since %q is neither a duration (such as 24h) nor an RFC 3339 time", raw)
	}
	return t, nil
}

// positiveArg reads an optional positive integer query parameter; def
// when it is absent.
func positiveArg(args *fasthttp.Args, name string, def int) (int, error) {
	raw := args.Peek(name)
	if raw == nil {
		return def, nil
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil || n <= 0 {
		return 0, httpapi.RequestErrorf("%s %q is not a positive integer", name, raw)
	}
	return n, nil
}

// runs serves GET /admin/runs?experiment_id=&max_results=: the most
// recent active runs, newest first, of the experiments named (the
// parameter may repeat) or of every active experiment.
func (s *Server) runs(ctx context.Context, req *fasthttp.RequestCtx, _ httpapi.Params) (any, error) {
	args := req.QueryArgs()
	if s.cfg.Store == nil {
		return nil, errNoStore
	}
	limit, err := positiveArg(args, "max_results", runsDefault)
	if err != nil {
		return nil, err
	}
	if limit > tracking.MaxResultsLimit {
		return nil, httpapi.RequestErrorf("max_results %d is above the limit of %d", limit, tracking.MaxResultsLimit)
	}
	var ids []string
	for _, id := range args.PeekMulti("experiment_id") {
		ids = append(ids, string(id))
	}
	if len(ids) == 0 {
		exps, _, err := s.cfg.Store.SearchExperiments(ctx, tracking.ExperimentQuery{MaxResults: tracking.MaxResultsLimit})
		if err != nil {
			return nil, err
		}
		for _, e := range exps {
			ids = append(ids, e.ID)
		}
	}
	out := adminRunsJSON{Runs: []adminRunJSON{}}
	if len(ids) == 0 {
		return out, nil
	}
	runs, _, err := s.cfg.Store.SearchRuns(ctx, tracking.RunQuery{ExperimentIDs: ids, MaxResults: limit})
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		out.Runs = append(out.Runs, newAdminRunJSON(r, nil))
	}
	return out, nil
}

// run serves GET /admin/runs/{id}: the run, deleted or not, and the
// model versions it produced.
func (s *Server) run(ctx context.Context, _ *fasthttp.RequestCtx, p httpapi.Params) (any, error) {
	id := string(p.Get("run_id"))
	if s.cfg.Store == nil {
		return nil, errNoStore
	}
	r, err := s.cfg.Store.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	versions, err := s.cfg.Store.RunVersions(ctx, id)
	if err != nil {
		return nil, err
	}
	out := newAdminRunJSON(r, versions)
	if out.Versions == nil {
		out.Versions = []adminVersionIDJSON{}
	}
	return out, nil
}
