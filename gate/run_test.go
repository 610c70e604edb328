package gate_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// run runs the gate and fails the test on an error.
func run(t *testing.T, p gate.Policy, set *gate.EvalSet, candidate gate.Subject, stable *gate.Subject) *gate.Verdict {
	t.Helper()
	v, err := gate.Run(context.Background(), p, set, candidate, stable)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return v
}

// metric returns the metric of v called name on slice ("" for the whole
// set).
func metric(t *testing.T, v *gate.Verdict, name, slice string) gate.Metric {
	t.Helper()
	for _, m := range v.Metrics {
		if m.Name == name && m.Slice == slice {
			return m
		}
	}
	t.Fatalf("no metric %s on slice %q in %+v", name, slice, v.Metrics)
	return gate.Metric{}
}

// wantReason fails unless a reason of v contains every one of parts.
func wantReason(t *testing.T, v *gate.Verdict, parts ...string) {
	t.Helper()
	for _, r := range v.Reasons {
		found := true
		for _, p := range parts {
			found = found && strings.Contains(r, p)
		}
		if found {
			return
		}
	}
	t.Fatalf("no reason contains all of %q; reasons: %q", parts, v.Reasons)
}

// names lists the names and slices of v's metrics in order.
func names(v *gate.Verdict) []string {
	var out []string
	for _, m := range v.Metrics {
		out = append(out, strings.TrimPrefix(m.Slice+" "+m.Name, " "))
	}
	return out
}

func TestRunBetterModelPasses(t *testing.T) {
	set := binarySet(t, 1, false, slicePart{country: "FR", rows: 2000})
	stable := subject(t, "version 1", worse())
	p := gate.Policy{BatchRows: 128, Metrics: map[string]gate.Threshold{
		gate.MetricAUC:      {Min: ptr(0.9), MaxRegression: ptr(0.01)},
		gate.MetricLogLoss:  {MaxRegressionPct: ptr(5.0)},
		gate.MetricAccuracy: {Min: ptr(0.8)},
	}}
	v := run(t, p, set, subject(t, "version 2", good()), &stable)
	if !v.Pass {
		t.Fatalf("Run(good against worse) failed: %q", v.Reasons)
	}
	if v.Candidate != "version 2" || v.Stable != "version 1" || v.Rows != 2000 {
		t.Fatalf("verdict names %q against %q on %d rows; want version 2, version 1, 2000", v.Candidate, v.Stable, v.Rows)
	}
	want := []string{"accuracy", "auc", "brier", "ece", "f1", "f1_macro", "f1_weighted", "latency_p50_ms",
		"latency_p99_ms", "log_loss", "precision", "recall", "rows_per_second"}
	if got := names(v); !slices.Equal(got, want) {
		t.Fatalf("metrics %q; want %q", got, want)
	}
	if want := []string{"version 2 passed 3 thresholds against version 1 on 2000 rows."}; !slices.Equal(v.Reasons, want) {
		t.Fatalf("reasons %q; want %q", v.Reasons, want)
	}
	for _, m := range v.Metrics {
		c, s := float64(m.Candidate), float64(m.Stable)
		if math.IsNaN(c) || math.IsNaN(s) || !m.Pass || m.Rows != 2000 {
			t.Fatalf("metric %+v: want both values, a pass, 2000 rows", m)
		}
		if _, held := p.Metrics[m.Name]; held != (m.Threshold != nil) {
			t.Fatalf("metric %s has threshold %v; policy %v", m.Name, m.Threshold, p.Metrics[m.Name])
		}
	}
	if auc := metric(t, v, "auc", ""); auc.Candidate <= auc.Stable || !auc.GreaterIsBetter {
		t.Fatalf("auc %v against %v (greater is better: %v); want the candidate ahead", auc.Candidate, auc.Stable, auc.GreaterIsBetter)
	}
	if ll := metric(t, v, "log_loss", ""); ll.Candidate >= ll.Stable || ll.GreaterIsBetter {
		t.Fatalf("log_loss %v against %v; want the candidate lower, and lower better", ll.Candidate, ll.Stable)
	}
	// 2000 rows in batches of 128 make 16 batches, each timed.
	p50, p99 := metric(t, v, "latency_p50_ms", ""), metric(t, v, "latency_p99_ms", "")
	if !(p50.Candidate > 0 && p50.Candidate <= p99.Candidate) {
		t.Fatalf("latency p50 %v, p99 %v; want 0 < p50 <= p99", p50.Candidate, p99.Candidate)
	}
	if rps := metric(t, v, "rows_per_second", ""); !(rps.Candidate > 0) || math.IsInf(float64(rps.Candidate), 0) {
		t.Fatalf("rows_per_second %v; want a positive number", rps.Candidate)
	}
}

