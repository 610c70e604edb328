package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/internal/errtext"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// TestRolloutVerbs drives promote, pause, resume and rollback against a
// running server and then directly on the registry, and checks what
// serves after each.
func TestRolloutVerbs(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	for seed := range 3 {
		testenv.Publish(t, reg, "m", onnx.RandomMLP(uint64(seed), onnx.ActivationNone, 3, 2).Model())
	}
	addr := serve(t, "--registry", reg, "--controller-tick", "20ms")
	served := func() string {
		resp, err := http.Get("http://" + addr + "/v2/models/m")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Model-Version")
	}
	run := func(want string, args ...string) {
		t.Helper()
		out, err := runCmd(t, args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("%v = %v\n%s\nwant it to say %q", args, err, out, want)
		}
	}
	server := []string{"--server", addr, "--actor", "ana"}
	run("m: stable 2 (ana: bad", append([]string{"rollback", "m", "--reason", "bad numbers"}, server...)...)
	if v := served(); v != "2" {
		t.Fatalf("after rollback version %s serves; want 2", v)
	}
	run("candidate 3 at 5.00% (canary, step 0)", append([]string{"promote", "m", "3", "--strategy", "canary", "--reason", "retry"}, server...)...)
	run("rollout.json m: stable 2, candidate 3 at 5.00%", "status", "m", "--server", addr)
	run("rollout.json m: stable 2, candidate 3 at 5.00%", "status", "m", "--registry", reg)
	// The controller holds the canary while its first step bakes, and says
	// why.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, _ := runCmd(t, "status", "m", "--server", addr)
		if strings.Contains(out, "last analysis") && strings.Contains(out, ": hold: ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status shows no analysis of the canary:\n%s", out)
		}
	}
	run("paused", append([]string{"pause", "m", "--reason", "weekend"}, server...)...)
	run("m: stable 2, candidate 3", append([]string{"resume", "m", "--reason", "monday"}, server...)...)
	run("m: stable 3 (ana: done)", append([]string{"promote", "m", "3", "--reason", "done"}, server...)...)
	if v := served(); v != "3" {
		t.Fatalf("after promote version %s serves; want 3", v)
	}
	run("rollback", "audit", "m", "--server", addr)

	// Directly on the registry: the running server's watcher follows.
	run("m: stable 2", "rollback", "m", "--registry", reg, "--reason", "by hand", "--actor", "bob")
	for deadline := time.Now().Add(30 * time.Second); served() != "2"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not follow rollout.json written on disk: %s serves", served())
		}
	}
	if st, err := rollout.ReadState(filepath.Join(reg, "m")); err != nil || st.Actor != "bob" || st.Stable != 2 {
		t.Fatalf("rollout.json = %+v, %v", st, err)
	}
	run("bob", "audit", "m", "--registry", reg)

	for _, args := range [][]string{
		{"promote", "m", "3"},                     // no reason
		{"promote", "m", "--reason", "x"},         // no version
		{"promote", "m", "zero", "--reason", "x"}, // not a version
		{"rollback", "--reason", "x"},             // no model
	} {
		if _, err := runCmd(t, append(args, "--registry", reg)...); !errors.Is(err, errUsage) {
			t.Errorf("%v = %v; want a usage error", args, err)
		}
	}
	for _, args := range [][]string{
		{"promote", "m", "9", "--reason", "x"},
		{"promote", "m", "2", "--reason", "x"}, // already stable
		{"promote", "nope", "1", "--reason", "x"},
	} {
		if _, err := runCmd(t, append(args, "--registry", reg)...); err == nil || errors.Is(err, errUsage) {
			t.Errorf("%v = %v; want a refusal", args, err)
		}
		if _, err := runCmd(t, append(args, "--server", addr)...); err == nil || errors.Is(err, errUsage) {
			t.Errorf("%v --server = %v; want a refusal", args, err)
		}
	}
	if v := served(); v != "2" {
		t.Fatalf("refused commands changed what serves: %s", v)
	}
}

