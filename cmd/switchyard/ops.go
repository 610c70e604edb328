package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The operations verbs (status, runs, audit) read from a source: a
// running server's operations API (--server) or, when none runs, the
// registry and data directory themselves. Both give the same views, so a
// verb prints the same whichever it reads.
type opsSource interface {
	// Models returns the named model, or every model when name is empty.
	Models(ctx context.Context, name string) ([]modelView, error)
	// Runs returns the most recent active runs of the experiments named,
	// or of every active experiment, newest first.
	Runs(ctx context.Context, experimentIDs []string, max int) ([]runView, error)
	// Run returns a run and the versions it produced.
	Run(ctx context.Context, id string) (*runView, error)
	// Audit returns audit entries, newest first; since is a duration back
	// from now or an RFC 3339 time, already checked by parseSince.
	Audit(ctx context.Context, model, since string, limit int) ([]entryView, error)
	// Card returns the model card of a version, as markdown or JSON.
	Card(ctx context.Context, model string, version int, asJSON bool) ([]byte, error)
	// Live reports whether the source is a running server, whose versions
	// have states and traffic; on disk they have neither.
	Live() bool
	Close() error
}

// opsFlags are the flags that choose an operations verb's source.
type opsFlags struct {
	server, token, registry, dataDir string
}

func (o *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.server, "server", "", "`URL` of a running switchyard to ask through its operations API (default: read --registry and --data-dir)")
	fs.StringVar(&o.token, "token", cmp.Or(os.Getenv("SWITCHYARD_TOKEN"), os.Getenv(envAdminToken)), "bearer token for --server (default $SWITCHYARD_TOKEN, else $SWITCHYARD_ADMIN_TOKEN)")
	fs.StringVar(&o.registry, "registry", "registry", "registry directory, read when no --server is given")
	fs.StringVar(&o.dataDir, "data-dir", "", "tracking database and artifacts, read when no --server is given (default REGISTRY/.switchyard)")
}

// open returns the source the flags name.
func (o *opsFlags) open(ctx context.Context) (opsSource, error) {
	if o.server != "" {
		base := strings.TrimRight(o.server, "/")
		if !strings.Contains(base, "://") {
			base = "http://" + base
		}
		if _, err := url.Parse(base); err != nil {
			return nil, fmt.Errorf("--server: %w", err)
		}
		return &remoteSource{base: base, token: o.token, client: &http.Client{Timeout: 30 * time.Second}}, nil
	}
	if _, err := os.Stat(o.registry); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	st, err := openTracking(ctx, dataDirOf(o.dataDir, o.registry), false)
	if err != nil && !errors.Is(err, errNoDatabase) {
		return nil, err
	}
	return &localSource{registry: o.registry, st: st, noStore: err}, nil
}

// parseInterspersed parses args, which may mix flags and positional
// arguments (`runs show ID --server URL`), and returns the positional
// ones. A bad flag is errUsage.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseSince reads --since: a positive duration back from now ("24h") or
// an RFC 3339 time.
func parseSince(raw string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(raw); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %q: a duration back from now must not be negative", raw)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q is neither a duration (such as 24h) nor an RFC 3339 time", raw)
	}
	return t, nil
}

// remoteSource asks a running server's operations API.
type remoteSource struct {
	base, token string
	client      *http.Client
}

// get decodes the JSON answer to GET path?q into out.
func (r *remoteSource) get(ctx context.Context, path string, q url.Values, out any) error {
	body, err := r.fetch(ctx, path, q, "application/json")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w", r.base+path, err)
	}
	return nil
}

// fetch returns the body of the answer to GET path?q, asked for as
// accept; an answer other than 200 is a *remoteError.
func (r *remoteSource) fetch(ctx context.Context, path string, q url.Values, accept string) ([]byte, error) {
	u := r.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		return nil, &remoteError{server: r.base, status: resp.StatusCode, msg: e.Error}
	}
	return body, nil
}

// remoteError is a server's answer other than 200.
type remoteError struct {
	server string
	status int
	msg    string
}

func (e *remoteError) Error() string {
	return fmt.Sprintf("%s answered %d %s: %s", e.server, e.status, http.StatusText(e.status), e.msg)
}

// Is makes a 404 answer errNotFound.
func (e *remoteError) Is(target error) bool {
	return target == errNotFound && e.status == http.StatusNotFound
}

// errNotFound is what a server's 404 answer is.
var errNotFound = errors.New("not found")

func (r *remoteSource) Models(ctx context.Context, name string) ([]modelView, error) {
	if name != "" {
		var m modelView
		if err := r.get(ctx, "/admin/models/"+url.PathEscape(name), nil, &m); err != nil {
			return nil, err
		}
		return []modelView{m}, nil
	}
	var out struct{ Models []modelView }
	err := r.get(ctx, "/admin/models", nil, &out)
	return out.Models, err
}

func (r *remoteSource) Runs(ctx context.Context, experimentIDs []string, max int) ([]runView, error) {
	q := url.Values{"experiment_id": experimentIDs, "max_results": {strconv.Itoa(max)}}
	var out struct{ Runs []runView }
	err := r.get(ctx, "/admin/runs", q, &out)
	return out.Runs, err
}