// TestRunMatchesReference checks the metrics of a run on onnxruntime
// against the same metric functions applied to the reference
// implementation's probabilities.
func TestRunMatchesReference(t *testing.T) {
	set := binarySet(t, 2, false, slicePart{country: "FR", rows: 500})
	lr := &onnx.LogReg{Weights: []float32{2, 1}, Bias: []float32{0}}
	v := run(t, gate.Policy{BatchRows: 64, Concurrency: 3}, set, subject(t, "version 1", lr.Model()), nil)
	labels, probs := make([]int, set.Rows), make([][]float64, set.Rows)
	pred, p32 := lr.Predict(set.Features)
	predicted, positive := make([]int, set.Rows), make([]float64, set.Rows)
	for i := range set.Rows {
		labels[i] = int(set.Labels[i])
		probs[i] = []float64{float64(p32[2*i]), float64(p32[2*i+1])}
		predicted[i], positive[i] = int(pred[i]), probs[i][1]
	}
	auc, _ := gate.AUC(labels, positive)
	logLoss, _ := gate.LogLoss(labels, probs)
	p, r, f1 := gate.PrecisionRecallF1(labels, predicted, 1)
	want := map[string]float64{
		"accuracy": gate.Accuracy(labels, predicted), "auc": auc, "log_loss": logLoss,
		"precision": p, "recall": r, "f1": f1, "brier": gate.Brier(labels, positive),
		"ece": gate.ECE(labels, positive, gate.DefaultECEBins), "f1_macro": gate.MacroF1(labels, predicted),
		"f1_weighted": gate.WeightedF1(labels, predicted),
	}
	for name, w := range want {
		// onnxruntime's float32 arithmetic may differ from the
		// reference's in the last bit.
		if got := float64(metric(t, v, name, "").Candidate); math.Abs(got-w) > 1e-6 {
			t.Errorf("%s = %v; reference %v", name, got, w)
		}
	}
}

func TestRunConstantModelFailsSanity(t *testing.T) {
	set := binarySet(t, 3, false, slicePart{country: "FR", rows: 300})
	v := run(t, gate.Policy{}, set, subject(t, "version 4", constant()), nil)
	if v.Pass {
		t.Fatalf("Run(constant) passed: %q", v.Reasons)
	}
	wantReason(t, v, "version 4 gave every one of the 300 rows the same output, (0.5, 0.5): its scores are constant.")
	wantReason(t, v, "version 4 predicted class 0 for every one of the 300 rows, though the eval set's labels hold 2 classes.")
	if len(v.Reasons) != 2 {
		t.Fatalf("reasons %q; want the two above", v.Reasons)
	}
	// The metrics are still reported; the AUC of constant scores is 0.5.
	if auc := metric(t, v, "auc", ""); auc.Candidate != 0.5 {
		t.Fatalf("auc %v; want 0.5", auc.Candidate)
	}
}

