package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/regfile"
	"github.com/switchyard-ml/switchyard/internal/regfile/regfiletest"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// smallModel returns the bytes of a small ONNX model, 3 inputs, 2 outputs.
func smallModel(seed uint64) []byte {
	return onnx.RandomMLP(seed, onnx.ActivationSoftmax, 3, 2).Model().Marshal()
}

// openStore opens the tracking store of a data directory for the test to
// read; it closes when the test ends.
func openStore(t *testing.T, dataDir string) *tracking.Store {
	t.Helper()
	st, err := tracking.Open(context.Background(), dataDir, tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// squash returns s with each run of spaces and tabs made one space, so
// that tests do not depend on how tabwriter aligns columns.
func squash(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// holds reports whether out holds want, spacing aside.
func holds(out, want string) bool { return strings.Contains(squash(out), squash(want)) }

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func tagsOf(r *tracking.Run) map[string]string {
	m := map[string]string{}
	for _, t := range r.Tags {
		m[t.Key] = t.Value
	}
	return m
}

// TestPublishLineage publishes with every lineage flag and checks what the
// manifest, the version directory and the tracking store hold, then links
// a second version to the same run with --run, then lets a third take the
// defaults; repro prints the record and checks a rebuilt model.
func TestPublishLineage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	model := smallModel(1)
	onnxPath := writeFile(t, dir, "m.onnx", model)
	trainCSV := []byte("x0,x1,x2,y\n1,2,3,0\n4,5,6,1\n")
	evalCSV := []byte("x0,x1,x2,y\n1,2,3,1\n")
	train := writeFile(t, dir, "train.csv", trainCSV)
	eval := writeFile(t, dir, "eval.csv", evalCSV)
	reg := filepath.Join(dir, "reg")
	out, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", onnxPath, "--train-data", train, "--eval", eval, "--label", "y",
		"--experiment", "churn", "--param", "lr=0.1", "--param", "depth=6", "--metric", "auc=0.91", "--seed", "42", "--code-rev", "abc123",
		"--actor", "ana", "--note", "nightly retrain")
	if err != nil || strings.TrimSpace(out) != "1" {
		t.Fatalf("publish = %q, %v; want 1", out, err)
	}
	vdir := modelstore.VersionDir(reg, "m", 1)
	mf, err := modelstore.ReadManifest(vdir)
	if err != nil {
		t.Fatal(err)
	}
	lin := mf.Lineage
	if lin == nil || lin.RunID == "" || lin.DatasetSHA256 != sha256Hex(trainCSV) || lin.DatasetPath != train || lin.EvalDatasetSHA256 != sha256Hex(evalCSV) ||
		lin.CodeRevision != "abc123" || lin.Seed == nil || *lin.Seed != 42 || mf.EvalLabel != "y" {
		t.Fatalf("manifest = %+v, lineage %+v", mf, lin)
	}
	if got, err := os.ReadFile(filepath.Join(vdir, modelstore.EvalFile)); err != nil || !bytes.Equal(got, evalCSV) {
		t.Fatalf("eval.csv = %q, %v; want a copy of --eval", got, err)
	}
	runID := lin.RunID

	st := openStore(t, filepath.Join(reg, ".switchyard"))
	run, err := st.Run(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := st.ExperimentByName(ctx, "churn")
	if err != nil || run.Info.ExperimentID != exp.ID || run.Info.Status != tracking.StatusFinished || run.Info.EndTime == 0 || run.Info.UserID != "ana" {
		t.Fatalf("run %+v in experiment %+v, %v; want a FINISHED run of ana in the new experiment churn", run.Info, exp, err)
	}
	if fmt.Sprint(run.Params) != "[{depth 6} {lr 0.1}]" || len(run.Metrics) != 1 || run.Metrics[0].Key != "auc" || run.Metrics[0].Value != 0.91 {
		t.Fatalf("params %v, metrics %v", run.Params, run.Metrics)
	}
	tags := tagsOf(run)
	for key, want := range map[string]string{
		tracking.TagCodeRevision: "abc123", tracking.TagGitCommit: "abc123", tracking.TagSeed: "42",
		tracking.TagTrainSHA256: sha256Hex(trainCSV), tracking.TagEvalSHA256: sha256Hex(evalCSV),
		tracking.TagGoVersion: runtime.Version(), tracking.TagORTVersion: engine.ORTVersion, tracking.TagOS: runtime.GOOS, tracking.TagArch: runtime.GOARCH,
	} {
		if tags[key] != want {
			t.Errorf("tag %s = %q; want %q", key, tags[key], want)
		}
	}
	if cl := tags[tracking.TagCommandLine]; !strings.HasPrefix(cl, "switchyard publish --registry "+reg) || !strings.Contains(cl, "--note 'nightly retrain'") {
		t.Errorf("command line tag = %q", cl)
	}
	if len(run.Datasets) != 2 {
		t.Fatalf("datasets = %+v; want train and eval", run.Datasets)
	}
	for _, d := range run.Datasets {
		if d.Role == tracking.RoleTrain && (d.Rows != 2 || !slices.Equal(d.Columns, []string{"x0", "x1", "x2", "y"}) || d.Path != train) ||
			d.Role == tracking.RoleEval && (d.Rows != 1 || d.SHA256 != sha256Hex(evalCSV)) {
			t.Errorf("dataset %+v", d)
		}
	}
	if got, err := st.VersionRun(ctx, "m", 1); err != nil || got != runID {
		t.Fatalf("VersionRun(m, 1) = %q, %v; want %s", got, err, runID)
	}
	log, err := st.AuditLog(ctx, tracking.AuditQuery{Model: "m"})
	if err != nil || len(log) != 1 || log[0].Actor != "ana" || log[0].Action != "publish" || fmt.Sprint(log[0].Versions) != "[1]" ||
		log[0].Reason != "nightly retrain" || log[0].Details["run_id"] != runID || log[0].Details["sha256"] != sha256Hex(model) {
		t.Fatalf("audit = %+v, %v", log, err)
	}

	// A second version linked to the same run: the run is not created or
	// ended again.
	onnx2 := writeFile(t, dir, "m2.onnx", smallModel(2))
	if out, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", onnx2, "--run", runID, "--train-data", train, "--train-label", "y"); err != nil || strings.TrimSpace(out) != "2" {
		t.Fatalf("publish --run = %q, %v", out, err)
	}
	if mf2, err := modelstore.ReadManifest(modelstore.VersionDir(reg, "m", 2)); err != nil || mf2.Lineage.RunID != runID ||
		mf2.Lineage.DatasetSHA256 != sha256Hex(trainCSV) || mf2.Lineage.CodeRevision != "abc123" || *mf2.Lineage.Seed != 42 {
		t.Fatalf("manifest of version 2 = %+v, %v", mf2.Lineage, err)
	}
	if vs, err := st.RunVersions(ctx, runID); err != nil || fmt.Sprint(vs) != "[{m 1} {m 2}]" {
		t.Fatalf("RunVersions = %v, %v", vs, err)
	}
	if r, _ := st.Run(ctx, runID); r.Info.EndTime != run.Info.EndTime {
		t.Fatalf("publish --run ended the run again: %+v", r.Info)
	}

	// The defaults: the default experiment, the code revision git gives
	// in the current directory (this repository), the OS user.
	onnx3 := writeFile(t, dir, "m3.onnx", smallModel(3))
	if out, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", onnx3); err != nil || strings.TrimSpace(out) != "3" {
		t.Fatalf("publish with the defaults = %q, %v", out, err)
	}
	id3, _ := st.VersionRun(ctx, "m", 3)
	r3, err := st.Run(ctx, id3)
	if err != nil || r3.Info.ExperimentID != tracking.DefaultExperimentID || r3.Info.UserID != defaultCreator() {
		t.Fatalf("run of version 3 = %+v, %v", r3, err)
	}
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil && tagsOf(r3)[tracking.TagCodeRevision] != strings.TrimSpace(string(head)) {
		t.Errorf("code revision = %q; want git's HEAD %s", tagsOf(r3)[tracking.TagCodeRevision], head)
	}

	// repro prints the record; --check compares a rebuilt model.
	out, err = runCmd(t, "repro", "m", "1", "--registry", reg)
	if err != nil {
		t.Fatalf("repro = %v\n%s", err, out)
	}
	for _, want := range []string{"m version 1\n", "sha256 " + sha256Hex(model), "run            " + runID, "code revision  abc123", "seed           42",
		"train data     sha256 " + sha256Hex(trainCSV) + ", 2 rows, 4 columns (x0, x1, x2, y), " + train, "eval data      sha256 " + sha256Hex(evalCSV),
		"param depth    6", "param lr       0.1", "metric auc     0.91", "go             " + runtime.Version(), "onnxruntime    " + engine.ORTVersion,
		"os/arch        " + runtime.GOOS + "/" + runtime.GOARCH, "command line   switchyard publish --registry"} {
		if !holds(out, want) {
			t.Errorf("repro output lacks %q:\n%s", want, out)
		}
	}
	if out, err := runCmd(t, "repro", "m", "1", "--registry", reg, "--check", onnxPath); err != nil || !strings.Contains(out, "bit-exact with m version 1") {
		t.Errorf("repro --check the same bytes = %v\n%s", err, out)
	}
	if out, err := runCmd(t, "repro", "--check", onnx2, "m", "1", "--registry", reg); !errors.Is(err, errFailed) || !strings.Contains(out, "not bit-exact") {
		t.Errorf("repro --check other bytes = %v; want errFailed (exit 1) saying not bit-exact\n%s", err, out)
	}
	if _, err := runCmd(t, "repro", "m", "9", "--registry", reg); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("repro of a missing version = %v; want ErrNotExist", err)
	}
	if _, err := runCmd(t, "repro", "m", "--registry", reg); !errors.Is(err, errUsage) {
		t.Errorf("repro without a version = %v; want a usage error", err)
	}
}