func (r *remoteSource) Run(ctx context.Context, id string) (*runView, error) {
	var out runView
	if err := r.get(ctx, "/admin/runs/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (r *remoteSource) Audit(ctx context.Context, model, since string, limit int) ([]entryView, error) {
	q := url.Values{}
	if model != "" {
		q.Set("model", model)
	}
	if since != "" {
		q.Set("since", since)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct{ Entries []entryView }
	err := r.get(ctx, "/admin/audit", q, &out)
	return out.Entries, err
}

func (r *remoteSource) Live() bool   { return true }
func (r *remoteSource) Close() error { return nil }

// localSource reads the registry directory and the tracking database.
type localSource struct {
	registry string
	// st is nil when the data directory has no database; noStore then
	// says so.
	st      *tracking.Store
	noStore error
}

func (l *localSource) store() (*tracking.Store, error) {
	if l.st == nil {
		return nil, l.noStore
	}
	return l.st, nil
}

// verdict returns the gate's latest verdict on a version as the tracking
// store holds it, or nil.
func (l *localSource) verdict(ctx context.Context, model string, version int) (*gate.Verdict, error) {
	if l.st == nil {
		return nil, nil
	}
	vs, err := l.st.Verdicts(ctx, tracking.VerdictQuery{Model: model, Version: version, Limit: 1})
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	var v gate.Verdict
	if err := json.Unmarshal(vs[0].Detail, &v); err != nil {
		return nil, fmt.Errorf("the verdict on %s version %d: %w", model, version, err)
	}
	return &v, nil
}

func (l *localSource) Models(ctx context.Context, name string) ([]modelView, error) {
	names := []string{name}
	if name == "" {
		var err error
		if names, err = modelstore.ModelNames(l.registry); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(filepath.Join(l.registry, name)); !modelstore.ValidName(name) || errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("model %q: not in the registry %s", name, l.registry)
	}
	out := make([]modelView, 0, len(names))
	for _, n := range names {
		complete, _, err := modelstore.Versions(l.registry, n)
		if err != nil {
			return nil, err
		}
		m := modelView{Name: n, Versions: make([]versionView, 0, len(complete))}
		if m.Rollout, err = rollout.ReadState(filepath.Join(l.registry, n)); err != nil {
			return nil, err
		}
		for _, v := range complete {
			vv := versionView{Version: v, State: "on disk"}
			mf, err := modelstore.ReadManifest(modelstore.VersionDir(l.registry, n, v))
			if err != nil {
				vv.Reason = err.Error()
			} else {
				vv.SHA256 = mf.SHA256
				if mf.Lineage != nil {
					lin := *mf.Lineage
					vv.Lineage = &lin
				}
			}
			if vv.Gate, err = l.verdict(ctx, n, v); err != nil {
				return nil, err
			}
			if (vv.Lineage == nil || vv.Lineage.RunID == "") && l.st != nil {
				if id, err := l.st.VersionRun(ctx, n, v); err == nil {
					if vv.Lineage == nil {
						vv.Lineage = &modelstore.Lineage{}
					}
					vv.Lineage.RunID = id
				}
			}
			m.Versions = append(m.Versions, vv)
		}
		out = append(out, m)
	}
	return out, nil
}

func (l *localSource) Runs(ctx context.Context, experimentIDs []string, max int) ([]runView, error) {
	st, err := l.store()
	if err != nil {
		return nil, err
	}
	if len(experimentIDs) == 0 {
		exps, _, err := st.SearchExperiments(ctx, tracking.ExperimentQuery{MaxResults: tracking.MaxResultsLimit})
		if err != nil {
			return nil, err
		}
		for _, e := range exps {
			experimentIDs = append(experimentIDs, e.ID)
		}
	}
	out := []runView{}
	if len(experimentIDs) == 0 {
		return out, nil
	}
	runs, _, err := st.SearchRuns(ctx, tracking.RunQuery{ExperimentIDs: experimentIDs, MaxResults: max})
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		out = append(out, runViewOf(r, nil))
	}
	return out, nil
}

func (l *localSource) Run(ctx context.Context, id string) (*runView, error) {
	st, err := l.store()
	if err != nil {
		return nil, err
	}
	r, err := st.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	versions, err := st.RunVersions(ctx, id)
	if err != nil {
		return nil, err
	}
	v := runViewOf(r, versions)
	return &v, nil
}

func (l *localSource) Audit(ctx context.Context, model, since string, limit int) ([]entryView, error) {
	st, err := l.store()
	if err != nil {
		return nil, err
	}
	q := tracking.AuditQuery{Model: model, Limit: limit}
	if since != "" {
		if q.Since, err = parseSince(since, time.Now()); err != nil {
			return nil, err
		}
	}
	entries, err := st.AuditLog(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]entryView, len(entries))
	for i, e := range entries {
		out[i] = entryView{ID: e.ID, Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Model: e.Model, Versions: e.Versions,
			Reason: e.Reason, Details: e.Details}
	}
	return out, nil
}

func (l *localSource) Live() bool { return false }

func (l *localSource) Close() error {
	if l.st == nil {
		return nil
	}
	return l.st.Close()
}