func TestRunSanityChecks(t *testing.T) {
	set := binarySet(t, 4, false, slicePart{country: "FR", rows: 200})
	f := func(name string, m *onnx.Model, want ...string) {
		t.Helper()
		v := run(t, gate.Policy{}, set, subject(t, name, m), nil)
		if v.Pass {
			t.Fatalf("Run(%s) passed: %q", name, v.Reasons)
		}
		wantReason(t, v, want...)
	}
	// A large bias: class 1 for every row, from scores that still vary.
	f("biased", logReg(0.1, 0.1, 8), "biased predicted class 1 for every one of the 200 rows", "hold 2 classes")
	// Raw scores from a two-output linear layer are not probabilities.
	logits := &onnx.MLP{Layers: []onnx.Dense{{Weights: []float32{1, -1, 0.5, 2}, Bias: []float32{0, 0}}}}
	f("logits", logits.Model(), "logits gave probabilities outside [0, 1] on", " holds ")
	f("logits", logits.Model(), "logits gave probabilities that do not sum to 1 within 0.0001 on", " sums to ")
	// A NaN weight makes every output NaN.
	nan := &onnx.MLP{Layers: []onnx.Dense{{Weights: []float32{float32(math.NaN()), 1}, Bias: []float32{0}}}}
	f("nan", nan.Model(), "nan gave 200 outputs that are NaN or infinite, the first on row 1.")
}

func TestRunWorseThanStableFails(t *testing.T) {
	set := binarySet(t, 5, false, slicePart{country: "FR", rows: 1000})
	stable := subject(t, "version 3", good())
	p := gate.Policy{Metrics: map[string]gate.Threshold{
		gate.MetricAUC:     {MaxRegression: ptr(0.01)},
		gate.MetricLogLoss: {MaxRegressionPct: ptr(5.0)},
		gate.MetricBrier:   {Max: ptr(0.5)},
	}}
	v := run(t, p, set, subject(t, "version 4", worse()), &stable)
	if v.Pass {
		t.Fatalf("Run(worse against good) passed: %q", v.Reasons)
	}
	auc := metric(t, v, "auc", "")
	if auc.Pass || auc.Candidate >= auc.Stable-0.01 {
		t.Fatalf("auc %+v; want a failure more than 0.01 below the stable", auc)
	}
	wantReason(t, v, fmt.Sprintf("auc of version 4 is %.4g, more than 0.01 below version 3's %.4g (max_regression 0.01).",
		float64(auc.Candidate), float64(auc.Stable)))
	ll := metric(t, v, "log_loss", "")
	pct := 100 * (ll.Candidate - ll.Stable) / ll.Stable
	wantReason(t, v, fmt.Sprintf("log_loss of version 4 is %.4g, %.3g%% above version 3's %.4g (max_regression_pct 5).",
		float64(ll.Candidate), float64(pct), float64(ll.Stable)))
	if brier := metric(t, v, "brier", ""); !brier.Pass {
		t.Fatalf("brier %+v failed; its max is 0.5", brier)
	}
	if len(v.Reasons) != 2 {
		t.Fatalf("reasons %q; want the auc and log_loss ones", v.Reasons)
	}
}

func TestRunRegressionNeedsStable(t *testing.T) {
	set := binarySet(t, 5, false, slicePart{country: "FR", rows: 1000})
	p := gate.Policy{Metrics: map[string]gate.Threshold{gate.MetricAUC: {Min: ptr(0.5), MaxRegression: ptr(0.01)}}}
	v := run(t, p, set, subject(t, "version 4", worse()), nil)
	if !v.Pass {
		t.Fatalf("Run(worse, no stable) failed: %q", v.Reasons)
	}
	want := []string{
		"version 4 passed 1 threshold on 1000 rows.",
		"no stable version to compare with: the regression thresholds were not applied.",
	}
	if !slices.Equal(v.Reasons, want) {
		t.Fatalf("reasons %q; want %q", v.Reasons, want)
	}
	if auc := metric(t, v, "auc", ""); !math.IsNaN(float64(auc.Stable)) {
		t.Fatalf("auc stable %v; want NaN", auc.Stable)
	}
}