// TestDemoRolloutWalkthrough follows docs/rollouts.md's walkthrough,
// with steps of a second and the default bounds (testPolicy): the demo publishes
// its fraud model to a serving registry, version 1 serves, version 2
// passes its gate and the model's policy rolls it out as a canary, status
// shows it advancing, and a rollback returns all traffic to version 1.
func TestDemoRolloutWalkthrough(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	if err := os.MkdirAll(filepath.Join(reg, demoModel), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(reg, demoModel), modelstore.PolicyFile, []byte(testPolicy(t, "1s")))
	addr := serve(t, "--registry", reg, "--controller-tick", "20ms")
	// The demo publishes version 1, which serves, then version 2, which
	// the server gates against version 1 and the controller rolls out.
	out, err := runCmd(t, "demo", "--registry", reg)
	if err != nil || !strings.Contains(out, "published fraud version 2") {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	m := regexp.MustCompile(`curl -s \S+/v2/models/fraud/infer -H 'Content-Type: application/json' -d '([^']+)'`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo printed no V2 request:\n%s", out)
	}
	// Traffic as the demo sends it: records of many transactions, so that
	// the canary compares the two versions' score distributions, not
	// their answers to one repeated request.
	records := demo.Generate(7, 500)
	stop := make(chan struct{})
	traffic := make(chan struct{})
	go func() {
		defer close(traffic)
		for i := range 1_000_000 {
			select {
			case <-stop:
				return
			default:
			}
			body := bytes.NewReader(recordsBody(records.Row(i % records.Len())))
			if resp, err := http.Post("http://"+addr+"/v1/models/fraud:predict", "application/json", body); err == nil {
				resp.Body.Close()
			}
		}
	}()
	defer func() { close(stop); <-traffic }()
	seen := map[string]bool{}
	for deadline := time.Now().Add(30 * time.Second); !seen["50.00%"]; time.Sleep(10 * time.Millisecond) {
		out, _ := runCmd(t, "status", "fraud", "--server", addr)
		for _, w := range []string{"25.00%", "50.00%"} {
			if strings.Contains(out, "candidate 2 at "+w) {
				seen[w] = true
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the canary did not reach 50%% (saw %v):\n%s", seen, out)
		}
	}
	mresp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, series := range []string{`switchyard_rollout_analysis{measure="candidate_requests",model="fraud"}`,
		`switchyard_rollout_decisions_total{action="advance",model="fraud"}`, `switchyard_traffic_weight_bp{model="fraud",version="2"}`} {
		if !strings.Contains(string(metrics), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	out, err = runCmd(t, "rollback", "fraud", "--reason", "p99 doubled", "--server", addr)
	if err != nil || !strings.Contains(out, "fraud: stable 1 (") {
		t.Fatalf("rollback = %v\n%s", err, out)
	}
	resp, err := http.Get("http://" + addr + "/v2/models/fraud")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("X-Model-Version"); v != "1" {
		t.Fatalf("after the rollback version %s serves", v)
	}
	if out, _ := runCmd(t, "audit", "fraud", "--server", addr); !strings.Contains(out, "controller") || !strings.Contains(out, "rollback") {
		t.Fatalf("audit:\n%s", out)
	}
}

// TestPromoteForce: a version that failed its gate cannot be promoted
// without --force, through the server or on the registry; with --force
// and a reason it serves, rollout.json keeps the override, and the audit
// trail says who forced it and why.
func TestPromoteForce(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	eval := writeFile(t, dir, "eval.csv", []byte("a,b,c,y\n1,0,0,1\n-1,0,0,0\n2,1,0,1\n-2,1,0,0\n"))
	publish := func(weights ...float32) {
		t.Helper()
		path := writeFile(t, dir, "model.onnx", (&onnx.LogReg{Weights: weights, Bias: []float32{0}}).Model().Marshal())
		if out, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", path, "--eval", eval, "--label", "y"); err != nil {
			t.Fatalf("publish = %v\n%s", err, out)
		}
	}
	publish(3, 0, 0)
	writeFile(t, filepath.Join(reg, "m"), "policy.yaml", []byte("gate:\n  metrics:\n    accuracy: {min: 0.9}\n"))
	publish(-3, 0, 0) // always wrong
	addr := serve(t, "--registry", reg)
	runOK := func(want string, args ...string) {
		t.Helper()
		out, err := runCmd(t, args...)
		if err != nil || !holds(out, want) {
			t.Fatalf("%v = %v\n%s\nwant it to say %q", args, err, out, want)
		}
	}
	runOK("m 2 FAILED 0% fail", "status", "m", "--server", addr)
	for _, where := range [][]string{{"--server", addr}, {"--registry", reg}} {
		_, err := runCmd(t, append([]string{"promote", "m", "2", "--reason", "x"}, where...)...)
		if err == nil || !strings.Contains(err.Error(), "failed its gate") || !strings.Contains(err.Error(), "--force") {
			t.Errorf("promote of the failed version %v = %v; want a refusal naming the gate and --force", where, err)
		}
		// The user wrote no rollout.json: the refusal says what the
		// verdict said, not that a file is invalid.
		if msg := errtext.Text(err); strings.Contains(msg, "rollout.json") || !strings.Contains(msg, "accuracy") ||
			strings.Contains(msg, "rollout: ") || strings.Contains(msg, "modelstore: ") {
			t.Errorf("promote of the failed version %v says %q; want the gate's reason and no file or package named", where, msg)
		}
	}
	if _, err := runCmd(t, "rollback", "m", "--force", "--reason", "x", "--registry", reg); !errors.Is(err, errUsage) {
		t.Errorf("rollback --force = %v; want a usage error", err)
	}
	runOK("m: stable 2 (ana: the labels of eval.csv are stale)", "promote", "m", "2", "--force", "--reason", "the labels of eval.csv are stale", "--actor", "ana", "--server", addr)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, _ := runCmd(t, "status", "m", "--server", addr)
		if holds(out, "m 2 READY 100% fail") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the forced version does not serve:\n%s", out)
		}
	}
	if st, err := rollout.ReadState(filepath.Join(reg, "m")); err != nil || !st.Overrides(2) {
		t.Fatalf("rollout.json = %+v, %v; want the override of version 2", st, err)
	}
	runOK(`"force":true`, "audit", "m", "--registry", reg)

	// On the registry, the override is kept across later changes.
	runOK("m: stable 1", "rollback", "m", "--reason", "back", "--registry", reg)
	runOK("m: stable 2", "promote", "m", "2", "--reason", "again", "--registry", reg)
	if st, err := rollout.ReadState(filepath.Join(reg, "m")); err != nil || !st.Overrides(2) {
		t.Fatalf("rollout.json = %+v, %v; want the override kept", st, err)
	}
}
