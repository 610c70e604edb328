package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The rollout verbs change a model's rollout.json: through a running
// server's operations API (--server), which applies it before answering,
// or, when none runs, by writing the file in the registry themselves (a
// server started later, or watching the registry, follows it).

func runPromote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return rolloutVerb(ctx, "promote", "MODEL VERSION [--strategy bluegreen|canary|shadow|manual] [--force] --reason TEXT", args, stdout, stderr)
}

func runRollback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return rolloutVerb(ctx, "rollback", "MODEL --reason TEXT", args, stdout, stderr)
}

func runPause(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return rolloutVerb(ctx, "pause", "MODEL --reason TEXT", args, stdout, stderr)
}

func runResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return rolloutVerb(ctx, "resume", "MODEL --reason TEXT", args, stdout, stderr)
}

// rolloutVerb parses and carries out one of promote, rollback, pause and
// resume.
func rolloutVerb(ctx context.Context, action, synopsis string, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(action, synopsis+" [--server URL | --registry DIR [--data-dir DIR]] [--actor WHO]", stderr)
	var of opsFlags
	of.register(fs)
	reason := fs.String("reason", "", "why (required; recorded in rollout.json and the audit trail)")
	actor := fs.String("actor", defaultCreator(), "who acts, for the audit trail")
	strategy := fs.String("strategy", rollout.BlueGreen, "with promote: bluegreen (all traffic at once), canary (the first step's share), shadow (a copy of the traffic, no answers) or manual")
	force := fs.Bool("force", false, "with promote: route the version although it failed its gate (kept in rollout.json, audited with the reason)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *force && action != "promote" {
		fmt.Fprintf(stderr, "switchyard %s: --force applies to promote only\n", action)
		return errUsage
	}
	want := 1
	if action == "promote" {
		want = 2
	}
	if len(pos) != want || *reason == "" {
		fmt.Fprintf(stderr, "switchyard %s: give %s and --reason\n", action, strings.Fields(synopsis)[0]+map[bool]string{true: " and VERSION", false: ""}[want == 2])
		fs.Usage()
		return errUsage
	}
	req := map[string]any{"reason": *reason, "actor": *actor}
	if action == "promote" {
		v, err := strconv.Atoi(pos[1])
		if err != nil || v <= 0 {
			fmt.Fprintf(stderr, "switchyard promote: version %q is not a positive integer\n", pos[1])
			return errUsage
		}
		req["version"], req["strategy"], req["force"] = v, *strategy, *force
	}
	var st *rollout.State
	if of.server != "" {
		st, err = remoteAction(ctx, &of, pos[0], action, req)
	} else {
		st, err = localAction(ctx, &of, pos[0], action, req)
	}
	if err != nil {
		return err
	}
	printState(stdout, pos[0], st)
	return nil
}

