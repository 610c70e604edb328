package modelstore_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

// The gate tests use binary classifiers of three features whose label is
// 1 when a + b/2 > 0 (with some noise): logistic regressions that weigh
// the features well, badly, or not at all.
var (
	goodWeights     = []float32{4, 2, 0}
	worseWeights    = []float32{1.2, 0.2, 1}
	constantWeights = []float32{0, 0, 0}
)

func classifier(weights []float32) []byte { return testenv.Classifier(weights...) }

// evalCSV is a labelled evaluation set of n rows for those classifiers.
func evalCSV(n int) []byte { return testenv.EvalSet(7, n) }

// publishJudged publishes a classifier with its own eval set.
func publishJudged(t *testing.T, dir, model string, weights []float32, eval []byte) int {
	t.Helper()
	n, err := modelstore.Publish(dir, model, classifier(weights), modelstore.PublishOptions{CreatedBy: "test", EvalCSV: eval, EvalLabel: "label"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// verdicts keeps what the store records, as the tracking store would.
type verdicts struct {
	mu  sync.Mutex
	got map[string]*gate.Verdict
}

func (r *verdicts) RecordVerdict(_ context.Context, model string, version int, v *gate.Verdict) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string]*gate.Verdict{}
	}
	r.got[fmt.Sprint(model, "/", version)] = v
	return nil
}

func (r *verdicts) of(model string, version int) *gate.Verdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[fmt.Sprint(model, "/", version)]
}

// gauge returns the value of the gauge name with labels in reg, or NaN.
func gauge(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	return math.NaN()
}

func writePolicy(t *testing.T, dir, model, policy string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, model), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, model, modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
}

const regressionPolicy = `gate:
  metrics:
    auc: {min: 0.7, max_regression: 0.01}
    log_loss: {max_regression_pct: 10}
`

func TestGateStopsAWorseVersion(t *testing.T) {
	dir := t.TempDir()
	eval := evalCSV(600)
	writePolicy(t, dir, "m", regressionPolicy)
	publishJudged(t, dir, "m", goodWeights, eval)
	rec := &verdicts{}
	reg := prometheus.NewRegistry()
	metrics, err := modelstore.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec, Metrics: metrics})
	if got := serving(st, "m"); got != 1 {
		t.Fatalf("serving %d; want 1", got)
	}
	v1 := rec.of("m", 1)
	if v1 == nil || !v1.Pass || v1.Stable != "" || v1.Rows != 600 {
		t.Fatalf("verdict on the first version = %+v; want a pass on 600 rows with nothing to compare with", v1)
	}

	ev := subscribe(t, st)
	publishJudged(t, dir, "m", worseWeights, eval)
	failed := ev.await(t, "m/2 failing", to("m", 2, modelstore.Failed))
	for _, want := range []string{"gate: ", "auc of version 2", "version 1"} {
		if !strings.Contains(failed.Reason, want) {
			t.Errorf("the reason %q lacks %q", failed.Reason, want)
		}
	}
	v2 := rec.of("m", 2)
	if v2 == nil || v2.Pass || v2.Stable != "version 1" {
		t.Fatalf("verdict on version 2 = %+v; want a failure against version 1", v2)
	}
	auc := metricOf(t, v2, "auc")
	if !(float64(auc.Candidate) < float64(auc.Stable)-0.01) || auc.Pass {
		t.Fatalf("auc %+v: want the candidate more than 0.01 below stable, failed", auc)
	}
	for _, n := range []string{fmt.Sprintf("%.4g", float64(auc.Candidate)), fmt.Sprintf("%.4g", float64(auc.Stable))} {
		if !strings.Contains(failed.Reason, n) {
			t.Errorf("the reason %q lacks the number %s", failed.Reason, n)
		}
	}
	if got := serving(st, "m"); got != 1 {
		t.Fatalf("after a failed gate, serving %d; want 1", got)
	}
	m := st.Model("m")
	if got := m.Versions[1].Verdict(); got == nil || got.Pass {
		t.Fatalf("Verdict() of version 2 = %+v; want the failure, kept after it left memory", got)
	}
	if got := gauge(t, reg, "switchyard_gate_passed", map[string]string{"model": "m", "version": "2"}); got != 0 {
		t.Errorf("switchyard_gate_passed{version=2} = %v; want 0", got)
	}
	if got := gauge(t, reg, "switchyard_gate_metric", map[string]string{"model": "m", "version": "2", "metric": "auc"}); got != float64(auc.Candidate) {
		t.Errorf("switchyard_gate_metric{version=2,metric=auc} = %v; want %v", got, float64(auc.Candidate))
	}

	// A version as good as stable passes, and the newest passing one serves.
	publishJudged(t, dir, "m", goodWeights, eval)
	ev.await(t, "m/3 ready", to("m", 3, modelstore.Ready))
	if err := st.Rescan(context.Background()); err != nil { // a pass after the event has routed
		t.Fatal(err)
	}
	if got := serving(st, "m"); got != 3 {
		t.Fatalf("serving %d; want 3", got)
	}
	if v := rec.of("m", 3); v == nil || !v.Pass || v.Stable != "version 1" {
		t.Fatalf("verdict on version 3 = %+v", v)
	}

	// Routing the failed version is refused, unless forced.
	_, err = st.Desire(context.Background(), "m", func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
		return rollout.PlanPromote(cur, serving, 2, rollout.BlueGreen, 500, rollout.Change{Actor: "ana", Reason: "try", Now: time.Now()})
	})
	if !errors.Is(err, rollout.ErrState) || !strings.Contains(err.Error(), "failed its gate") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("promoting the failed version = %v; want a refusal naming the gate and --force", err)
	}
}

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

