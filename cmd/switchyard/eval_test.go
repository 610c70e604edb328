package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/regfile"
	"github.com/switchyard-ml/switchyard/internal/regfile/regfiletest"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// exitCode is the exit status main gives err.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	return 1
}

// evalFixture holds the files the eval tests run on: the demo's two
// models of seed 1 (the logistic regression and the better network), a
// constant model, their held-out set and a policy.
type evalFixture struct {
	dir                   string
	logreg, net, constant string // ONNX files
	// evalCSV is the held-out set as the models' input columns, numbers
	// in order (the categories one-hot), which eval maps by position
	// without a schema; namedCSV is the same rows as the demo publishes
	// them, named fields that a version's feature schema maps.
	evalCSV, namedCSV string
	policy            string // auc min 0.8, max_regression 0.005; log_loss max_regression_pct 2
	lr, nn            *demo.Fraud
}

var (
	fixtureOnce   sync.Once
	fixtureModels [2]*demo.Fraud
	fixtureErr    error
)

// newEvalFixture writes the fixture's files into a new temporary
// directory; the models are trained once per test binary.
func newEvalFixture(t *testing.T) *evalFixture {
	t.Helper()
	fixtureOnce.Do(func() {
		if fixtureModels[0], fixtureErr = demo.BuildFraud(1); fixtureErr == nil {
			fixtureModels[1], fixtureErr = demo.BuildFraudNet(1)
		}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	dir := t.TempDir()
	var named bytes.Buffer
	if err := demo.WriteCSV(&named, fixtureModels[0].Eval); err != nil {
		t.Fatal(err)
	}
	constant := &onnx.LogReg{Weights: make([]float32, demo.InputWidth), Bias: []float32{0}, InputName: demo.InputName}
	return &evalFixture{
		dir:      dir,
		logreg:   writeFile(t, dir, "logreg.onnx", fixtureModels[0].Model),
		net:      writeFile(t, dir, "net.onnx", fixtureModels[1].Model),
		constant: writeFile(t, dir, "constant.onnx", constant.Model().Marshal()),
		evalCSV:  writeFile(t, dir, "eval.csv", inputCSV(fixtureModels[0].Eval)),
		namedCSV: writeFile(t, dir, "named.csv", named.Bytes()),
		policy:   writeFile(t, dir, "policy.yaml", []byte(demoPolicy)),
		lr:       fixtureModels[0],
		nn:       fixtureModels[1],
	}
}

// inputCSV returns d as CSV of the models' input columns, the label
// last.
func inputCSV(d *demo.Dataset) []byte {
	var b []byte
	for _, f := range demo.Features() {
		if f.Type != demo.TypeCategory {
			b = append(b, f.Name+","...)
		}
		for _, v := range f.Values {
			b = append(b, f.Name+"="+v+","...)
		}
	}
	b = append(b, demo.LabelColumn+"\n"...)
	x := d.Input()
	for i := range d.Len() {
		for _, v := range x[i*demo.InputWidth : (i+1)*demo.InputWidth] {
			b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(d.Y[i]), 10)
		b = append(b, '\n')
	}
	return b
}

// readVerdict reads the verdict eval --json wrote to path.
func readVerdict(t *testing.T, path string) *gate.Verdict {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v gate.Verdict
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("--json wrote %s: %v", data, err)
	}
	return &v
}

// metricOf returns the whole set's metric name of v.
func metricOf(t *testing.T, v *gate.Verdict, name string) gate.Metric {
	t.Helper()
	for _, m := range v.Metrics {
		if m.Name == name && m.Slice == "" {
			return m
		}
	}
	t.Fatalf("the verdict has no %s: %+v", name, v.Metrics)
	return gate.Metric{}
}

func TestEvalPass(t *testing.T) {
	fx := newEvalFixture(t)
	js := filepath.Join(fx.dir, "verdict.json")
	out, err := runCmd(t, "eval", "--onnx", fx.net, "--eval", fx.evalCSV, "--label", demo.LabelColumn,
		"--policy", fx.policy, "--baseline", fx.logreg, "--json", js)
	if exitCode(err) != 0 || !strings.Contains(out, "## PASS: candidate against logreg.onnx on 4000 rows") {
		t.Fatalf("eval of the network against the logistic regression = %v (exit %d)\n%s", err, exitCode(err), out)
	}
	v := readVerdict(t, js)
	auc := metricOf(t, v, gate.MetricAUC)
	if !v.Pass || v.Candidate != "candidate" || v.Stable != "logreg.onnx" || v.Rows != fx.nn.Eval.Len() || !auc.Pass ||
		math.Abs(float64(auc.Candidate)-fx.nn.AUC) > 1e-6 || math.Abs(float64(auc.Stable)-fx.lr.AUC) > 1e-6 {
		t.Fatalf("verdict = %+v; auc %+v; want a pass with AUC %v against %v", v, auc, fx.nn.AUC, fx.lr.AUC)
	}
	// Without a baseline or a policy only the sanity checks apply.
	if out, err := runCmd(t, "eval", "--onnx", fx.logreg, "--eval", fx.evalCSV, "--label", demo.LabelColumn); exitCode(err) != 0 ||
		!strings.Contains(out, "## PASS: candidate on 4000 rows") {
		t.Fatalf("eval without a baseline = %v\n%s", err, out)
	}
}

func TestEvalFail(t *testing.T) {
	fx := newEvalFixture(t)

	// A constant model fails the sanity checks whatever the thresholds.
	js := filepath.Join(fx.dir, "constant.json")
	out, err := runCmd(t, "eval", "--onnx", fx.constant, "--eval", fx.evalCSV, "--label", demo.LabelColumn, "--json", js)
	if exitCode(err) != 1 || !errors.Is(err, errFailed) || !strings.Contains(out, "## FAIL: candidate on 4000 rows") {
		t.Fatalf("eval of a constant model = %v (exit %d)\n%s", err, exitCode(err), out)
	}
	if v := readVerdict(t, js); v.Pass || len(v.Reasons) == 0 {
		t.Fatalf("verdict of a constant model = %+v", v)
	}

	// The logistic regression is worse than the network beyond the
	// policy's max_regression: both numbers are in the report.
	js = filepath.Join(fx.dir, "regression.json")
	out, err = runCmd(t, "eval", "--onnx", fx.logreg, "--eval", fx.evalCSV, "--label", demo.LabelColumn,
		"--policy", fx.policy, "--baseline", fx.net, "--json", js)
	if exitCode(err) != 1 || !strings.Contains(out, "## FAIL: candidate against net.onnx") {
		t.Fatalf("eval of a regression = %v (exit %d)\n%s", err, exitCode(err), out)
	}
	v := readVerdict(t, js)
	auc := metricOf(t, v, gate.MetricAUC)
	if v.Pass || auc.Pass {
		t.Fatalf("verdict of a regression = %+v", v)
	}
	cand, stable := strconv.FormatFloat(float64(auc.Candidate), 'g', 4, 64), strconv.FormatFloat(float64(auc.Stable), 'g', 4, 64)
	reason := ""
	for _, r := range v.Reasons {
		if strings.HasPrefix(r, "auc of candidate") {
			reason = r
		}
	}
	if !strings.Contains(reason, cand) || !strings.Contains(reason, stable) || !strings.Contains(reason, "max_regression 0.005") ||
		!strings.Contains(out, reason) {
		t.Fatalf("the AUC reason %q lacks %s or %s, or the report lacks it:\n%s", reason, cand, stable, out)
	}
}

func TestEvalInputErrors(t *testing.T) {
	fx := newEvalFixture(t)
	f := func(want string, args ...string) {
		t.Helper()
		out, err := runCmd(t, append([]string{"eval"}, args...)...)
		if exitCode(err) != 2 || !strings.Contains(out, want) {
			t.Fatalf("eval %v = %v (exit %d); want exit 2 and %q in\n%s", args, err, exitCode(err), want, out)
		}
		if strings.Contains(out, "## ") {
			t.Fatalf("eval %v printed a report:\n%s", args, out)
		}
	}
	label := []string{"--label", demo.LabelColumn}
	f("--onnx and --eval are required", append([]string{"--eval", fx.evalCSV}, label...)...)
	f("--onnx and --eval are required", append([]string{"--onnx", fx.net}, label...)...)
	f("not both", append([]string{"--onnx", fx.net, "--eval", fx.evalCSV, "--baseline", fx.logreg, "--registry", fx.dir, "--model", "fraud"}, label...)...)
	f("--registry and --model go together", append([]string{"--onnx", fx.net, "--eval", fx.evalCSV, "--registry", fx.dir}, label...)...)
	f("--label is required", "--onnx", fx.net, "--eval", fx.evalCSV)
	f("flag provided but not defined", "--onnx", fx.net, "--eval", fx.evalCSV, "--frobnicate")
	f("no such file", append([]string{"--onnx", filepath.Join(fx.dir, "missing.onnx"), "--eval", fx.evalCSV}, label...)...)
	f("no such file", append([]string{"--onnx", fx.net, "--eval", filepath.Join(fx.dir, "missing.csv")}, label...)...)
	f("no such file", append([]string{"--onnx", fx.net, "--eval", fx.evalCSV, "--baseline", filepath.Join(fx.dir, "missing.onnx")}, label...)...)
	f(`model "fraud" is not in the registry`, append([]string{"--onnx", fx.net, "--eval", fx.evalCSV, "--registry", fx.dir, "--model", "fraud"}, label...)...)

	// A malformed eval set: the message names its line and column.
	lines := strings.SplitAfter(string(mustRead(t, fx.evalCSV)), "\n")
	lines[2] = "twelve" + lines[2][strings.IndexByte(lines[2], ','):] // the amount of the second row
	bad := writeFile(t, fx.dir, "bad.csv", []byte(strings.Join(lines[:10], "")))
	f("line 3", append([]string{"--onnx", fx.net, "--eval", bad}, label...)...)
	f("bad.csv", append([]string{"--onnx", fx.net, "--eval", bad}, label...)...)
	f(`column "no_such_column": no label column`, "--onnx", fx.net, "--eval", fx.evalCSV, "--label", "no_such_column")
	// A wrong label column: the message lists the columns there are, and
	// the one a typo most likely meant.
	f(`the header has "`, "--onnx", fx.net, "--eval", fx.evalCSV, "--label", "no_such_column")
	f(`, "`+demo.LabelColumn+`"`, "--onnx", fx.net, "--eval", fx.evalCSV, "--label", "no_such_column")
	f(`(did you mean "`+demo.LabelColumn+`"?)`, "--onnx", fx.net, "--eval", fx.evalCSV, "--label", "lable")
	f(`(did you mean "`+demo.LabelColumn+`"?)`, "--onnx", fx.net, "--eval", fx.evalCSV, "--label", "Label")
	empty := writeFile(t, fx.dir, "empty.csv", nil)
	f("empty file", append([]string{"--onnx", fx.net, "--eval", empty}, label...)...)

	// Models that cannot be loaded, or that the gate cannot evaluate.
	garbage := writeFile(t, fx.dir, "garbage.onnx", []byte("nope"))
	f("candidate: load model: ", append([]string{"--onnx", garbage, "--eval", fx.evalCSV}, label...)...)
	f("garbage.onnx: load model: ", append([]string{"--onnx", fx.net, "--eval", fx.evalCSV, "--baseline", garbage}, label...)...)
	ints := writeFile(t, fx.dir, "ints.onnx", onnx.Identity(onnx.Int64, onnx.DimParam(onnx.Batch), onnx.DimValue(int64(demo.InputWidth))).Marshal())
	f(`candidate: the model's input "input" is INT64`, append([]string{"--onnx", ints, "--eval", fx.evalCSV}, label...)...)
	badPolicy := writeFile(t, fx.dir, "bad-policy.yaml", []byte("gate:\n  metrics:\n    auc: {minimum: 0.8}\n"))
	f("minimum", append([]string{"--onnx", fx.net, "--eval", fx.evalCSV, "--policy", badPolicy}, label...)...)

	// The probes of issue 23 (/dev/zero, a FIFO, a directory, a sparse file
	// just over the limit) as each file: refused before they are read.
	for _, c := range []struct {
		flag  string
		limit int64
		args  []string
	}{
		{"--onnx", 1 << 20, []string{"--eval", fx.evalCSV, "--max-model-bytes", "1MiB"}},
		{"--baseline", 1 << 20, []string{"--onnx", fx.net, "--eval", fx.evalCSV, "--max-model-bytes", "1MiB"}},
		{"--eval", gate.DefaultMaxBytes, []string{"--onnx", fx.net}},
		{"--policy", modelstore.MaxPolicyBytes, []string{"--onnx", fx.net, "--eval", fx.evalCSV}},
	} {
		for _, p := range regfiletest.Probes(c.limit) {
			path := filepath.Join(t.TempDir(), "probe")
			p.Make(t, path)
			want := "not a regular file"
			if p.Want == regfile.ErrTooLarge {
				want = "over the limit of"
			}
			f(path+": ", append(append([]string{c.flag, path}, c.args...), label...)...)
			f(want, append(append([]string{c.flag, path}, c.args...), label...)...)
		}
	}

	if out, err := runCmd(t, "eval", "--help"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "Usage: switchyard eval") ||
		!strings.Contains(out, "Exit status: 0 pass, 1 fail, 2 usage or input error") {
		t.Fatalf("eval --help = %v\n%s", err, out)
	}
}

func TestEvalRegistry(t *testing.T) {
	fx := newEvalFixture(t)
	reg := filepath.Join(fx.dir, "registry")
	eval := mustRead(t, fx.namedCSV)
	publish := func(model []byte) int {
		t.Helper()
		v, err := modelstore.Publish(reg, "fraud", model, modelstore.PublishOptions{CreatedBy: "test", Features: demoFeatures(),
			EvalCSV: eval, EvalLabel: demo.LabelColumn})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	publish(fx.lr.Model) // version 1
	publish(fx.nn.Model) // version 2
	publish(fx.lr.Model) // version 3
	writeFile(t, filepath.Join(reg, "fraud"), modelstore.PolicyFile, []byte(demoPolicy))
	f := func(wantExit int, wantStable string, args ...string) {
		t.Helper()
		js := filepath.Join(fx.dir, "verdict.json")
		out, err := runCmd(t, append([]string{"eval", "--eval", fx.namedCSV, "--registry", reg, "--model", "fraud", "--json", js}, args...)...)
		if exitCode(err) != wantExit {
			t.Fatalf("eval %v = %v (exit %d); want exit %d\n%s", args, err, exitCode(err), wantExit, out)
		}
		if v := readVerdict(t, js); v.Stable != wantStable || !strings.Contains(out, "against "+wantStable) {
			t.Fatalf("eval %v compared with %q; want %q\n%s", args, v.Stable, wantStable, out)
		}
	}
	// Without rollout.json the newest version is stable; the label comes
	// from its manifest and the thresholds from the model's policy.yaml.
	f(0, "version 3", "--onnx", fx.net)
	f(1, "version 3", "--onnx", fx.constant)
	// rollout.json names the stable version.
	st := &rollout.State{Stable: 2, Strategy: rollout.Manual, UpdatedAt: time.Now().UTC(), Actor: "test", Reason: "pin"}
	if err := rollout.WriteState(filepath.Join(reg, "fraud"), st); err != nil {
		t.Fatal(err)
	}
	f(1, "version 2", "--onnx", fx.logreg)
	// --policy replaces the model's policy, which is then not read:
	// without thresholds a worse model passes.
	writeFile(t, filepath.Join(reg, "fraud"), modelstore.PolicyFile, []byte("gate: {metrics: {auc: {minimum: 1}}}\n"))
	f(0, "version 2", "--onnx", fx.logreg, "--policy", writeFile(t, fx.dir, "empty-policy.yaml", []byte("gate: {}\n")))
	if out, err := runCmd(t, "eval", "--eval", fx.namedCSV, "--registry", reg, "--model", "fraud", "--onnx", fx.net); exitCode(err) != 2 ||
		!strings.Contains(out, "minimum") {
		t.Fatalf("eval under a malformed policy.yaml = %v\n%s", err, out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
