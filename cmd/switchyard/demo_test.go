package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestDemoReproducible checks that the demo logs the training of each of
// its two versions as a run and that the run is enough to rebuild the
// model bit for bit: training again, twice, with the recorded seed gives
// the bytes whose sha256 the version's manifest records, from data whose
// sha256 the run records.
func TestDemoReproducible(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	out, err := runCmd(t, "demo", "--registry", reg, "--seed", "3", "--actor", "ana")
	if err != nil || !strings.Contains(out, "published fraud version 1 (logistic regression") ||
		!strings.Contains(out, "published fraud version 2 (neural network") {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	dataDir := filepath.Join(reg, ".switchyard")
	st := openStore(t, dataDir)
	for version, build := range map[int]func(uint64) (*demo.Fraud, error){1: demo.BuildFraud, 2: demo.BuildFraudNet} {
		mf, err := modelstore.ReadManifest(modelstore.VersionDir(reg, demoModel, version))
		if err != nil {
			t.Fatal(err)
		}
		runID, err := st.VersionRun(ctx, demoModel, version)
		if err != nil || runID != mf.Lineage.RunID || !strings.Contains(out, "published fraud version "+strconv.Itoa(version)) ||
			!strings.Contains(out, "trained in run "+runID) {
			t.Fatalf("version %d: VersionRun = %q, %v; manifest names run %q\n%s", version, runID, err, mf.Lineage.RunID, out)
		}
		run, err := st.Run(ctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		params := map[string]string{}
		for _, p := range run.Params {
			params[p.Key] = p.Value
		}
		metrics := map[string]float64{}
		for _, m := range run.Metrics {
			metrics[m.Key] = m.Value
		}
		if run.Info.Status != tracking.StatusFinished || run.Info.UserID != "ana" || params["algorithm"] == "" || params["l2"] == "" ||
			metrics["eval_accuracy"] < 0.5 || metrics["eval_log_loss"] <= 0 || metrics["eval_auc"] < 0.8 {
			t.Fatalf("version %d: run = %+v, params %v, metrics %v", version, run.Info, params, metrics)
		}

		// Rebuild from the record alone, twice.
		seed, err := strconv.ParseUint(tagsOf(run)[tracking.TagSeed], 10, 64)
		if err != nil || params["seed"] != "3" || *mf.Lineage.Seed != 3 {
			t.Fatalf("version %d: recorded seed: tag %q, param %q, manifest %v", version, tagsOf(run)[tracking.TagSeed], params["seed"], *mf.Lineage.Seed)
		}
		a, err := build(seed)
		if err != nil {
			t.Fatal(err)
		}
		b, err := build(seed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Model, b.Model) {
			t.Fatalf("version %d: training twice with the recorded seed made different model bytes", version)
		}
		if got := sha256Hex(a.Model); got != mf.SHA256 {
			t.Fatalf("version %d: the rebuilt model has sha256 %s; the manifest records %s", version, got, mf.SHA256)
		}
		if params["algorithm"] != a.Params()["algorithm"] || metrics["eval_accuracy"] != a.Accuracy || metrics["eval_log_loss"] != a.LogLoss ||
			metrics["eval_auc"] != a.AUC {
			t.Fatalf("version %d: recorded params %v, metrics %v; the rebuilt model has algorithm %s and scores %v, %v, %v",
				version, params, metrics, a.Params()["algorithm"], a.Accuracy, a.LogLoss, a.AUC)
		}
		var train, eval bytes.Buffer
		demo.WriteCSV(&train, a.Train)
		demo.WriteCSV(&eval, a.Eval)
		want := map[string][]byte{tracking.RoleTrain: train.Bytes(), tracking.RoleEval: eval.Bytes()}
		if len(run.Datasets) != 2 {
			t.Fatalf("version %d: datasets = %+v; want train and eval", version, run.Datasets)
		}
		// Each run stores its data as artifacts; a dataset is recorded once,
		// by its sha256, at the place the first run (version 1's) stored
		// it, since both versions use the same rows.
		artifacts := strings.TrimPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
		for _, d := range run.Datasets {
			data := want[d.Role]
			stored, err := os.ReadFile(filepath.Join(dataDir, "artifacts", artifacts, filepath.Base(d.Path)))
			first, ferr := os.ReadFile(filepath.Join(dataDir, "artifacts", strings.TrimPrefix(d.Path, "mlflow-artifacts:/")))
			if d.SHA256 != sha256Hex(data) || err != nil || ferr != nil || !bytes.Equal(stored, data) || !bytes.Equal(first, data) ||
				!strings.HasPrefix(d.Path, "mlflow-artifacts:/") {
				t.Errorf("version %d: %s dataset %+v: regenerated data has sha256 %s; stored artifacts: %v, %v", version, d.Role, d.Dataset, sha256Hex(data), err, ferr)
			}
		}
		if got, err := os.ReadFile(filepath.Join(modelstore.VersionDir(reg, demoModel, version), modelstore.EvalFile)); err != nil ||
			!bytes.Equal(got, eval.Bytes()) || mf.EvalLabel != demo.LabelColumn {
			t.Errorf("version %d: its eval.csv differs from the held-out data (%v), or its label %q is not %q", version, err, mf.EvalLabel, demo.LabelColumn)
		}

		rebuilt := writeFile(t, dir, "rebuilt.onnx", a.Model)
		if out, err := runCmd(t, "repro", demoModel, strconv.Itoa(version), "--registry", reg, "--check", rebuilt); err != nil ||
			!strings.Contains(out, "bit-exact with fraud version "+strconv.Itoa(version)) ||
			!strings.Contains(out, "param seed") || !holds(out, "command line switchyard demo --registry "+reg+" --seed 3 --actor ana") {
			t.Fatalf("version %d: repro --check = %v\n%s", version, err, out)
		}
	}

	// The audit trail: version 1 published and made stable, then version
	// 2 published.
	log, err := st.AuditLog(ctx, tracking.AuditQuery{Model: demoModel})
	if err != nil || len(log) != 3 {
		t.Fatalf("audit = %+v, %v; want 3 entries", log, err)
	}
	for i, want := range []struct {
		action  string
		version int
	}{{"publish", 2}, {"promote", 1}, {"publish", 1}} { // newest first
		if e := log[i]; e.Actor != "ana" || e.Action != want.action || len(e.Versions) != 1 || e.Versions[0] != want.version {
			t.Errorf("audit entry %d = %+v; want %s of version %d by ana", i, e, want.action, want.version)
		}
	}
}

// TestDemoGate checks that the demo gives its model a gate that version 2
// passes against version 1, shows the report before it publishes version
// 2, and leaves version 1 serving; and that switchyard eval reaches the
// same verdicts from the registry: the network passes against the
// logistic regression, and not the other way round.
func TestDemoGate(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	out, err := runCmd(t, "demo", "--registry", reg)
	if err != nil {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	first, err := demo.BuildFraud(1)
	if err != nil {
		t.Fatal(err)
	}
	better, err := demo.BuildFraudNet(1)
	if err != nil {
		t.Fatal(err)
	}
	lrAUC, netAUC := strconv.FormatFloat(first.AUC, 'g', 4, 64), strconv.FormatFloat(better.AUC, 'g', 4, 64)
	report := strings.Index(out, "## PASS: candidate against version 1 on 4000 rows")
	if report < 0 || report > strings.Index(out, "published fraud version 2") || report < strings.Index(out, "published fraud version 1") ||
		!strings.Contains(out, "| auc | "+netAUC+" | "+lrAUC+" |") ||
		!strings.Contains(out, "version 1 serves; a server gates version 2 and starts a canary rollout, as policy.yaml's on_publish says") {
		t.Fatalf("the demo shows no passing gate report (AUC %s against %s) between its two publishes:\n%s", netAUC, lrAUC, out)
	}
	modelDir := filepath.Join(reg, demoModel)
	policy, err := os.ReadFile(filepath.Join(modelDir, modelstore.PolicyFile))
	if err != nil || string(policy) != demoPolicy {
		t.Fatalf("policy.yaml = %q, %v; want the demo's", policy, err)
	}
	pol, err := modelstore.ParsePolicy(policy)
	if err != nil || pol.Gate.Label != demo.LabelColumn || len(pol.Gate.Metrics) != 2 || !pol.Gate.Required() {
		t.Fatalf("the demo's policy parses as %+v, %v", pol, err)
	}
	rp := pol.Rollout.Apply(rollout.DefaultPolicy())
	if err := rp.Validate(); err != nil || rp.OnPublish != rollout.Canary || !slices.Equal(rp.Steps, []int{2500, 5000, 10000}) ||
		rp.Bake != 20*time.Second || rp.MinRequests != 50 {
		t.Fatalf("the demo's rollout policy is %+v, %v; want a canary of 25%%, 50%%, 100%%, 20s a step", rp, err)
	}
	mf, err := modelstore.ReadManifest(modelstore.VersionDir(reg, demoModel, 2))
	if err != nil || !slices.Equal(mf.Classes, []string{"legit", "fraud"}) || len(mf.Features) != demo.NumFeatures ||
		mf.UnknownFields != modelstore.UnknownReject {
		t.Fatalf("version 2's manifest: %+v, %v; want the records schema", mf, err)
	}
	for _, f := range mf.Features {
		ok := f.Description != ""
		switch f.Type {
		case modelstore.TypeNumber, modelstore.TypeInteger:
			ok = ok && f.Min != nil && f.Max != nil && *f.Min < *f.Max
		case modelstore.TypeCategory:
			ok = ok && len(f.Values) > 1 && f.Encoding == modelstore.EncodeOneHot
		case modelstore.TypeBool:
		default:
			ok = false
		}
		if !ok {
			t.Errorf("feature %+v lacks a description, sensible bounds or its values", f)
		}
	}
	if st, err := rollout.ReadState(modelDir); err != nil || st == nil || st.Stable != 1 || st.Candidate != 0 || st.Strategy != rollout.Manual {
		t.Fatalf("rollout.json = %+v, %v; want version 1 stable", st, err)
	}

	eval := func(version int) (string, error) {
		vdir := modelstore.VersionDir(reg, demoModel, version)
		return runCmd(t, "eval", "--onnx", filepath.Join(vdir, modelstore.ModelFile), "--eval", filepath.Join(vdir, modelstore.EvalFile),
			"--registry", reg, "--model", demoModel)
	}
	if out, err := eval(2); err != nil || !strings.Contains(out, "## PASS: candidate against version 1") {
		t.Fatalf("eval of version 2 = %v\n%s", err, out)
	}
	if out, err := runCmd(t, "promote", demoModel, "2", "--reason", "passed its gate", "--registry", reg); err != nil {
		t.Fatalf("promote = %v\n%s", err, out)
	}
	if out, err := eval(1); exitCode(err) != 1 || !strings.Contains(out, "## FAIL: candidate against version 2") ||
		!strings.Contains(out, "auc of candidate is "+lrAUC+", more than 0.005 below version 2's "+netAUC) {
		t.Fatalf("eval of version 1 against version 2 = %v\n%s", err, out)
	}
}

// TestDemoIdempotent checks that a second demo publishes nothing, that
// --force publishes the network once more, gated against what is stable,
// and that a policy.yaml the model already has is kept: one whose gate the
// network fails stops it from being published.
func TestDemoIdempotent(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	if out, err := runCmd(t, "demo", "--registry", reg); err != nil {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	if out, err := runCmd(t, "demo", "--registry", reg); err != nil || !strings.Contains(out, "already has model") ||
		strings.Contains(out, "published") || strings.Contains(out, "## ") {
		t.Fatalf("second demo = %v\n%s", err, out)
	}
	out, err := runCmd(t, "demo", "--registry", reg, "--force")
	if err != nil || !strings.Contains(out, "## PASS: candidate against version 1") || !strings.Contains(out, "published fraud version 3 (neural network") ||
		strings.Contains(out, "published fraud version 4") {
		t.Fatalf("demo --force = %v\n%s", err, out)
	}
	if complete, _, _ := modelstore.Versions(reg, demoModel); len(complete) != 3 {
		t.Fatalf("versions %v after demo, demo and demo --force; want 3", complete)
	}

	strict := filepath.Join(t.TempDir(), "registry")
	kept := "# mine\ngate:\n  metrics:\n    auc: {min: 0.95}\n"
	if err := os.MkdirAll(filepath.Join(strict, demoModel), 0o755); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, filepath.Join(strict, demoModel), modelstore.PolicyFile, []byte(kept))
	out, err = runCmd(t, "demo", "--registry", strict)
	if exitCode(err) != 1 || !strings.Contains(out, "keeping "+path) || !strings.Contains(out, "published fraud version 1") ||
		!strings.Contains(out, "## FAIL: candidate against version 1") || strings.Contains(out, "published fraud version 2") {
		t.Fatalf("demo under a gate the network fails = %v (exit %d)\n%s", err, exitCode(err), out)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != kept {
		t.Fatalf("policy.yaml = %q, %v; want it kept", got, err)
	}
	if complete, _, _ := modelstore.Versions(strict, demoModel); len(complete) != 1 {
		t.Fatalf("versions %v; want only version 1", complete)
	}
}

// TestDemoServeExisting checks demo --serve on a registry the demo
// already published to: it publishes nothing, serves the registry as it
// is (records requests included), sends no traffic with --traffic 0, and
// stops cleanly when cancelled (startDemo's cleanup).
func TestDemoServeExisting(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	if out, err := runCmd(t, "demo", "--registry", reg); err != nil {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	d := startDemo(t, []string{"demo", "--serve", "--registry", reg, "--addr", "127.0.0.1:0", "--traffic", "0", "--log-level", "error"})
	out := d.stdout.String()
	if !strings.Contains(out, "already has model \"fraud\" (versions [1 2]): publishing nothing") || strings.Contains(out, "published") ||
		!strings.Contains(out, "serving "+reg+" as it is") || !strings.Contains(out, "no background traffic (--traffic 0)") {
		t.Fatalf("demo --serve on a published registry printed:\n%s", out)
	}
	m := regexp.MustCompile(`curl -s (\S+)(/v1/models/fraud:predict) -H 'Content-Type: application/json' -d '([^']+)'`).FindStringSubmatch(out)
	if m == nil || m[1] != d.addr {
		t.Fatalf("demo --serve printed no records request to %s:\n%s", d.addr, out)
	}
	resp, err := http.Post("http://"+d.addr+m[2], "application/json", strings.NewReader(m[3]))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"label":"fraud"`) {
		t.Fatalf("the printed records request = %s: %s", resp.Status, body)
	}
	if _, err := runCmd(t, "demo", "--serve", "--traffic", "1000", "--registry", reg); !errors.Is(err, errUsage) {
		t.Fatalf("demo --traffic 1000 = %v; want a usage error", err)
	}
}

func TestDemoAddrs(t *testing.T) {
	local := func(listen, want string, loopback bool) {
		t.Helper()
		if got, lb, err := localAddr(listen); err != nil || got != want || lb != loopback {
			t.Errorf("localAddr(%q) = %q, %v, %v; want %q, %v", listen, got, lb, err, want, loopback)
		}
	}
	local("127.0.0.1:8080", "127.0.0.1:8080", true)
	local("[::1]:8080", "[::1]:8080", true)
	local("0.0.0.0:8080", "127.0.0.1:8080", true)
	local("[::]:8080", "127.0.0.1:8080", true)
	local("192.0.2.7:8080", "192.0.2.7:8080", false)
	if _, _, err := localAddr("nonsense"); err == nil {
		t.Errorf("localAddr(nonsense) succeeded")
	}
	public := func(addr, listen, want string) {
		t.Helper()
		if got := publicAddr(addr, listen); got != want {
			t.Errorf("publicAddr(%q, %q) = %q; want %q", addr, listen, got, want)
		}
	}
	public("localhost:8080", "127.0.0.1:8080", "localhost:8080")
	public(":8080", "[::]:8080", "localhost:8080")
	public("0.0.0.0:0", "0.0.0.0:41234", "localhost:41234")
	public("127.0.0.1:0", "127.0.0.1:41234", "127.0.0.1:41234")
	public("192.0.2.7:8080", "192.0.2.7:8080", "192.0.2.7:8080")
}

// testPolicy returns the demo's policy.yaml with each canary step lasting
// bake instead of 20 seconds, for tests that follow a canary; the bounds
// stay the defaults.
func testPolicy(t *testing.T, bake string) string {
	t.Helper()
	p := demoPolicy
	for _, r := range [][2]string{{"bake: 20s", "bake: " + bake}} {
		if !strings.Contains(p, r[0]) {
			t.Fatalf("the demo's policy.yaml has no %q:\n%s", r[0], p)
		}
		p = strings.Replace(p, r[0], r[1], 1)
	}
	return p
}
