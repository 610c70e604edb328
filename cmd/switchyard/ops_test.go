package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchyard-ml/switchyard/tracking"
)

// mlflowPost sends an MLflow API request to the server at addr and
// decodes its answer, which must be 200; token, when not empty, goes as
// the bearer token.
func mlflowPost(t *testing.T, addr, token, method, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+"/api/2.0/mlflow/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s %s = %d %v, %v", method, path, resp.StatusCode, out, err)
	}
	return out
}

// TestOpsVerbs runs status, runs and audit against a running server
// (--server, through the operations API) and directly on the registry and
// data directory, and checks that both give the same answers; and that a
// run logged through the MLflow API reads back in `runs show` with every
// value runs/get returns.
func TestOpsVerbs(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	train := writeFile(t, dir, "train.csv", []byte("x0,x1,x2,y\n1,2,3,0\n4,5,6,1\n"))
	eval := writeFile(t, dir, "eval.csv", []byte("x0,x1,x2,y\n1,2,3,1\n"))
	publish := func(seed uint64, args ...string) {
		t.Helper()
		onnxPath := writeFile(t, dir, fmt.Sprintf("m%d.onnx", seed), smallModel(seed))
		if out, err := runCmd(t, append([]string{"publish", "--registry", reg, "--model", "m", "--onnx", onnxPath, "--actor", "ana"}, args...)...); err != nil {
			t.Fatalf("publish = %v\n%s", err, out)
		}
	}
	publish(1, "--experiment", "churn", "--param", "lr=0.1", "--train-data", train, "--note", "first")
	publish(2, "--train-data", train, "--eval", eval, "--label", "y", "--seed", "7", "--code-rev", "abc123")
	st := openStore(t, filepath.Join(reg, ".switchyard"))
	r1, _ := st.VersionRun(t.Context(), "m", 1)
	r2, _ := st.VersionRun(t.Context(), "m", 2)
	st.Close()

	const token = "tok-123"
	t.Setenv("SWITCHYARD_TOKENS", "ops write "+token)
	addr := serve(t, "--registry", reg, "--auth", "read,write")

	// A run logged as an MLflow client logs one.
	run := mlflowPost(t, addr, token, "POST", "runs/create", `{"experiment_id":"0","user_id":"ben","run_name":"xgb","start_time":1700000000000}`)
	id := run["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	mlflowPost(t, addr, token, "POST", "runs/log-batch", fmt.Sprintf(`{"run_id":%q,
		"metrics":[{"key":"auc","value":0.91,"timestamp":1700000001000,"step":1},{"key":"loss","value":"NaN","timestamp":1700000001000}],
		"params":[{"key":"max_depth","value":"6"},{"key":"eta","value":"0.3"}],"tags":[{"key":"team","value":"risk"}]}`, id))
	mlflowPost(t, addr, token, "POST", "runs/log-metric", fmt.Sprintf(`{"run_id":%q,"key":"auc","value":0.93,"timestamp":1700000002000,"step":2}`, id))
	mlflowPost(t, addr, token, "POST", "runs/set-tag", fmt.Sprintf(`{"run_id":%q,"key":"stage","value":"candidate"}`, id))
	mlflowPost(t, addr, token, "POST", "runs/update", fmt.Sprintf(`{"run_id":%q,"status":"FINISHED","end_time":1700000009000}`, id))
	got := mlflowPost(t, addr, token, "GET", "runs/get?run_id="+id, "")["run"].(map[string]any)

	both := func(args ...string) (remote, local string) {
		t.Helper()
		remote, err := runCmd(t, append(args, "--server", addr, "--token", token)...)
		if err != nil {
			t.Fatalf("%v --server = %v\n%s", args, err, remote)
		}
		local, err = runCmd(t, append(args, "--registry", reg)...)
		if err != nil {
			t.Fatalf("%v --registry = %v\n%s", args, err, local)
		}
		return remote, local
	}
	same := func(args ...string) string {
		t.Helper()
		remote, local := both(args...)
		if remote != local {
			t.Errorf("%v answers differently through the server and on disk:\n--server:\n%s\n--registry:\n%s", args, remote, local)
		}
		return remote
	}

	// runs show: everything runs/get returns, as it returns it.
	out := same("runs", "show", id)
	num := func(v any) string {
		if f, ok := v.(float64); ok && f == math.Trunc(f) {
			return strconv.FormatFloat(f, 'f', -1, 64)
		} else if ok {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return fmt.Sprint(v)
	}
	var want []string
	for k, v := range got["info"].(map[string]any) {
		if k != "run_uuid" {
			want = append(want, k+": "+num(v))
		}
	}
	data := got["data"].(map[string]any)
	for _, p := range data["params"].([]any) {
		p := p.(map[string]any)
		want = append(want, fmt.Sprintf("%s = %s", p["key"], p["value"]))
	}
	for _, m := range data["metrics"].([]any) {
		m := m.(map[string]any)
		want = append(want, fmt.Sprintf("%s = %s step %s timestamp %s", m["key"], num(m["value"]), num(m["step"]), num(m["timestamp"])))
	}
	for _, tag := range data["tags"].([]any) {
		tag := tag.(map[string]any)
		want = append(want, fmt.Sprintf("%s = %s", tag["key"], tag["value"]))
	}
	for _, w := range want {
		if !holds(out, "  "+w) && !holds(out, "  "+w+" (") {
			t.Errorf("runs show lacks %q, which runs/get returns:\n%s", w, out)
		}
	}
	if len(want) < 15 || !holds(out, "start_time: 1700000000000 (2023-11-14T22:13:20.000Z)") || !holds(out, "loss = NaN step 0") {
		t.Errorf("runs show of the MLflow run (checked %d values):\n%s", len(want), out)
	}

	// A run a publish created shows its datasets and the versions it made.
	out = same("runs", "show", r2)
	for _, w := range []string{"datasets:\n  train sha256 " + sha256Hex([]byte("x0,x1,x2,y\n1,2,3,0\n4,5,6,1\n")) + " 2 rows 4 columns (x0, x1, x2, y) " + train,
		"lineage (model versions it produced):\n  m version 2", "switchyard.seed = 7", "switchyard.code_revision = abc123"} {
		if !holds(out, w) {
			t.Errorf("runs show %s lacks %q:\n%s", r2, w, out)
		}
	}
	out = same("runs")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[1], r2) || !strings.HasPrefix(lines[2], r1) || !strings.HasPrefix(lines[3], id) {
		t.Errorf("runs list = \n%s\nwant %s, %s, %s, newest first", out, r2, r1, id)
	}
	if out := same("runs", "list", "--experiment-id", "0", "--max-results", "1"); strings.Count(out, "\n") != 2 || !strings.Contains(out, r2) {
		t.Errorf("runs list of experiment 0, at most 1 = \n%s", out)
	}

	out = same("audit")
	if !holds(out, "ana publish m 2 - ") || !holds(out, "ana publish m 1 first {") {
		t.Errorf("audit = \n%s", out)
	}
	// The table cuts long reasons and details to one short line each;
	// --json prints them whole.
	const note = "(… marks a reason or details cut to fit; --json prints every entry in full)\n"
	for line := range strings.Lines(strings.TrimSuffix(out, note)) {
		if n := utf8.RuneCountInString(line); n > 250 {
			t.Errorf("audit line of %d characters; want the table cut to fit:\n%s", n, line)
		}
	}
	if !strings.Contains(out, "…") || !strings.HasSuffix(out, note) {
		t.Errorf("audit = \n%s\nwant long details cut with … and a note saying so", out)
	}
	js := same("audit", "--json")
	var full struct{ Entries []entryView }
	if err := json.Unmarshal([]byte(js), &full); err != nil || len(full.Entries) != 4 || !strings.Contains(js, `"run_id": "`+r1+`"`) {
		t.Errorf("audit --json = %v\n%s\nwant 4 entries in full", err, js)
	}
	if out := same("audit", "m", "--since", "1h", "--limit", "1"); strings.Count(strings.TrimSuffix(out, note), "\n") != 2 || !holds(out, "gate gate_pass m") {
		t.Errorf("audit m --since 1h --limit 1 = \n%s", out)
	}
	if out := same("audit", "other"); strings.Count(out, "\n") != 1 {
		t.Errorf("audit of a model without entries = \n%s", out)
	}

	// status: states and traffic from the server, "on disk" without it.
	remote, local := both("status")
	for _, w := range []string{"m 1 READY 0% pass " + r1, "m 2 READY 100% pass " + r2} {
		if !holds(remote, w) {
			t.Errorf("status --server lacks %q:\n%s", w, remote)
		}
	}
	for _, w := range []string{"m 1 on disk - pass " + r1 + " -", "m 2 on disk - pass " + r2 + " -"} {
		if !holds(local, w) {
			t.Errorf("status --registry lacks %q:\n%s", w, local)
		}
	}
	remote, local = both("status", "m", "--lineage")
	if !strings.HasPrefix(remote, "m: serving version 2 (READY, 100% of traffic)\n") || !strings.HasPrefix(local, "m: newest version 2 (on disk") {
		t.Errorf("status --lineage headers:\n%s\n%s", remote, local)
	}
	body := func(s string) string { _, b, _ := strings.Cut(s, "\n"); return b }
	if body(remote) != body(local) {
		t.Errorf("status --lineage answers differently through the server and on disk:\n%s\n%s", remote, local)
	}
	for _, w := range []string{"run " + r2 + " (", "code revision abc123", "seed 7", "train data sha256 " + sha256Hex([]byte("x0,x1,x2,y\n1,2,3,0\n4,5,6,1\n")) + ", 2 rows, 4 columns, " + train,
		"eval data sha256 " + sha256Hex([]byte("x0,x1,x2,y\n1,2,3,1\n")) + ", 1 rows"} {
		if !holds(remote, w) {
			t.Errorf("status --lineage lacks %q:\n%s", w, remote)
		}
	}

	// Unknown names, in both modes.
	for _, args := range [][]string{{"status", "nope"}, {"runs", "show", "nope"}} {
		if _, err := runCmd(t, append(args, "--server", addr, "--token", token)...); !errors.Is(err, errNotFound) {
			t.Errorf("%v --server = %v; want not found", args, err)
		}
		if _, err := runCmd(t, append(args, "--registry", reg)...); err == nil {
			t.Errorf("%v --registry succeeded", args)
		}
	}
	if _, err := runCmd(t, "runs", "show", "nope", "--registry", reg); !errors.Is(err, tracking.ErrNotFound) {
		t.Errorf("runs show nope --registry = %v; want tracking.ErrNotFound", err)
	}

	// The token: missing or wrong is refused; the environment supplies it.
	for _, tok := range []string{"", "wrong"} {
		if out, err := runCmd(t, "runs", "--server", addr, "--token", tok); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("runs with token %q = %v; want 401\n%s", tok, err, out)
		}
	}
	t.Setenv("SWITCHYARD_ADMIN_TOKEN", token)
	if out, err := runCmd(t, "audit", "--server", "http://"+addr+"/"); err != nil {
		t.Errorf("audit with the token from the environment = %v\n%s", err, out)
	}
}

// TestOpsVerbsBadInput checks the usage errors of the operations verbs and
// that reading verbs on a registry without a database say so and create
// none.
func TestOpsVerbsBadInput(t *testing.T) {
	reg := t.TempDir()
	for _, args := range [][]string{
		{"runs", "frob"}, {"runs", "show"}, {"runs", "show", "a", "b"}, {"runs", "list", "x"}, {"runs", "--max-results", "0"},
		{"audit", "a", "b"}, {"audit", "--since", "yesterday"}, {"audit", "--since", "-1h"}, {"audit", "--limit", "0"},
		{"status", "a", "b"}, {"status", "--frob"},
	} {
		if out, err := runCmd(t, append(args, "--registry", reg)...); !errors.Is(err, errUsage) {
			t.Errorf("%v = %v; want a usage error\n%s", args, err, out)
		}
	}
	for _, args := range [][]string{{"runs"}, {"audit"}} {
		if _, err := runCmd(t, append(args, "--registry", reg)...); !errors.Is(err, errNoDatabase) {
			t.Errorf("%v on a registry without a database = %v; want errNoDatabase", args, err)
		}
	}
	if out, err := runCmd(t, "status", "--registry", reg); err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("status of an empty registry = %v\n%s", err, out)
	}
	if entries, _ := filepath.Glob(filepath.Join(reg, "*")); len(entries) != 0 {
		t.Errorf("reading verbs created %v", entries)
	}
}