// TestReproWithoutStore prints what a bare manifest knows of a version
// published with no tracking database.
func TestReproWithoutStore(t *testing.T) {
	reg := t.TempDir()
	seed := int64(5)
	if _, err := modelstore.Publish(reg, "m", smallModel(1), modelstore.PublishOptions{Lineage: &modelstore.Lineage{
		RunID: "r1", DatasetSHA256: strings.Repeat("ab", 32), Seed: &seed, Params: map[string]string{"lr": "0.2"}}}); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, "repro", "m", "1", "--registry", reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"r1 (not in the tracking store)", "code revision  not recorded", "seed           5", "train data     sha256 " + strings.Repeat("ab", 32),
		"param lr       0.2", "go             not recorded"} {
		if !holds(out, want) {
			t.Errorf("repro output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(reg, ".switchyard")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("repro created the data directory: %v", err)
	}
}

// TestPublishSchema publishes with --schema files in YAML and JSON and
// checks that the manifest keeps them.
func TestPublishSchema(t *testing.T) {
	dir := t.TempDir()
	onnxPath := writeFile(t, dir, "m.onnx", smallModel(1))
	reg := filepath.Join(dir, "reg")
	want := &modelstore.Schema{
		Features: []modelstore.Feature{
			{Name: "amount", Type: "number", Min: new(0.0), Description: "in cents", Position: 0},
			{Name: "country", Type: "category", Values: []string{"FR", "DE"}, Encoding: "one_hot", Default: "FR", Position: 1},
		},
		Classes:       []string{"legit", "fraud"},
		UnknownFields: "ignore",
	}
	f := func(name, schema string, version int) {
		t.Helper()
		path := writeFile(t, dir, name, []byte(schema))
		out, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", onnxPath, "--schema", path)
		if err != nil || strings.TrimSpace(out) != fmt.Sprint(version) {
			t.Fatalf("publish --schema %s = %q, %v; want %d", name, out, err, version)
		}
		mf, err := modelstore.ReadManifest(modelstore.VersionDir(reg, "m", version))
		if err != nil {
			t.Fatal(err)
		}
		if got := mf.SchemaOf(); !reflect.DeepEqual(got, want) {
			t.Fatalf("publish --schema %s: the manifest's schema is %+v; want %+v", name, got, want)
		}
	}
	f("schema.yaml", `features:
  - name: amount
    type: number
    min: 0
    description: in cents
  - {name: country, type: category, values: [FR, DE], encoding: one_hot, default: FR, position: 1}
classes: [legit, fraud]
unknown_fields: ignore
`, 1)
	f("schema.json", `{"features": [
  {"name": "amount", "type": "number", "min": 0, "description": "in cents", "position": 0},
  {"name": "country", "type": "category", "values": ["FR", "DE"], "encoding": "one_hot", "default": "FR", "position": 1}
], "classes": ["legit", "fraud"], "unknown_fields": "ignore"}`, 2)
}

// TestPublishBadInputs checks that each bad input gets a clear error and
// leaves both the registry and the tracking database as they were.
func TestPublishBadInputs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	onnxPath := writeFile(t, dir, "m.onnx", smallModel(1))
	train := writeFile(t, dir, "train.csv", []byte("x0,x1,x2,y\n1,2,3,0\n"))
	eval := writeFile(t, dir, "eval.csv", []byte("x0,x1,x2,y\n1,2,3,1\n"))
	reg := filepath.Join(dir, "reg")
	dataDir := filepath.Join(reg, ".switchyard")
	if out, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", onnxPath, "--train-data", train); err != nil {
		t.Fatalf("publish = %v\n%s", err, out)
	}
	// state describes the registry's files and everything in the database.
	state := func() string {
		t.Helper()
		var b strings.Builder
		filepath.WalkDir(reg, func(p string, d fs.DirEntry, err error) error {
			if d.IsDir() && d.Name() == ".switchyard" {
				return filepath.SkipDir
			}
			info, _ := d.Info()
			fmt.Fprintf(&b, "%s %d\n", p, info.Size())
			return err
		})
		st, err := tracking.Open(ctx, dataDir, tracking.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		exps, _, _ := st.SearchExperiments(ctx, tracking.ExperimentQuery{ViewType: tracking.All})
		var ids []string
		for _, e := range exps {
			ids = append(ids, e.ID)
			fmt.Fprintf(&b, "experiment %s %s\n", e.ID, e.Name)
		}
		runs, _, _ := st.SearchRuns(ctx, tracking.RunQuery{ExperimentIDs: ids, ViewType: tracking.All})
		for _, r := range runs {
			fmt.Fprintf(&b, "run %+v %v %v %v %v\n", r.Info, r.Params, r.Metrics, r.Tags, r.Datasets)
		}
		log, _ := st.AuditLog(ctx, tracking.AuditQuery{Limit: 1000})
		fmt.Fprintf(&b, "audit entries %d\n", len(log))
		return b.String()
	}
	before := state()
	base := []string{"publish", "--registry", reg, "--model", "m", "--onnx", onnxPath}
	f := func(wantErr error, want string, args ...string) {
		t.Helper()
		out, err := runCmd(t, append(slices.Clone(base), args...)...)
		if err == nil || wantErr != nil && !errors.Is(err, wantErr) || !strings.Contains(out+err.Error(), want) {
			t.Errorf("publish %q = %v; want an error (%v) mentioning %q\n%s", args, err, wantErr, want, out)
		}
		if after := state(); after != before {
			t.Errorf("publish %q changed the registry or the database:\nbefore:\n%s\nafter:\n%s", args, before, after)
		}
	}
	f(tracking.ErrNotFound, "run with id=nope not found", "--run", "nope")
	f(errUsage, `"lr" is not KEY=VALUE`, "--param", "lr")
	f(errUsage, `"=0.1" is not KEY=VALUE`, "--param", "=0.1")
	f(errUsage, `"high" is not a number`, "--metric", "auc=high")
	f(tracking.ErrInvalid, "not CSV", "--train-data", onnxPath)
	f(fs.ErrNotExist, "missing.csv", "--train-data", filepath.Join(dir, "missing.csv"))
	f(nil, `--label "label" is not a column`, "--eval", eval, "--label", "label")
	f(errUsage, "--eval needs --label", "--eval", eval)
	f(errUsage, "--eval, which is missing", "--label", "y")
	// Data the drift profile cannot be made from: it does not fit the
	// model, or its label column is not there.
	f(errUsage, "--train-data, which is missing", "--train-label", "y")
	misfitTrain := writeFile(t, dir, "misfit-train.csv", []byte("x0,x1,y\n1,2,0\n"))
	f(gate.ErrEvalSet, "drift profile: profile from "+misfitTrain, "--train-data", misfitTrain, "--train-label", "y", "--param", "lr=1")
	f(gate.ErrEvalSet, `column "z": no label column`, "--train-data", train, "--train-label", "z")
	misfitEval := writeFile(t, dir, "misfit-eval.csv", []byte("x0,x1,y\n1,2,0\n"))
	f(gate.ErrEvalSet, "drift profile: profile from "+misfitEval, "--eval", misfitEval, "--label", "y")
	f(errUsage, "--run links an existing run", "--run", "x", "--param", "a=b")
	f(errUsage, `--seed "abc" is not an integer`, "--seed", "abc")
	f(tracking.ErrInvalid, "invalid param name", "--param", "../up=1")
	// A schema that cannot be read, is invalid, or does not fit the model.
	badSchema := writeFile(t, dir, "bad.yaml", []byte("features:\n  - {name: x0, type: number, mn: 0}\n"))
	misfit := writeFile(t, dir, "misfit.json", []byte(`{"features": [{"name": "x0", "type": "number"}, {"name": "x1", "type": "category", "position": 1}]}`))
	twoClasses := writeFile(t, dir, "classes.yaml", []byte("features:\n  - {name: a, type: number, position: 0}\n"+
		"  - {name: b, type: number, position: 1}\n  - {name: c, type: number, position: 2}\nclasses: [no, maybe, yes]\n"))
	f(fs.ErrNotExist, "--schema: open", "--schema", filepath.Join(dir, "missing.yaml"))
	f(modelstore.ErrSchema, "--schema "+badSchema+": modelstore: invalid feature schema: yaml: line 2: field mn not found in a feature", "--schema", badSchema)
	f(modelstore.ErrSchema, `--schema `+misfit+`: modelstore: invalid feature schema: feature "x1": a category needs values, the strings it allows; `+
		`input "input": no feature feeds column 2 (every column of every input needs one)`, "--schema", misfit, "--param", "lr=1")
	f(modelstore.ErrSchema, `classes names 3 classes, but the model's output "output" of shape [-1 2] has 2`, "--schema", twoClasses)
	f(modelstore.ErrSchema, "invalid feature schema", "--schema", onnxPath)
	f(errUsage, "--model and --onnx are required", "--model", "")
	f(errUsage, `--model "../m" is not a model name`, "--model", "../m")
	// The probes of issue 23 (/dev/zero, a FIFO, a directory, a sparse file
	// just over the limit) as each file: refused before they are read.
	for _, c := range []struct {
		flag  string
		limit int64
		args  []string
	}{
		{"--onnx", 1 << 20, []string{"--max-model-bytes", "1MiB"}},
		{"--schema", modelstore.MaxSchemaBytes, nil},
		{"--eval", gate.DefaultMaxBytes, []string{"--label", "y"}},
		{"--train-data", 0, nil}, // no size limit: a training set is hashed as it streams
	} {
		for _, p := range regfiletest.Probes(c.limit) {
			if c.limit == 0 && p.Want == regfile.ErrTooLarge {
				continue
			}
			path := filepath.Join(t.TempDir(), "probe")
			p.Make(t, path)
			f(p.Want, c.flag+": "+path, append([]string{c.flag, path}, c.args...)...)
		}
	}

	// A model that does not load: nothing is published, and the run the
	// publish opened is marked FAILED.
	garbage := writeFile(t, dir, "garbage.onnx", []byte("nope"))
	if _, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", garbage, "--param", "lr=1"); err == nil {
		t.Fatal("publishing garbage succeeded")
	}
	if _, all, _ := modelstore.Versions(reg, "m"); len(all) != 1 {
		t.Fatalf("versions after a failed publish: %v; want [1]", all)
	}
	st := openStore(t, dataDir)
	runs, _, _ := st.SearchRuns(ctx, tracking.RunQuery{ExperimentIDs: []string{"0"}, Filter: "attributes.status = 'FAILED'"})
	if len(runs) != 1 || fmt.Sprint(runs[0].Params) != "[{lr 1}]" {
		t.Fatalf("failed runs = %+v; want the garbage publish's", runs)
	}
}