func TestForcedVersionServesDespiteItsGate(t *testing.T) {
	dir := t.TempDir()
	eval := evalCSV(300)
	writePolicy(t, dir, "m", regressionPolicy)
	publishJudged(t, dir, "m", goodWeights, eval)
	rec := &verdicts{}
	st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec})
	ev := subscribe(t, st)
	publishJudged(t, dir, "m", worseWeights, eval)
	ev.await(t, "m/2 failing", to("m", 2, modelstore.Failed))

	c := rollout.Change{Actor: "ana", Reason: "the eval set is stale", Now: time.Now()}
	next, err := st.Force(context.Background(), "m", 2, func(cur *rollout.State, serving, _ int) (*rollout.State, error) {
		return rollout.PlanPromote(cur, serving, 2, rollout.Canary, 2500, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if next.Candidate != 2 || !next.Overrides(2) {
		t.Fatalf("state = %+v; want candidate 2 overridden", next)
	}
	ready := ev.await(t, "m/2 ready despite its gate", to("m", 2, modelstore.Ready))
	if !strings.Contains(ready.Reason, "overrides") || !strings.Contains(ready.Reason, "the eval set is stale") {
		t.Errorf("reason %q: want the override and its reason", ready.Reason)
	}
	if v := rec.of("m", 2); v == nil || v.Pass {
		t.Fatalf("the verdict on the forced version = %+v; want it judged again, and failed", v)
	}
	disk, err := rollout.ReadState(filepath.Join(dir, "m"))
	if err != nil || !disk.Overrides(2) {
		t.Fatalf("rollout.json = %+v, %v; want the override kept", disk, err)
	}

	// A restart keeps the override: version 2 is judged, fails, and serves.
	st.Close()
	st2 := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec})
	m := st2.Model("m")
	if got := m.Versions[1].State(); got != modelstore.Ready {
		t.Fatalf("after a restart version 2 is %v (%s); want READY", got, m.Versions[1].Reason())
	}
	if m.Rollout == nil || m.Rollout.Candidate != 2 {
		t.Fatalf("after a restart the rollout is %+v; want candidate 2", m.Rollout)
	}
}

func TestGateWithoutAnEvalSet(t *testing.T) {
	dir := t.TempDir()
	testenvPublish(t, dir, "free", classifier(goodWeights))
	writePolicy(t, dir, "strict", regressionPolicy)
	testenvPublish(t, dir, "strict", classifier(goodWeights))
	rec := &verdicts{}
	st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec})
	if got := serving(st, "free"); got != 1 {
		t.Fatalf("a model without eval set or thresholds: serving %d; want 1", got)
	}
	if v := st.Model("free").Versions[0].Verdict(); v == nil || !v.Pass || !strings.Contains(strings.Join(v.Reasons, " "), "without evaluation") {
		t.Fatalf("verdict = %+v; want a pass that says it was not evaluated", v)
	}
	v := st.Model("strict").Versions[0]
	if v.State() != modelstore.Failed || !strings.Contains(v.Reason(), "requires an eval set") {
		t.Fatalf("a model whose policy sets thresholds and has no eval set: %v (%s); want FAILED for want of one", v.State(), v.Reason())
	}
}

