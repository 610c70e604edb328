package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// driftMLP is the model of the drift tests: three features, a binary
// classifier's two probabilities.
var driftMLP = onnx.RandomMLP(44, onnx.ActivationSoftmax, 3, 8, 2)

// normalRows returns n rows of driftMLP's three features, standard
// normal, with shift added to feature shifted (-1: none).
func normalRows(rng *rand.Rand, n, shifted int, shift float64) []float32 {
	x := make([]float32, 0, 3*n)
	for range n {
		for j := range 3 {
			v := rng.NormFloat64()
			if j == shifted {
				v += shift
			}
			x = append(x, float32(v))
		}
	}
	return x
}

// writeDriftProfile writes the profile of 1000 unshifted rows of
// driftMLP, features and score, into the version directory dir.
func writeDriftProfile(t *testing.T, dir string) {
	t.Helper()
	x := normalRows(rand.New(rand.NewPCG(1, 1)), 1000, -1, 0)
	out := driftMLP.Predict(x)
	cols := make([]drift.Column, 3)
	score := drift.Column{Name: "score", Kind: drift.Numeric}
	for j := range cols {
		cols[j] = drift.Column{Name: fmt.Sprintf("input[%d]", j), Kind: drift.Numeric}
	}
	for r := range 1000 {
		for j := range cols {
			cols[j].Numbers = append(cols[j].Numbers, float64(x[3*r+j]))
		}
		score.Numbers = append(score.Numbers, float64(out[2*r+1]))
	}
	p, err := drift.BuildProfile(cols, []drift.Column{score}, drift.ProfileOptions{Source: "test"})
	if err != nil {
		t.Fatalf("BuildProfile: %v", err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, drift.ProfileFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startDriftServer serves a registry with the models "shifted" and
// "steady" (profiles of driftMLP) and "broken" (a malformed profile), with
// a running drift monitor judging windows of 300 rows.
func startDriftServer(t *testing.T) (*testServer, *prometheus.Registry) {
	t.Helper()
	dir := t.TempDir()
	policy := []byte("drift:\n  window_rows: 300\n  interval: 10ms\n")
	for _, name := range []string{"shifted", "steady", "broken"} {
		v := testenv.Publish(t, dir, name, driftMLP.Model())
		vdir := filepath.Join(dir, name, strconv.Itoa(v))
		if name == "broken" {
			if err := os.WriteFile(filepath.Join(vdir, drift.ProfileFile), []byte(`{"format": 1, "features": [`), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			writeDriftProfile(t, vdir)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "policy.yaml"), policy, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	m, err := drift.New(drift.Config{Tick: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return serveRegistry(t, dir, Config{Drift: m}), reg
}

// sendRows sends n rows to model in requests of 10 rows, each with its
// own prediction id.
func sendRows(t *testing.T, ts *testServer, model string, rng *rand.Rand, n, shifted int, shift float64) {
	t.Helper()
	for range n / 10 {
		body := requestJSON("input", "FP32", []int64{10, 3}, normalRows(rng, 10, shifted, shift))
		ts.infer(t, "/v2/models/"+model+"/infer", body)
	}
}

// driftReport polls GET /admin/models/{m}/drift until the first version's
// status is want.
func driftReport(t *testing.T, ts *testServer, model, want string) drift.VersionReport {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := ts.do(t, "GET", "/admin/models/"+model+"/drift", "")
		if r.status != 200 {
			t.Fatalf("GET drift = %d %s", r.status, r.body)
		}
		var rep drift.Report
		if err := json.Unmarshal(r.body, &rep); err != nil {
			t.Fatalf("drift report: %v in %s", err, r.body)
		}
		if len(rep.Versions) == 1 && rep.Versions[0].Status == want {
			return rep.Versions[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("drift report of %s = %s; want status %s", model, r.body, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDriftThroughTheServer(t *testing.T) {
	ts, reg := startDriftServer(t)
	rng := rand.New(rand.NewPCG(2, 2))
	sendRows(t, ts, "shifted", rng, 300, 1, 1.5)
	sendRows(t, ts, "steady", rng, 300, -1, 0)
	sendRows(t, ts, "broken", rng, 10, -1, 0) // it serves

	vr := driftReport(t, ts, "shifted", drift.StatusOK)
	if vr.Window == nil || vr.Window.Rows != 300 || len(vr.Window.Features) != 3 {
		t.Fatalf("shifted report = %+v; want a window of 300 rows over 3 features", vr)
	}
	for _, res := range vr.Window.Features {
		if res.Drifted != (res.Column == "input[1]") {
			t.Errorf("shifted: %s drifted = %v (%s %v); want only input[1]", res.Column, res.Drifted, res.Test, res.Statistic)
		}
	}
	if vr.Window.Prediction == nil {
		t.Errorf("shifted: no prediction drift in %+v", vr.Window)
	}
	steady := driftReport(t, ts, "steady", drift.StatusOK)
	for _, res := range steady.Window.Features {
		if res.Drifted {
			t.Errorf("steady: %s drifted (%s %v)", res.Column, res.Test, res.Statistic)
		}
	}
	broken := driftReport(t, ts, "broken", drift.StatusInvalidProfile)
	if !strings.Contains(broken.Reason, "profile.json") {
		t.Errorf("broken: reason %q does not name profile.json", broken.Reason)
	}

	if got := gauge(t, reg, "switchyard_drift_detected", "shifted", "input[1]"); got != 1 {
		t.Errorf("switchyard_drift_detected{model=shifted,feature=input[1]} = %v; want 1", got)
	}
	if got := gauge(t, reg, "switchyard_dataset_drift_share", "steady", ""); got != 0 {
		t.Errorf("switchyard_dataset_drift_share{model=steady} = %v; want 0", got)
	}
}

// gauge returns the value of the gauge name of model's version 1 (and
// feature, when not empty) in reg, or -1 without one.
func gauge(t *testing.T, reg *prometheus.Registry, name, model, feature string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["model"] == model && labels["version"] == "1" && labels["feature"] == feature {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func TestDriftEndpointErrors(t *testing.T) {
	ts, _ := startDriftServer(t)
	f := func(path string, status int, want string) {
		t.Helper()
		r := ts.do(t, "GET", path, "")
		if r.status != status || !strings.Contains(string(r.body), want) {
			t.Errorf("GET %s = %d %s; want %d with %q", path, r.status, r.body, status, want)
		}
	}
	f("/admin/models/nope/drift", 404, "nope")
	f("/admin/models/steady/drift?version=x", 400, "version")
	f("/admin/models/steady/drift?version=9", 404, "no version 9")
	f("/admin/models/steady/drift?version=1", 200, `"versions":[]`) // no request yet

	plain := startServer(t, Config{})
	if r := plain.do(t, "GET", "/admin/models/mlp/drift", ""); r.status != 503 {
		t.Errorf("without a monitor: %d %s; want 503", r.status, r.body)
	}
}

// TestDriftSourceDescribe checks the columns the monitor reads of a
// version: the records schema's features at their positions (a one-hot
// block as its first column), input[i] without one, and a reason for the
// models it cannot read.
func TestDriftSourceDescribe(t *testing.T) {
	sig := &engine.Signature{Inputs: []engine.TensorInfo{{Name: "x", DType: engine.FP32, Shape: []int64{-1, 3}}},
		Outputs: []engine.TensorInfo{{Name: "p", DType: engine.FP32, Shape: []int64{-1, 2}}}}
	version := func(sig *engine.Signature, features []modelstore.Feature) *modelstore.Version {
		v := &modelstore.Version{Model: "m", Number: 2, Dir: "/r/m/2", Signature: sig, Manifest: &modelstore.Manifest{Features: features}}
		if features != nil {
			layout, err := (&modelstore.Schema{Features: features}).Check(sig)
			if err != nil {
				t.Fatal(err)
			}
			v.Features = layout
		}
		return v
	}
	d := (*driftSource)(version(sig, []modelstore.Feature{
		{Name: "flag", Type: modelstore.TypeBool, Position: 2},
		{Name: "amount", Type: modelstore.TypeNumber, Position: 0},
		{Name: "country", Type: modelstore.TypeCategory, Values: []string{"FR", "DE"}, Position: 1},
	})).Describe()
	want := []drift.ColumnSpec{{Name: "amount", Kind: drift.Numeric}, {Name: "country", Kind: drift.Categorical, Values: []string{"FR", "DE"}},
		{Name: "flag", Kind: drift.Categorical, Values: []string{"false", "true"}}}
	if d.Problem != "" || d.Model != "m" || d.Version != 2 || d.Dir != "/r/m/2" || !reflect.DeepEqual(d.Columns, want) {
		t.Errorf("records Describe = %+v; want columns %+v", d, want)
	}
	d = (*driftSource)(version(sig, nil)).Describe()
	if d.Problem != "" || len(d.Columns) != 3 || d.Columns[2].Name != "input[2]" || d.Columns[2].Kind != drift.Numeric {
		t.Errorf("V2 Describe = %+v; want input[0]..input[2]", d)
	}
	d = (*driftSource)(version(recMixedSig(), nil)).Describe()
	if !strings.Contains(d.Problem, "single FP32 input") {
		t.Errorf("five inputs: Problem = %q; want the reason", d.Problem)
	}
	d = (*driftSource)(version(sig, []modelstore.Feature{
		{Name: "country", Type: modelstore.TypeCategory, Values: []string{"FR", "DE"}, Encoding: modelstore.EncodeOneHot, Position: 0},
		{Name: "amount", Type: modelstore.TypeNumber, Position: 2},
	})).Describe()
	want = []drift.ColumnSpec{{Name: "country", Kind: drift.Categorical, Values: []string{"FR", "DE"}, Width: 2}, {},
		{Name: "amount", Kind: drift.Numeric}}
	if d.Problem != "" || !reflect.DeepEqual(d.Columns, want) {
		t.Errorf("one-hot Describe = %+v; want columns %+v", d, want)
	}
}

// TestDriftRecords sends records whose category's frequencies changed:
// the monitor reads the features by their schema names and flags that
// one alone.
// publishDriftRecords publishes driftMLP into dir as the model "recs"
// with a feature schema (numbers a and b, and kind, one of x, y and z),
// a profile of 1000 rows with kind x, y and z in shares 0.5, 0.3 and
// 0.2, and policy as its policy.yaml.
func publishDriftRecords(t *testing.T, dir, policy string, rng *rand.Rand) {
	t.Helper()
	features := []modelstore.Feature{
		{Name: "a", Type: modelstore.TypeNumber, Position: 0},
		{Name: "b", Type: modelstore.TypeNumber, Position: 1},
		{Name: "kind", Type: modelstore.TypeCategory, Values: []string{"x", "y", "z"}, Position: 2},
	}
	v, err := modelstore.Publish(dir, "recs", driftMLP.Model().Marshal(), modelstore.PublishOptions{Features: features, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ref := []drift.Column{{Name: "a", Kind: drift.Numeric}, {Name: "b", Kind: drift.Numeric},
		{Name: "kind", Kind: drift.Categorical, Categories: kinds(rng, 1000, [3]float64{0.5, 0.3, 0.2})}}
	for range 1000 {
		ref[0].Numbers = append(ref[0].Numbers, rng.NormFloat64())
		ref[1].Numbers = append(ref[1].Numbers, rng.NormFloat64())
	}
	p, err := drift.BuildProfile(ref, nil, drift.ProfileOptions{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	if err := os.WriteFile(filepath.Join(dir, "recs", strconv.Itoa(v), drift.ProfileFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "recs", "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
}

// kinds returns n values of the records model's kind, x, y and z in
// shares.
func kinds(rng *rand.Rand, n int, shares [3]float64) []string {
	out := make([]string, n)
	for i := range out {
		u := rng.Float64()
		switch {
		case u < shares[0]:
			out[i] = "x"
		case u < shares[0]+shares[1]:
			out[i] = "y"
		default:
			out[i] = "z"
		}
	}
	return out
}

// recordsBody returns a records request of the records model: n rows,
// kind in shares.
func recordsBody(rng *rand.Rand, n int, shares [3]float64) string {
	var sb strings.Builder
	sb.WriteString(`{"instances": [`)
	for i, k := range kinds(rng, n, shares) {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"a": %g, "b": %g, "kind": %q}`, rng.NormFloat64(), rng.NormFloat64(), k)
	}
	sb.WriteString("]}")
	return sb.String()
}

func TestDriftRecords(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 5))
	publishDriftRecords(t, dir, "drift:\n  window_rows: 300\n  interval: 10ms\n", rng)
	m, err := drift.New(drift.Config{Tick: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}, prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	ts := serveRegistry(t, dir, Config{Drift: m})

	for range 30 {
		ts.predict(t, "/v1/models/recs:predict", recordsBody(rng, 10, [3]float64{0.2, 0.3, 0.5}))
	}
	vr := driftReport(t, ts, "recs", drift.StatusOK)
	if vr.Window == nil || vr.Window.Rows != 300 || len(vr.Window.Features) != 3 {
		t.Fatalf("report = %+v; want a window of 300 rows over 3 features", vr)
	}
	for _, res := range vr.Window.Features {
		if res.Drifted != (res.Column == "kind") {
			t.Errorf("%s drifted = %v (%s %v); want only kind", res.Column, res.Drifted, res.Test, res.Statistic)
		}
		if res.Column == "kind" && (res.Test != drift.ChiSquare || res.Current.Top["z"] < 0.4) {
			t.Errorf("kind: %+v; want chisquare, with z about half the current rows", res)
		}
	}
}