// remoteAction posts the action to the server's operations API.
func remoteAction(ctx context.Context, of *opsFlags, model, action string, req map[string]any) (*rollout.State, error) {
	base := strings.TrimRight(of.server, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	body, _ := json.Marshal(req)
	u := base + "/admin/models/" + model + "/" + action
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	if of.token != "" {
		hr.Header.Set("Authorization", "Bearer "+of.token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
		}
		return nil, &remoteError{server: base, status: resp.StatusCode, msg: e.Error}
	}
	var out struct {
		State *rollout.State `json:"state"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.State == nil {
		return nil, fmt.Errorf("POST %s: unexpected answer %s", u, raw)
	}
	return out.State, nil
}

// localAction changes rollout.json in the registry directly. What serves
// is read from rollout.json, else taken to be the newest version on disk
// that has not failed its gate (as far as the tracking store knows); the
// previous version is the newest such below it. The change is audited in
// the data directory.
func localAction(ctx context.Context, of *opsFlags, model, action string, req map[string]any) (*rollout.State, error) {
	dir := filepath.Join(of.registry, model)
	complete, _, err := modelstore.Versions(of.registry, model)
	if err != nil {
		return nil, err
	}
	if !modelstore.ValidName(model) || len(complete) == 0 {
		return nil, fmt.Errorf("model %q has no version in %s", model, of.registry)
	}
	cur, err := rollout.ReadState(dir)
	if err != nil {
		return nil, err
	}
	st, err := openTracking(ctx, dataDirOf(of.dataDir, of.registry), true)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var good []int // the versions whose latest verdict, if any, passed
	for _, n := range complete {
		if v, err := latestVerdict(ctx, st, model, n); err != nil {
			return nil, err
		} else if v == nil || v.Pass || cur.Overrides(n) {
			good = append(good, n)
		}
	}
	serving := 0
	if len(good) > 0 {
		serving = good[len(good)-1]
	}
	if cur != nil {
		serving = cur.Stable
	}
	previous := 0
	for _, n := range good {
		if n < serving {
			previous = n
		}
	}
	c := rollout.Change{Actor: req["actor"].(string), Reason: req["reason"].(string), Now: time.Now().UTC()}
	var next *rollout.State
	switch action {
	case "promote":
		first, perr := firstStep(dir)
		if perr != nil {
			return nil, perr
		}
		next, err = rollout.PlanPromote(cur, serving, req["version"].(int), req["strategy"].(string), first, c)
	case "rollback":
		next, err = rollout.PlanRollback(cur, serving, previous, c)
	default:
		next, err = rollout.PlanPause(cur, serving, action == "pause", c)
	}
	if err != nil {
		return nil, err
	}
	force := 0
	if f, _ := req["force"].(bool); f {
		force = req["version"].(int)
	}
	if next.GateOverrides, err = localOverrides(ctx, st, model, cur, next, complete, force); err != nil {
		return nil, err
	}
	err = next.Validate(func(n int) bool { return slices.Contains(complete, n) })
	if err != nil {
		return nil, err
	}
	if err := rollout.WriteState(dir, next); err != nil {
		return nil, err
	}
	versions := []int{next.Stable}
	for _, v := range []int{next.Candidate, next.Shadow} {
		if v != 0 {
			versions = append(versions, v)
		}
	}
	if err := st.Audit(ctx, tracking.Entry{Actor: c.Actor, Action: action, Model: model, Versions: versions, Reason: c.Reason,
		Details: map[string]any{"stable": next.Stable, "candidate": next.Candidate, "shadow": next.Shadow,
			"strategy": next.Strategy, "weight_bp": next.Weight, "paused": next.Paused, "via": "registry",
			"force": force != 0, "gate_overrides": next.GateOverrides}}); err != nil {
		return next, fmt.Errorf("rollout.json written, but the change is not audited: %w", err)
	}
	return next, nil
}

// localOverrides returns the gate overrides next keeps: those of cur for
// versions still on disk, and force when the gate's latest verdict on it,
// as the tracking store holds it, failed. Without force it refuses to
// route a version whose latest verdict failed and that no override
// covers.
func localOverrides(ctx context.Context, st *tracking.Store, model string, cur, next *rollout.State, complete []int, force int) ([]int, error) {
	var keep []int
	if cur != nil {
		for _, n := range cur.GateOverrides {
			if slices.Contains(complete, n) {
				keep = append(keep, n)
			}
		}
	}
	for _, n := range []int{next.Stable, next.Candidate, next.Shadow} {
		if n == 0 || slices.Contains(keep, n) {
			continue
		}
		v, err := latestVerdict(ctx, st, model, n)
		if err != nil {
			return nil, err
		}
		if v == nil || v.Pass {
			continue
		}
		if n != force {
			return nil, fmt.Errorf("%w: version %d failed its gate (%s); promote it with --force and a reason to route it anyway",
				rollout.ErrState, n, v.Reason)
		}
		keep = append(keep, n)
	}
	slices.Sort(keep)
	return keep, nil
}

// latestVerdict returns the gate's latest verdict on a version, or nil.
func latestVerdict(ctx context.Context, st *tracking.Store, model string, version int) (*tracking.Verdict, error) {
	vs, err := st.Verdicts(ctx, tracking.VerdictQuery{Model: model, Version: version, Limit: 1})
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return &vs[0], nil
}

// printState says what now serves the model.
func printState(w io.Writer, model string, st *rollout.State) {
	fmt.Fprintf(w, "%s: stable %d", model, st.Stable)
	if st.Candidate != 0 {
		fmt.Fprintf(w, ", candidate %d at %.2f%% (%s, step %d)", st.Candidate, float64(st.Weight)/100, st.Strategy, st.Step)
	}
	if st.Shadow != 0 {
		fmt.Fprintf(w, ", shadow %d", st.Shadow)
	}
	if st.Paused {
		fmt.Fprint(w, ", paused")
	}
	fmt.Fprintf(w, " (%s: %s)\n", st.Actor, st.Reason)
}

// firstStep returns where a canary of the model in dir starts, in basis
// points: the first step of its policy.yaml, else of the defaults. (A
// running server's --rollout-steps cannot be seen from here.)
func firstStep(dir string) (int, error) {
	p := rollout.DefaultPolicy()
	data, err := os.ReadFile(filepath.Join(dir, modelstore.PolicyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p.Steps[0], nil
	case err != nil:
		return 0, err
	}
	pol, err := modelstore.ParsePolicy(data)
	if err != nil {
		return 0, err
	}
	return pol.Rollout.Apply(p).Steps[0], nil
}