func testenvPublish(t *testing.T, dir, model string, b []byte) {
	t.Helper()
	if _, err := modelstore.Publish(dir, model, b, modelstore.PublishOptions{CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
}

func TestGateSanityAndMalformedSets(t *testing.T) {
	dir := t.TempDir()
	publishJudged(t, dir, "constant", constantWeights, evalCSV(200))
	publishJudged(t, dir, "malformed", goodWeights, []byte("a,b,c,label\n1,2,3,1\n1,2,x,0\n"))
	publishJudged(t, dir, "outside", goodWeights, []byte("a,b,c,label\n1,2,3,1\n1,2,3,2\n"))
	// A model-level eval.csv is every version's default; the label comes
	// from policy.yaml.
	testenvPublish(t, dir, "shared", classifier(goodWeights))
	writePolicy(t, dir, "shared", "gate:\n  label: label\n  metrics:\n    accuracy: {min: 0.8}\n")
	if err := os.WriteFile(filepath.Join(dir, "shared", modelstore.EvalFile), evalCSV(300), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &verdicts{}
	st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec})
	for _, c := range []struct{ model, want string }{
		{"constant", "gate: "},
		{"malformed", "line 3"},
		{"outside", "line 3"},
	} {
		v := st.Model(c.model).Versions[0]
		if v.State() != modelstore.Failed || !strings.Contains(v.Reason(), c.want) {
			t.Errorf("%s: %v (%s); want FAILED mentioning %q", c.model, v.State(), v.Reason(), c.want)
		}
	}
	if v := st.Model("malformed").Versions[0].Reason(); !strings.Contains(v, `"c"`) {
		t.Errorf("the malformed set's reason %q does not name the column", v)
	}
	if got := serving(st, "shared"); got != 1 {
		t.Fatalf("shared: serving %d (%s); want 1", got, states(st, "shared"))
	}
	if v := rec.of("shared", 1); v == nil || v.Rows == 0 {
		t.Fatalf("shared: verdict %+v; want the model-level set evaluated", v)
	}
}

// TestGateAtStartCompares: a version published while the server was down
// is judged against the version that would serve without it, at a start
// as when it is published to a running server, with or without
// rollout.json.
func TestGateAtStartCompares(t *testing.T) {
	for _, pinned := range []bool{false, true} {
		dir := t.TempDir()
		eval := evalCSV(300)
		writePolicy(t, dir, "m", regressionPolicy)
		publishJudged(t, dir, "m", goodWeights, eval)
		publishJudged(t, dir, "m", worseWeights, eval)
		if pinned {
			st := &rollout.State{Stable: 1, Strategy: rollout.Manual, UpdatedAt: time.Now(), Actor: "ana", Reason: "pin"}
			if err := rollout.WriteState(filepath.Join(dir, "m"), st); err != nil {
				t.Fatal(err)
			}
		}
		rec := &verdicts{}
		st := openWatching(t, modelstore.Config{Dir: dir, Verdicts: rec})
		if got := serving(st, "m"); got != 1 {
			t.Fatalf("pinned %v: serving %d (%s); want 1", pinned, got, states(st, "m"))
		}
		v2 := rec.of("m", 2)
		if v2 == nil || v2.Pass || v2.Stable != "version 1" {
			t.Fatalf("pinned %v: verdict on version 2 = %+v; want a failure against version 1", pinned, v2)
		}
		if v1 := rec.of("m", 1); v1 == nil || !v1.Pass || v1.Stable != "" {
			t.Fatalf("pinned %v: verdict on version 1 = %+v; want a pass judged on its own", pinned, v1)
		}
	}
}

// TestNewestPassedStaysLoaded: while a newer version is judged, the newest
// version that passed its gate stays loaded, so that a promote of it is
// instant and a failing publish does not unload and reload it.
func TestNewestPassedStaysLoaded(t *testing.T) {
	dir := t.TempDir()
	eval := evalCSV(300)
	writePolicy(t, dir, "m", regressionPolicy)
	publishJudged(t, dir, "m", goodWeights, eval)
	publishJudged(t, dir, "m", goodWeights, eval)
	pin := &rollout.State{Stable: 1, Strategy: rollout.Manual, UpdatedAt: time.Now(), Actor: "ana", Reason: "pin"}
	if err := rollout.WriteState(filepath.Join(dir, "m"), pin); err != nil {
		t.Fatal(err)
	}
	st := openWatching(t, modelstore.Config{Dir: dir})
	if got := states(st, "m"); got != "1:READY 2:READY" {
		t.Fatalf("after Open: %s; want 1:READY 2:READY", got)
	}
	ev := subscribe(t, st)
	publishJudged(t, dir, "m", worseWeights, eval)
	ev.await(t, "m/3 failing", to("m", 3, modelstore.Failed))
	for _, e := range ev.seen {
		if e.Version == 2 {
			t.Errorf("version 2 went %v -> %v (%s) while version 3 was judged", e.From, e.To, e.Reason)
		}
	}
	if got := states(st, "m"); got != "1:READY 2:READY 3:FAILED" {
		t.Fatalf("after a failed publish: %s; want 1:READY 2:READY 3:FAILED", got)
	}
}
