package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/rollout"
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

// localAction changes rollout.json in the registry directly, through
// ops offline, and audits the change in the data directory.
func localAction(ctx context.Context, of *opsFlags, model, action string, req map[string]any) (*rollout.State, error) {
	st, err := openTracking(ctx, dataDirOf(of.dataDir, of.registry), true)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	svc, err := ops.New(ops.Config{Registry: of.registry, Tracking: st})
	if err != nil {
		return nil, err
	}
	actor, reason := req["actor"].(string), req["reason"].(string)
	var next *rollout.State
	switch action {
	case "promote":
		force, _ := req["force"].(bool)
		next, err = svc.Promote(ctx, model, ops.Promote{Version: req["version"].(int), Strategy: req["strategy"].(string), Force: force,
			Actor: actor, Reason: reason})
	case "rollback":
		next, err = svc.Rollback(ctx, model, actor, reason)
	case "pause":
		next, err = svc.Pause(ctx, model, actor, reason)
	default:
		next, err = svc.Resume(ctx, model, actor, reason)
	}
	if errors.Is(err, ops.ErrNotAudited) {
		return next, fmt.Errorf("rollout.json written, but the change is not audited: %w", err)
	}
	return next, err
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
