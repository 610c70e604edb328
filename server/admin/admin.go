package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// AdminStore is what the operations API under /admin needs of the
// tracking store: the audit trail, runs and lineage. The Store of package
// tracking implements it; another (PostgreSQL) could.
type AdminStore interface {
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
	// adminRunsDefault is how many runs GET /admin/runs returns when the
	// request sets no max_results.
	adminRunsDefault = 100
	// adminTimeout bounds the store queries of one admin request.
	adminTimeout = 30 * time.Second
)

// admin serves the operations API: GET /admin/models, /admin/models/{m},
// /admin/audit, /admin/runs and /admin/runs/{id}. It answers JSON through
// encoding/json: none of it is on the inference path.
func (s *Server) admin(ctx *fasthttp.RequestCtx, r route) {
	if !s.adminAuthorized(ctx) {
		writeError(ctx, errUnauthorized)
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="switchyard admin"`)
		return
	}
	c, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	var resp any
	var err error
	switch r.kind {
	case routeAdminModels:
		resp, err = s.adminModels(c)
	case routeAdminModel:
		resp, err = s.adminModel(c, string(r.model))
	case routeAdminAudit:
		resp, err = s.adminAudit(c, ctx.QueryArgs())
	case routeAdminRuns:
		resp, err = s.adminRuns(c, ctx.QueryArgs())
	case routeAdminRun:
		resp, err = s.adminRun(c, string(r.model))
	case routeAdminPromote, routeAdminRollback, routeAdminPause, routeAdminResume:
		resp, err = s.adminAction(c, r, ctx.PostBody())
	default:
		err = fmt.Errorf("BUG: admin route kind %d", r.kind)
	}
	if err != nil {
		writeError(ctx, fmt.Errorf("%s %s: %w", ctx.Method(), ctx.Path(), err))
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, resp)
}

// adminAuthorized reports whether the request may use the operations API:
// always when no token is configured, else when it carries
// "Authorization: Bearer TOKEN". The tokens are compared in constant time
// (by their sha256, so that not even the length leaks).
func (s *Server) adminAuthorized(ctx *fasthttp.RequestCtx) bool {
	if s.cfg.AdminToken == "" {
		return true
	}
	const scheme = "bearer "
	h := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	if len(h) <= len(scheme) || !bytes.EqualFold(h[:len(scheme)], []byte(scheme)) {
		return false
	}
	got := sha256.Sum256(bytes.TrimSpace(h[len(scheme):]))
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// adminModels serves GET /admin/models: every model the server knows, by
// name, as adminModel describes it.
func (s *Server) adminModels(ctx context.Context) (any, error) {
	out := adminModelsJSON{Models: []adminModelJSON{}}
	table := s.models.Table()
	for _, m := range s.models.Models() {
		out.Models = append(out.Models, s.adminModelOf(ctx, m, table.Route(m.Name)))
	}
	return out, nil
}

// adminModel serves GET /admin/models/{m}: the model's versions with
// their state, its reason, their share of traffic from the routing table,
// and their lineage from the manifest (the run from the tracking store
// when the manifest names none).
func (s *Server) adminModel(ctx context.Context, name string) (any, error) {
	m := s.models.Model(name)
	if m == nil {
		return nil, fmt.Errorf("%w: model %q", modelstore.ErrNotFound, name)
	}
	return s.adminModelOf(ctx, m, s.models.Table().Route(name)), nil
}

func (s *Server) adminModelOf(ctx context.Context, m *modelstore.Model, rt *rollout.Route[*modelstore.Version]) adminModelJSON {
	out := adminModelJSON{Name: m.Name, Versions: make([]adminVersionJSON, 0, len(m.Versions)), Rollout: m.Rollout}
	if s.cfg.Analyses != nil {
		if a, ok := s.cfg.Analyses.Analysis(m.Name); ok {
			d := a.Decision
			out.Analysis = &adminAnalysisJSON{At: a.At, Action: d.Action.String(), Step: d.Step, Weight: d.Weight, Reasons: d.Reasons}
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
		vj := adminVersionJSON{Version: v.Number, State: v.State().String(), Reason: v.Reason(), TrafficBP: weights[v.Number], Gate: v.Verdict()}
		switch v.State() {
		case modelstore.Ready, modelstore.Draining:
			st := v.Stats.Snapshot()
			vj.Stats = &adminStatsJSON{Requests: st.Requests, Errors: st.Errors, ErrorRate: st.ErrorRate(),
				P99Seconds: st.P99().Seconds(), Scores: st.Scores.Total()}
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
	if s.cfg.Admin == nil {
		return ""
	}
	id, err := s.cfg.Admin.VersionRun(ctx, model, version)
	if err != nil {
		if !errors.Is(err, tracking.ErrNotFound) {
			s.log.Warn("admin: read lineage", "model", model, "version", version, "error", err)
		}
		return ""
	}
	return id
}

// adminAudit serves GET /admin/audit?model=&since=&limit=: audit entries,
// newest first. since is a duration back from now ("24h") or an RFC 3339
// time; limit a positive integer (default 100).
func (s *Server) adminAudit(ctx context.Context, args *fasthttp.Args) (any, error) {
	if s.cfg.Admin == nil {
		return nil, errNoAdminStore
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
	entries, err := s.cfg.Admin.AuditLog(ctx, q)
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
			return time.Time{}, requestErrorf("since %q: a duration back from now must not be negative", raw)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, requestErrorf("since %q is neither a duration (such as 24h) nor an RFC 3339 time", raw)
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
		return 0, requestErrorf("%s %q is not a positive integer", name, raw)
	}
	return n, nil
}

// adminRuns serves GET /admin/runs?experiment_id=&max_results=: the most
// recent active runs, newest first, of the experiments named (the
// parameter may repeat) or of every active experiment.
func (s *Server) adminRuns(ctx context.Context, args *fasthttp.Args) (any, error) {
	if s.cfg.Admin == nil {
		return nil, errNoAdminStore
	}
	limit, err := positiveArg(args, "max_results", adminRunsDefault)
	if err != nil {
		return nil, err
	}
	if limit > tracking.MaxResultsLimit {
		return nil, requestErrorf("max_results %d is above the limit of %d", limit, tracking.MaxResultsLimit)
	}
	var ids []string
	for _, id := range args.PeekMulti("experiment_id") {
		ids = append(ids, string(id))
	}
	if len(ids) == 0 {
		exps, _, err := s.cfg.Admin.SearchExperiments(ctx, tracking.ExperimentQuery{MaxResults: tracking.MaxResultsLimit})
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
	runs, _, err := s.cfg.Admin.SearchRuns(ctx, tracking.RunQuery{ExperimentIDs: ids, MaxResults: limit})
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		out.Runs = append(out.Runs, newAdminRunJSON(r, nil))
	}
	return out, nil
}

// adminRun serves GET /admin/runs/{id}: the run, deleted or not, and the
// model versions it produced.
func (s *Server) adminRun(ctx context.Context, id string) (any, error) {
	if s.cfg.Admin == nil {
		return nil, errNoAdminStore
	}
	r, err := s.cfg.Admin.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	versions, err := s.cfg.Admin.RunVersions(ctx, id)
	if err != nil {
		return nil, err
	}
	out := newAdminRunJSON(r, versions)
	if out.Versions == nil {
		out.Versions = []adminVersionIDJSON{}
	}
	return out, nil
}

// adminRoute names the endpoint of a path under /admin, given its
// segments (the first is "admin"). It allocates nothing.
func adminRoute(s [][]byte) (route, error) {
	is := func(i int, lit string) bool { return i < len(s) && string(s[i]) == lit }
	switch {
	case len(s) == 2 && is(1, "models"):
		return route{kind: routeAdminModels}, nil
	case len(s) == 3 && is(1, "models"):
		return route{kind: routeAdminModel, model: s[2]}, nil
	case len(s) == 2 && is(1, "audit"):
		return route{kind: routeAdminAudit}, nil
	case len(s) == 2 && is(1, "runs"):
		return route{kind: routeAdminRuns}, nil
	case len(s) == 3 && is(1, "runs"):
		return route{kind: routeAdminRun, model: s[2]}, nil
	case len(s) == 4 && is(1, "models") && is(3, "promote"):
		return route{kind: routeAdminPromote, model: s[2]}, nil
	case len(s) == 4 && is(1, "models") && is(3, "rollback"):
		return route{kind: routeAdminRollback, model: s[2]}, nil
	case len(s) == 4 && is(1, "models") && is(3, "pause"):
		return route{kind: routeAdminPause, model: s[2]}, nil
	case len(s) == 4 && is(1, "models") && is(3, "resume"):
		return route{kind: routeAdminResume, model: s[2]}, nil
	}
	return route{}, errNoRoute
}