func TestRunNoThresholds(t *testing.T) {
	set := binarySet(t, 6, false, slicePart{country: "FR", rows: 100})
	v := run(t, gate.Policy{}, set, subject(t, "version 1", good()), nil)
	want := []string{"version 1 passed the sanity checks on 100 rows.", "no thresholds set: only the sanity checks were applied."}
	if !v.Pass || !slices.Equal(v.Reasons, want) {
		t.Fatalf("Run = pass %v, %q; want pass, %q", v.Pass, v.Reasons, want)
	}
}

func TestRunSlices(t *testing.T) {
	// The models know the rule, except on DE, whose labels are noise, and
	// on LU, too small to judge.
	set := binarySet(t, 7, true,
		slicePart{country: "FR", rows: 1000}, slicePart{country: "DE", rows: 900, noise: true},
		slicePart{country: "LU", rows: 50, noise: true})
	p := gate.Policy{
		Slices:  &gate.SlicePolicy{Feature: "country"},
		Metrics: map[string]gate.Threshold{gate.MetricAccuracy: {Min: ptr(0.6)}, gate.MetricLatencyP99: {Max: ptr(60_000.0)}},
	}
	stable := subject(t, "version 1", worse())
	v := run(t, p, set, subject(t, "version 2", good()), &stable)
	if v.Pass {
		t.Fatalf("Run passed; want the DE slice to fail: %q", v.Reasons)
	}
	de := metric(t, v, "accuracy", "country=DE")
	if de.Rows != 900 || de.Pass || de.Threshold == nil || math.IsNaN(float64(de.Stable)) {
		t.Fatalf("DE accuracy %+v; want 900 rows, judged, failed, with the stable value", de)
	}
	wantReason(t, v, fmt.Sprintf("accuracy of version 2 on slice country=DE (900 rows) is %.4g, below the minimum 0.6.", float64(de.Candidate)))
	if len(v.Reasons) != 1 {
		t.Fatalf("reasons %q; want only DE's", v.Reasons)
	}
	if fr := metric(t, v, "accuracy", "country=FR"); fr.Rows != 1000 || !fr.Pass || fr.Threshold == nil || fr.Candidate < 0.8 {
		t.Fatalf("FR accuracy %+v; want 1000 rows, judged, passed, above 0.8", fr)
	}
	if lu := metric(t, v, "accuracy", "country=LU"); lu.Rows != 50 || !lu.Pass || lu.Threshold != nil {
		t.Fatalf("LU accuracy %+v; want 50 rows, not judged", lu)
	}
	if all := metric(t, v, "accuracy", ""); all.Rows != 1950 || !all.Pass {
		t.Fatalf("whole-set accuracy %+v; want 1950 rows, passed", all)
	}
	// Whole set first by name, then slices by slice and name; no latency
	// or throughput per slice.
	got := names(v)
	quality := []string{"accuracy", "auc", "brier", "ece", "f1", "f1_macro", "f1_weighted", "log_loss", "precision", "recall"}
	var want []string
	want = append(want, "accuracy", "auc", "brier", "ece", "f1", "f1_macro", "f1_weighted",
		"latency_p50_ms", "latency_p99_ms", "log_loss", "precision", "recall", "rows_per_second")
	for _, s := range []string{"country=DE", "country=FR", "country=LU"} {
		for _, q := range quality {
			want = append(want, s+" "+q)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("metrics\n%q; want\n%q", got, want)
	}

	// Once DE passes, the verdict says what it passed and that LU was not
	// judged: FR, DE and the whole set's accuracy, and the latency.
	p.Metrics[gate.MetricAccuracy] = gate.Threshold{Min: ptr(0.4)}
	v = run(t, p, set, subject(t, "version 2", good()), &stable)
	want = []string{
		"version 2 passed 4 thresholds against version 1 on 1950 rows.",
		"1 slice of country has fewer than 100 rows and was reported without thresholds.",
	}
	if !v.Pass || !slices.Equal(v.Reasons, want) {
		t.Fatalf("Run = pass %v, %q; want pass, %q", v.Pass, v.Reasons, want)
	}
}

func TestRunMulticlass(t *testing.T) {
	// Three classes, labelled by the argmax of the model's own logits
	// (1 - a - c, 2a - c, 2c - a), the first on a tie.
	var b strings.Builder
	b.WriteString("a,b,y\n")
	for i := range 300 {
		a, c := float64(i%7)-3, float64(i%5)-2
		z := []float64{1 - a - c, 2*a - c, 2*c - a}
		fmt.Fprintf(&b, "%g,%g,%d\n", a, c, slices.Index(z, slices.Max(z)))
	}
	set := readSet(t, b.String(), gate.EvalConfig{Label: "y", Classes: 3})
	lr := &onnx.LogReg{Weights: []float32{-1, 2, -1, -1, -1, 2}, Bias: []float32{1, 0, 0}}
	p := gate.Policy{Metrics: map[string]gate.Threshold{gate.MetricAUC: {Min: ptr(0.8)}, gate.MetricPrecision: {Min: ptr(0.5)}}}
	v := run(t, p, set, subject(t, "version 1", lr.Model()), nil)
	want := []string{"accuracy", "auc", "f1_macro", "f1_weighted", "latency_p50_ms", "latency_p99_ms", "log_loss", "rows_per_second"}
	if got := names(v); !slices.Equal(got, want) {
		t.Fatalf("metrics %q; want %q", got, want)
	}
	// The positive class's precision is a binary classifier's metric.
	want = []string{"precision has a threshold, but the gate does not compute it for version 1, a classifier of 3 classes."}
	if v.Pass || !slices.Equal(v.Reasons, want) {
		t.Fatalf("Run = pass %v, %q; want a failure, %q", v.Pass, v.Reasons, want)
	}
	if auc := metric(t, v, "auc", ""); !auc.Pass || auc.Candidate < 0.8 {
		t.Fatalf("auc %+v; want a pass", auc)
	}
}

func TestRunRegressor(t *testing.T) {
	// y = 2a - b + 1 exactly, and a model that knows it.
	var b strings.Builder
	b.WriteString("a,b,y\n")
	for i := range 200 {
		a, c := float64(i%11)/4, float64(i%13)/3
		fmt.Fprintf(&b, "%g,%g,%g\n", a, c, 2*a-c+1)
	}
	set := readSet(t, b.String(), gate.EvalConfig{Label: "y"})
	exact := &onnx.MLP{Layers: []onnx.Dense{{Weights: []float32{2, -1}, Bias: []float32{1}}}}
	off := &onnx.MLP{Layers: []onnx.Dense{{Weights: []float32{2, -1}, Bias: []float32{1.5}}}}
	stable := subject(t, "version 1", exact.Model())
	p := gate.Policy{Metrics: map[string]gate.Threshold{
		gate.MetricR2:   {Min: ptr(0.9)},
		gate.MetricMAE:  {MaxRegression: ptr(0.1)},
		gate.MetricAUC:  {Min: ptr(0.5)},
		gate.MetricRMSE: {Max: ptr(1.0)},
	}}
	v := run(t, p, set, subject(t, "version 2", off.Model()), &stable)
	want := []string{"latency_p50_ms", "latency_p99_ms", "mae", "r2", "rmse", "rows_per_second"}
	if got := names(v); !slices.Equal(got, want) {
		t.Fatalf("metrics %q; want %q", got, want)
	}
	// Every prediction is 0.5 off: MAE and RMSE are 0.5.
	for _, name := range []string{"mae", "rmse"} {
		if m := metric(t, v, name, ""); math.Abs(float64(m.Candidate)-0.5) > 1e-5 || math.Abs(float64(m.Stable)) > 1e-5 {
			t.Fatalf("%s %+v; want 0.5 for the candidate, 0 for the stable", name, m)
		}
	}
	if len(v.Reasons) != 2 {
		t.Fatalf("reasons %q; want auc's and mae's", v.Reasons)
	}
	wantReason(t, v, "auc has a threshold, but the gate does not compute it for version 2, a regressor.")
	wantReason(t, v, "mae of version 2 is 0.5", "more than 0.1 above version 1's")
}

func TestRunUnfitSet(t *testing.T) {
	set := binarySet(t, 8, false, slicePart{country: "FR", rows: 50})
	wide := subject(t, "version 2", (&onnx.LogReg{Weights: []float32{1, 1, 1}, Bias: []float32{0}}).Model())
	f := func(p gate.Policy, s gate.Subject, want string) {
		t.Helper()
		v := run(t, p, set, s, nil)
		if v.Pass || !slices.Equal(v.Reasons, []string{want}) || len(v.Metrics) != 0 {
			t.Fatalf("Run = pass %v, %q, %d metrics; want a failure, %q, none", v.Pass, v.Reasons, len(v.Metrics), want)
		}
	}
	f(gate.Policy{}, wide, "the eval set has 2 features per row, but version 2 takes 3.")
	f(gate.Policy{PositiveClass: ptr(2)}, subject(t, "version 2", good()),
		"gate.positive_class is 2, but version 2 is a binary classifier, of classes 0 and 1.")
	labels := readSet(t, "a,b,y\n1,2,0\n3,4,7\n", gate.EvalConfig{Label: "y"})
	v := run(t, gate.Policy{}, labels, subject(t, "version 2", good()), nil)
	if want := "row 2 of the eval set has label 7, which is not one of the 2 classes of version 2."; v.Pass || v.Reasons[0] != want {
		t.Fatalf("Run = pass %v, %q; want a failure, %q", v.Pass, v.Reasons, want)
	}
}

func TestRunStableUnavailable(t *testing.T) {
	set := binarySet(t, 9, false, slicePart{country: "FR", rows: 100})
	wide := subject(t, "version 1", (&onnx.LogReg{Weights: []float32{1, 1, 1}, Bias: []float32{0}}).Model())
	// Without a regression threshold the stable version is only missed.
	p := gate.Policy{Metrics: map[string]gate.Threshold{gate.MetricAUC: {Min: ptr(0.5)}}}
	v := run(t, p, set, subject(t, "version 2", good()), &wide)
	want := []string{
		"version 2 passed 1 threshold on 100 rows.",
		"version 1 could not be evaluated on this set, so nothing was compared with it: the eval set has 2 features per row, but version 1 takes 3.",
	}
	if !v.Pass || !slices.Equal(v.Reasons, want) || v.Stable != "version 1" {
		t.Fatalf("Run = pass %v, %q against %q; want a pass, %q against version 1", v.Pass, v.Reasons, v.Stable, want)
	}
	for _, m := range v.Metrics {
		if !math.IsNaN(float64(m.Stable)) {
			t.Fatalf("metric %s has stable value %v; want NaN", m.Name, m.Stable)
		}
	}
	// With one, the candidate cannot be judged and fails.
	p.Metrics[gate.MetricAUC] = gate.Threshold{MaxRegression: ptr(0.01)}
	// A caller that says a three-feature model takes two: every call fails.
	failing := gate.Subject{Name: "version 1", Classes: 2, Width: 2, Predictor: wide.Predictor}
	v = run(t, p, set, subject(t, "version 2", good()), &failing)
	wantReason(t, v, "version 1 could not be evaluated on this set, so the regression thresholds cannot be checked: rows 1 to 100: ")
	if v.Pass || len(v.Reasons) != 1 {
		t.Fatalf("Run = pass %v, %q; want one failure", v.Pass, v.Reasons)
	}
	// A stable version of another type cannot be compared either.
	regressor := subject(t, "version 1", (&onnx.MLP{Layers: []onnx.Dense{{Weights: []float32{1, 1}, Bias: []float32{0}}}}).Model())
	v = run(t, p, set, subject(t, "version 2", good()), &regressor)
	wantReason(t, v, "cannot be checked: version 1 is a regressor, and version 2 a binary classifier.")
}

func TestRunCandidateFails(t *testing.T) {
	set := binarySet(t, 10, false, slicePart{country: "FR", rows: 100})
	wide := subject(t, "version 1", (&onnx.LogReg{Weights: []float32{1, 1, 1}, Bias: []float32{0}}).Model())
	broken := gate.Subject{Name: "version 2", Classes: 2, Width: 2, Predictor: wide.Predictor}
	v := run(t, gate.Policy{}, set, broken, nil)
	wantReason(t, v, "version 2 could not be evaluated on this set: rows 1 to 100: gate: predict 100 rows")
	if v.Pass || len(v.Reasons) != 1 || len(v.Metrics) != 0 {
		t.Fatalf("Run = pass %v, %q, %d metrics; want one failure, no metrics", v.Pass, v.Reasons, len(v.Metrics))
	}
}

func TestRunInvalidArguments(t *testing.T) {
	set := binarySet(t, 11, false, slicePart{country: "FR", rows: 10})
	s := subject(t, "version 1", good())
	f := func(p gate.Policy, set *gate.EvalSet, s gate.Subject, want string) {
		t.Helper()
		v, err := gate.Run(context.Background(), p, set, s, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Run = %v, %v; want an error containing %q", v, err, want)
		}
	}
	f(gate.Policy{BatchRows: -1}, set, s, "gate.batch_rows")
	f(gate.Policy{}, nil, s, "empty eval set")
	f(gate.Policy{Slices: &gate.SlicePolicy{Feature: "country"}}, set, s, `slices by "country"`)
	f(gate.Policy{}, set, gate.Subject{Name: "x", Classes: 2, Width: 2}, "no Predictor")
	f(gate.Policy{}, set, gate.Subject{Name: "x", Classes: 1, Width: 2, Predictor: s.Predictor}, "1 classes")
	f(gate.Policy{}, set, gate.Subject{Name: "x", Classes: 2, Predictor: s.Predictor}, "width 0")
}

func TestNoEvalSet(t *testing.T) {
	f := func(p gate.Policy, pass bool, want string) {
		t.Helper()
		v := gate.NoEvalSet(p, "version 4", "no eval.csv in fraud/4 or fraud")
		if v.Pass != pass || !slices.Equal(v.Reasons, []string{want}) || v.Candidate != "version 4" || v.Rows != 0 {
			t.Fatalf("NoEvalSet = %+v; want pass %v, %q", v, pass, want)
		}
	}
	auc := map[string]gate.Threshold{gate.MetricAUC: {Min: ptr(0.8)}}
	f(gate.Policy{}, true, "no eval.csv in fraud/4 or fraud; no thresholds require one, so version 4 passed without evaluation.")
	f(gate.Policy{Metrics: auc}, false, "no eval.csv in fraud/4 or fraud, and the gate policy requires an eval set.")
	f(gate.Policy{RequireEval: ptr(true)}, false, "no eval.csv in fraud/4 or fraud, and the gate policy requires an eval set.")
	f(gate.Policy{Metrics: auc, RequireEval: ptr(false)}, true,
		"no eval.csv in fraud/4 or fraud; the gate policy does not require one, so version 4 passed without evaluation.")
}

func TestRefuse(t *testing.T) {
	v := gate.Refuse("version 4", "eval set line 3, column \"b\": \"abc\" is not a number.")
	if v.Pass || v.Candidate != "version 4" || len(v.Reasons) != 1 || v.Metrics == nil {
		t.Fatalf("Refuse = %+v; want a failure with its one reason", v)
	}
}
