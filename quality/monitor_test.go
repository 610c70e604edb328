package quality

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/tracking"
)

// testVersions describes the versions of the monitor's tests, as the
// server's adapter does for served ones.
type testVersions struct {
	mu     sync.Mutex
	descs  map[streamKey]Description
	policy Policy
	perr   error
}

func (v *testVersions) Describe(model string, version int) (Description, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	d, ok := v.descs[streamKey{model, version}]
	return d, ok
}

func (v *testVersions) Policy(string) (Policy, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.policy, v.perr
}

func (v *testVersions) set(key streamKey, d Description) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.descs[key] = d
}

// testClock is the monitor's clock in tests that drive it from the
// test's goroutine.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a monitor driven from the test's goroutine (step), over a
// binary classifier "m" version 1 whose gate measured an accuracy of 0.9.
type fixture struct {
	m        *Monitor
	clock    *testClock
	versions *testVersions
	reg      *prometheus.Registry
	dir      string
}

var key1 = streamKey{"m", 1}

func newFixture(t *testing.T, pol Policy, cfg MonitorConfig) *fixture {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	versions := &testVersions{descs: map[streamKey]Description{}, policy: pol}
	versions.set(key1, Description{Kind: Binary, Classes: []string{"legit", "fraud"}, Dir: dir,
		Offline: Metrics{Accuracy: ptr(0.9), AUC: ptr(0.95)}})
	reg := prometheus.NewPedanticRegistry()
	cfg.Versions, cfg.now = versions, clock.now
	m, err := NewMonitor(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{m: m, clock: clock, versions: versions, reg: reg, dir: dir}
}

// step takes what was fed and judges the versions due, as Run does.
func (f *fixture) step() {
	f.m.drain(context.Background())
	f.m.evaluate(context.Background())
}

// report returns version 1's report, failing without one.
func (f *fixture) report(t *testing.T) VersionReport {
	t.Helper()
	vr, ok := f.m.Report("m", 1)
	if !ok {
		t.Fatal("no report of m/1")
	}
	return vr
}

// row is one prediction of the tests' streams.
type row struct {
	score float64
	label int
}

// feed logs rows as predictions of m/1 made at the clock's time and
// labelled delay later, through both feeds, in batches of 100; ids are
// numbered from first.
func (f *fixture) feed(rows []row, first int, delay time.Duration) {
	at := f.clock.now()
	for lo := 0; lo < len(rows); lo += 100 {
		hi := min(lo+100, len(rows))
		ps := make([]tracking.Prediction, 0, hi-lo)
		for i := lo; i < hi; i++ {
			ps = append(ps, tracking.Prediction{ID: fmt.Sprint("p", first+i), Model: "m", Version: 1, Time: at,
				Scores: []float64{rows[i].score}})
		}
		f.m.Predicted(ps)
		for i := range ps {
			ps[i].Label = json.RawMessage(fmt.Sprint(rows[i+lo].label))
			ps[i].LabelTime = at.Add(delay)
		}
		f.m.Labelled(ps)
	}
}

// draw returns n rows of a calibrated stream: scores uniform, labels
// Bernoulli(score).
func draw(rng *rand.Rand, n int) []row {
	rows := make([]row, n)
	for i := range rows {
		rows[i].score = rng.Float64()
		if rng.Float64() < rows[i].score {
			rows[i].label = 1
		}
	}
	return rows
}

// realised returns the accuracy and AUC of rows, as the gate computes
// them.
func realised(t *testing.T, rows []row) (float64, float64) {
	t.Helper()
	labels, predicted, scores := make([]int, len(rows)), make([]int, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		labels[i], scores[i] = r.label, r.score
		if r.score >= 0.5 {
			predicted[i] = 1
		}
	}
	auc, err := gate.AUC(labels, scores)
	if err != nil {
		t.Fatal(err)
	}
	return gate.Accuracy(labels, predicted), auc
}

func TestMonitorLiveExact(t *testing.T) {
	f := newFixture(t, DefaultPolicy(), MonitorConfig{Queue: 64})
	rows := draw(rand.New(rand.NewPCG(1, 1)), 1000)

	f.feed(rows[:99], 0, time.Minute)
	f.step()
	if a, ok := f.m.Accuracy("m", 1); ok {
		t.Fatalf("Accuracy with 99 labels = %v, true; want false below min_labels", a)
	}
	if vr := f.report(t); vr.Status != StatusWaiting || !strings.Contains(vr.Reason, "99 of the 100") {
		t.Fatalf("report with 99 labels: %+v", vr)
	}

	f.feed(rows[99:], 99, time.Minute)
	f.clock.advance(DefaultInterval)
	f.step()
	vr := f.report(t)
	acc, auc := realised(t, rows)
	if vr.Status != StatusOK || vr.Live.Labelled != 1000 || vr.Live.Accuracy == nil || *vr.Live.Accuracy != acc ||
		vr.Live.AUC == nil || *vr.Live.AUC != auc {
		t.Fatalf("report %+v; want 1000 labelled, accuracy %v, AUC %v exactly", vr, acc, auc)
	}
	if got, ok := f.m.Accuracy("m", 1); !ok || got != acc {
		t.Fatalf("Accuracy = %v, %v; want %v, true", got, ok, acc)
	}
	if vr.Live.DelayMedian != time.Minute || vr.Live.LabelledShare == nil || *vr.Live.LabelledShare != 1 || vr.Live.Predicted != 1000 {
		t.Fatalf("delay %v, share %v of %d; want 1m, 1 of 1000", vr.Live.DelayMedian, vr.Live.LabelledShare, vr.Live.Predicted)
	}
	if vr.Estimated != nil || !strings.Contains(vr.EstimateReason, "no calibration.json") {
		t.Fatalf("estimate without a calibration: %+v, %q", vr.Estimated, vr.EstimateReason)
	}
	if vr.Offline.Accuracy == nil || *vr.Offline.Accuracy != 0.9 {
		t.Fatalf("offline %+v", vr.Offline)
	}
	for name, want := range map[string]float64{gaugeAccuracy: acc, gaugeAUC: auc, gaugeLabelled: 1000, gaugeShare: 1, gaugeDelay: 60} {
		if got := testutil.ToFloat64(f.m.metrics.gauges[name].WithLabelValues("m", "1")); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if n := testutil.CollectAndCount(f.m.metrics.gauges[gaugeRMSE]); n != 0 {
		t.Errorf("%s has %d series for a classifier", gaugeRMSE, n)
	}
	fraud := 0
	for _, r := range rows {
		if r.score >= 0.5 {
			fraud++
		}
	}
	for class, want := range map[string]int{"fraud": fraud, "legit": len(rows) - fraud} {
		if got := testutil.ToFloat64(f.m.metrics.byClass.WithLabelValues("m", "1", class)); got != float64(want) {
			t.Errorf("predictions of class %s = %v, want %d", class, got, want)
		}
	}
	problems, err := testutil.GatherAndLint(f.reg)
	if err != nil || len(problems) > 0 {
		t.Fatalf("metrics lint: %v %v", problems, err)
	}

	// The version leaves service: its report and series go.
	f.versions.mu.Lock()
	delete(f.versions.descs, key1)
	f.versions.mu.Unlock()
	f.step()
	if _, ok := f.m.Report("m", 1); ok {
		t.Fatal("a version out of service still has a report")
	}
	if n := testutil.CollectAndCount(f.m.metrics.gauges[gaugeAccuracy]); n != 0 {
		t.Fatalf("a version out of service still has %d accuracy series", n)
	}
	if n := testutil.CollectAndCount(f.m.metrics.byClass); n != 0 {
		t.Fatalf("a version out of service still has %d series of predictions by class", n)
	}
}

func TestMonitorWindowRolls(t *testing.T) {
	pol := DefaultPolicy()
	pol.Window, pol.MinLabels, pol.MaxAge = 100, 10, time.Hour
	f := newFixture(t, pol, MonitorConfig{})
	rng := rand.New(rand.NewPCG(2, 2))
	old, recent := draw(rng, 60), draw(rng, 100)
	f.feed(old, 0, time.Second)
	f.clock.advance(30 * time.Minute)
	f.feed(recent, 60, time.Second)
	f.step()
	// By count: the window keeps the 100 latest.
	acc, _ := realised(t, recent)
	if vr := f.report(t); vr.Live.Labelled != 100 || *vr.Live.Accuracy != acc {
		t.Fatalf("report %+v; want the 100 latest, accuracy %v", vr.Live, acc)
	}
	// By age (max_age 1h): 50 minutes on, recent (made 30 minutes after
	// old) is 50 minutes old and stays; 40 minutes more and it is gone.
	f.clock.advance(50 * time.Minute)
	f.step()
	if vr := f.report(t); vr.Live.Labelled != 100 {
		t.Fatalf("50 minutes on: %d labelled, want 100", vr.Live.Labelled)
	}
	f.clock.advance(40 * time.Minute)
	f.step()
	vr := f.report(t)
	if vr.Live.Labelled != 0 || vr.Live.Accuracy != nil || vr.Status != StatusWaiting {
		t.Fatalf("past max_age: %+v, want an empty window", vr)
	}
	if _, ok := f.m.Accuracy("m", 1); ok {
		t.Fatal("Accuracy of an empty window")
	}
}

func TestMonitorDropsWhenBehind(t *testing.T) {
	f := newFixture(t, DefaultPolicy(), MonitorConfig{Queue: 1})
	rows := draw(rand.New(rand.NewPCG(3, 3)), 100)
	f.feed(rows, 0, time.Second) // the predictions fill the queue; the labels are dropped
	if got := testutil.ToFloat64(f.m.metrics.dropped); got != 100 {
		t.Fatalf("dropped %v, want 100", got)
	}
	f.step()
	if vr := f.report(t); vr.Live.Labelled != 0 || vr.Live.Predicted != 100 {
		t.Fatalf("report %+v; want 100 predicted, none labelled", vr.Live)
	}
	// Nothing is stuck: what comes next is taken.
	f.feed(rows, 100, time.Second)
	if got := testutil.ToFloat64(f.m.metrics.dropped); got != 200 {
		t.Fatalf("dropped %v, want 200", got)
	}
	f.m.drain(context.Background())
	f.m.Labelled(labelledRows(rows, 200, f.clock.now()))
	f.clock.advance(DefaultInterval)
	f.step()
	if vr := f.report(t); vr.Live.Labelled != 100 {
		t.Fatalf("after draining: %d labelled, want 100", vr.Live.Labelled)
	}
}

// labelledRows returns rows as labelled predictions of m/1 made at at,
// ids numbered from first.
func labelledRows(rows []row, first int, at time.Time) []tracking.Prediction {
	ps := make([]tracking.Prediction, len(rows))
	for i, r := range rows {
		ps[i] = tracking.Prediction{ID: fmt.Sprint("p", first+i), Model: "m", Version: 1, Time: at, Scores: []float64{r.score},
			Label: json.RawMessage(fmt.Sprint(r.label)), LabelTime: at}
	}
	return ps
}

// writeCalibration fits the calibration of a calibrated stream's sample
// into dir.
func writeCalibration(t *testing.T, dir string, rows []row) {
	t.Helper()
	scores, labels := make([]float64, len(rows)), make([]int, len(rows))
	for i, r := range rows {
		scores[i], labels[i] = r.score, r.label
	}
	cal, err := Fit(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	data, err := cal.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, CalibrationFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMonitorEstimateCalibratedStream checks CBPE through the monitor on
// a calibrated, unshifted stream (see TestEstimateCalibratedStream for
// why windows of 5,000 rows and 0.02): calibrated on one sample, fed
// another from the same distribution, ten windows in turn.
func TestMonitorEstimateCalibratedStream(t *testing.T) {
	const windows, size = 10, 5000
	pol := DefaultPolicy()
	pol.Window = size
	f := newFixture(t, pol, MonitorConfig{Queue: 2 * size / 100})
	rng := rand.New(rand.NewPCG(27, 2))
	writeCalibration(t, f.dir, draw(rng, 20000))
	for w := range windows {
		rows := draw(rng, size)
		f.feed(rows, w*size, time.Second)
		f.clock.advance(DefaultInterval)
		f.step()
		vr := f.report(t)
		if vr.Estimated == nil || vr.Estimated.AUC == nil || vr.Live.Accuracy == nil {
			t.Fatalf("window %d: no estimate (%q) or no live accuracy: %+v", w, vr.EstimateReason, vr)
		}
		acc, _ := realised(t, rows)
		if vr.Estimated.Rows != size || vr.Live.Labelled != size || *vr.Live.Accuracy != acc {
			t.Fatalf("window %d: estimate over %d rows, live over %d (accuracy %v, want %v)", w, vr.Estimated.Rows, vr.Live.Labelled, *vr.Live.Accuracy, acc)
		}
		t.Logf("window %d: accuracy estimated %.4f realised %.4f; AUC estimated %.4f realised %.4f",
			w, vr.Estimated.Accuracy, acc, *vr.Estimated.AUC, *vr.Live.AUC)
		if math.Abs(vr.Estimated.Accuracy-acc) > 0.02 {
			t.Errorf("window %d: estimated accuracy %.4f, realised %.4f: more than 0.02 apart", w, vr.Estimated.Accuracy, acc)
		}
		if got := testutil.ToFloat64(f.m.metrics.gauges[gaugeEstimatedAccuracy].WithLabelValues("m", "1")); got != vr.Estimated.Accuracy {
			t.Errorf("window %d: estimated accuracy gauge %v, report %v", w, got, vr.Estimated.Accuracy)
		}
	}
}

// openStore opens a tracking store in a new directory, closed at the
// test's end.
func openStore(t *testing.T) *tracking.Store {
	t.Helper()
	s, err := tracking.Open(context.Background(), t.TempDir(), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rowsOf returns n rows classified right (right) or wrong, half of each
// class.
func rowsOf(n int, right bool) []row {
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{score: 0.2, label: i % 2}
		if (rows[i].label == 1) == right {
			rows[i].score = 0.8
		}
	}
	return rows
}

func TestMonitorAlarm(t *testing.T) {
	store := openStore(t)
	var mu sync.Mutex
	var alarms []Alarm
	pol := DefaultPolicy()
	pol.Window, pol.MinLabels = 100, 100
	f := newFixture(t, pol, MonitorConfig{Auditor: store, OnAlarm: func(a Alarm) {
		mu.Lock()
		defer mu.Unlock()
		alarms = append(alarms, a)
	}})
	steps := []struct {
		right bool
		want  int // alarms raised so far
	}{{true, 0}, {false, 1}, {false, 1}, {true, 2}, {true, 2}}
	for i, s := range steps {
		f.feed(rowsOf(100, s.right), i*100, time.Second)
		f.clock.advance(DefaultInterval)
		f.step()
		mu.Lock()
		n := len(alarms)
		mu.Unlock()
		if n != s.want {
			t.Fatalf("step %d: %d alarms, want %d: %+v", i, n, s.want, alarms)
		}
		if vr := f.report(t); (len(vr.Alarms) == 1) != !s.right {
			t.Fatalf("step %d: alarms in force %v", i, vr.Alarms)
		}
	}
	if a := alarms[0]; !a.Raised || a.Reason != ReasonAccuracyDrop || a.Value != 0 || a.Offline != 0.9 || a.Rows != 100 ||
		!strings.Contains(a.Message, "fell beyond") {
		t.Fatalf("first alarm %+v", a)
	}
	if a := alarms[1]; a.Raised || a.Value != 1 || !strings.Contains(a.Message, "back within") {
		t.Fatalf("second alarm %+v", a)
	}
	entries, err := store.AuditLog(context.Background(), tracking.AuditQuery{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].Action != "quality_drop" || entries[0].Action != "quality_recovered" ||
		entries[1].Actor != "quality" || entries[1].Details["reason"] != ReasonAccuracyDrop || entries[1].Details["value"] != 0.0 ||
		entries[1].Details["offline_accuracy"] != 0.9 {
		t.Fatalf("audit trail %+v", entries)
	}
}

func TestMonitorEstimatedAlarm(t *testing.T) {
	pol := DefaultPolicy()
	pol.Window, pol.MinLabels = 200, 100
	var alarms []Alarm
	f := newFixture(t, pol, MonitorConfig{OnAlarm: func(a Alarm) { alarms = append(alarms, a) }})
	rng := rand.New(rand.NewPCG(5, 5))
	writeCalibration(t, f.dir, draw(rng, 20000))
	// Confident scores: CBPE expects about 0.9; then scores near 0.5,
	// which it expects right half the time, with no label yet.
	confident := make([]tracking.Prediction, 200)
	unsure := make([]tracking.Prediction, 200)
	for i := range confident {
		confident[i] = tracking.Prediction{ID: fmt.Sprint("c", i), Model: "m", Version: 1, Time: f.clock.now(), Scores: []float64{0.9}}
		unsure[i] = tracking.Prediction{ID: fmt.Sprint("u", i), Model: "m", Version: 1, Time: f.clock.now(), Scores: []float64{0.5 + float64(i%2)*0.01}}
	}
	f.m.Predicted(confident)
	f.step()
	if vr := f.report(t); vr.Estimated == nil || math.Abs(vr.Estimated.Accuracy-0.9) > 0.03 || len(alarms) != 0 {
		t.Fatalf("confident scores: %+v, alarms %+v", vr.Estimated, alarms)
	}
	f.m.Predicted(unsure)
	f.clock.advance(DefaultInterval)
	f.step()
	if len(alarms) != 1 || alarms[0].Reason != ReasonEstimatedAccuracyDrop || !alarms[0].Raised || alarms[0].Rows != 200 {
		t.Fatalf("unsure scores: alarms %+v", alarms)
	}
	if vr := f.report(t); len(vr.Alarms) != 1 || vr.Alarms[0] != ReasonEstimatedAccuracyDrop || vr.Live.Labelled != 0 {
		t.Fatalf("report %+v", vr)
	}
}

func TestMonitorBackfill(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	rows := draw(rand.New(rand.NewPCG(6, 6)), 300)
	at := time.Now()
	ps := make([]tracking.Prediction, len(rows))
	labels := make([]tracking.Label, len(rows))
	for i, r := range rows {
		ps[i] = tracking.Prediction{ID: fmt.Sprint("p", i), Model: "m", Version: 1, Time: at, Scores: []float64{r.score}}
		name := "legit"
		if r.label == 1 {
			name = "fraud"
		}
		labels[i] = tracking.Label{PredictionID: ps[i].ID, Value: json.RawMessage(fmt.Sprintf("%q", name))}
	}
	if err := store.LogPredictions(ctx, ps); err != nil {
		t.Fatal(err)
	}
	// The first 200 labels are joined before the monitor starts, the
	// rest after: the feed delivers those too, and they count once.
	if _, err := store.Feedback(ctx, labels[:200]); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, DefaultPolicy(), MonitorConfig{History: store})
	f.clock.t = at.Add(time.Minute)
	f.m.started = time.Now()
	res, err := store.Feedback(ctx, labels[200:])
	if err != nil {
		t.Fatal(err)
	}
	joined := make([]tracking.Prediction, len(res))
	for i, r := range res {
		if r.Status != tracking.FeedbackAccepted {
			t.Fatalf("label %d: %s %s", i, r.Status, r.Message)
		}
		joined[i] = r.Prediction
	}
	f.m.Labelled(joined)
	f.step()
	vr := f.report(t)
	acc, auc := realised(t, rows)
	if vr.Live.Labelled != 300 || *vr.Live.Accuracy != acc || *vr.Live.AUC != auc {
		t.Fatalf("report %+v; want the 300 labels once, accuracy %v, AUC %v", vr.Live, acc, auc)
	}
	// The window reaches back before the monitor counted predictions:
	// the share is unknown, not a guess.
	if vr.Live.LabelledShare != nil {
		t.Fatalf("labelled share %v after a restart", *vr.Live.LabelledShare)
	}
}

// countingHistory is a History that counts the predictions it yields.
type countingHistory struct {
	History
	read int
}

func (h *countingHistory) Labelled(ctx context.Context, model string, version int, since time.Time, last int) iter.Seq2[tracking.Prediction, error] {
	return func(yield func(tracking.Prediction, error) bool) {
		for p, err := range h.History.Labelled(ctx, model, version, since, last) {
			h.read++
			if !yield(p, err) {
				return
			}
		}
	}
}

// TestMonitorBackfillReadsOneWindow: a restarted monitor reads of the
// log's labels no more than its window holds, so that its start does not
// cost more as the history grows, and keeps the newest.
func TestMonitorBackfillReadsOneWindow(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	rows := draw(rand.New(rand.NewPCG(7, 7)), 300)
	at := time.Now().Add(-time.Second) // the predictions precede their labels
	ps := make([]tracking.Prediction, len(rows))
	labels := make([]tracking.Label, len(rows))
	for i, r := range rows {
		ps[i] = tracking.Prediction{ID: fmt.Sprint("p", i), Model: "m", Version: 1, Time: at.Add(time.Duration(i) * time.Millisecond), Scores: []float64{r.score}}
		labels[i] = tracking.Label{PredictionID: ps[i].ID, Value: json.RawMessage(`"legit"`)}
		if r.label == 1 {
			labels[i].Value = json.RawMessage(`"fraud"`)
		}
	}
	if err := store.LogPredictions(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Feedback(ctx, labels); err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy()
	p.Window = 100
	h := &countingHistory{History: store}
	f := newFixture(t, p, MonitorConfig{History: h})
	f.clock.t = at.Add(time.Minute)
	f.m.Predicted([]tracking.Prediction{{Model: "m", Version: 1, Time: f.clock.now(), Scores: []float64{0.5}}}) // opens the stream
	f.step()
	acc, _ := realised(t, rows[200:])
	vr := f.report(t)
	if h.read != 100 || vr.Live.Labelled != 100 || *vr.Live.Accuracy != acc {
		t.Fatalf("read %d labels, report %+v; want the newest 100 read, accuracy %v", h.read, vr.Live, acc)
	}
}

func TestMonitorUnmeasured(t *testing.T) {
	f := newFixture(t, DefaultPolicy(), MonitorConfig{})
	bad := labelledRows([]row{{0.7, 1}}, 0, f.clock.now())
	bad[0].Label = json.RawMessage(`"unheard-of"`)
	multi := labelledRows([]row{{0.7, 1}}, 1, f.clock.now())
	multi[0].Scores = []float64{0.7, 0.2}
	outOfRange := labelledRows([]row{{0.7, 1}}, 2, f.clock.now())
	outOfRange[0].Label = json.RawMessage(`2`)
	f.m.Labelled(append(append(bad, multi...), outOfRange...))
	f.m.Labelled(labelledRows([]row{{0.7, 1}}, 3, f.clock.now()))
	f.step()
	vr := f.report(t)
	if vr.Unusable != 3 || vr.Live.Labelled != 1 || testutil.ToFloat64(f.m.metrics.unusable) != 3 {
		t.Fatalf("report %+v; want 3 unusable labels, 1 measured", vr)
	}

	// A version the server cannot describe is reported, not measured.
	f.versions.set(streamKey{"m", 2}, Description{Problem: "no score"})
	f.m.Labelled([]tracking.Prediction{{ID: "x", Model: "m", Version: 2, Scores: []float64{1}, Label: json.RawMessage(`1`)}})
	// A version that does not serve is ignored.
	f.m.Labelled([]tracking.Prediction{{ID: "y", Model: "m", Version: 3, Scores: []float64{1}, Label: json.RawMessage(`1`)}})
	f.step()
	if vr, ok := f.m.Report("m", 2); !ok || vr.Status != StatusUnsupported || vr.Reason != "no score" {
		t.Fatalf("m/2: %+v, %v", vr, ok)
	}
	if _, ok := f.m.Report("m", 3); ok {
		t.Fatal("m/3 does not serve and has a report")
	}
	if got := f.m.Reports("m"); len(got) != 2 || got[0].Version != 1 || got[1].Version != 2 {
		t.Fatalf("Reports = %+v", got)
	}
}

func TestMonitorRegressorAndPolicy(t *testing.T) {
	f := newFixture(t, Policy{Window: 10, MaxAge: time.Hour, MinLabels: 2, Interval: time.Second}, MonitorConfig{})
	f.versions.set(key1, Description{Kind: Regression, Offline: Metrics{RMSE: ptr(1)}})
	ps := []tracking.Prediction{
		{ID: "a", Model: "m", Version: 1, Time: f.clock.now(), Scores: []float64{3}, Label: json.RawMessage(`1`), LabelTime: f.clock.now()},
		{ID: "b", Model: "m", Version: 1, Time: f.clock.now(), Scores: []float64{2}, Label: json.RawMessage(`2`), LabelTime: f.clock.now()},
	}
	f.m.Labelled(ps)
	f.step()
	vr := f.report(t)
	if vr.Live.RMSE == nil || *vr.Live.RMSE != math.Sqrt(2) || *vr.Live.MAE != 1 || vr.Live.Accuracy != nil || vr.EstimateReason != "CBPE estimates binary classifiers only" {
		t.Fatalf("regressor report %+v", vr)
	}
	if _, ok := f.m.Accuracy("m", 1); ok {
		t.Fatal("a regressor has an accuracy")
	}
	// A refused policy is reported; the last valid one stays in force.
	f.versions.mu.Lock()
	f.versions.perr = fmt.Errorf("quality: window 0: must be between 1 and 1000000")
	f.versions.mu.Unlock()
	f.clock.advance(time.Second)
	f.step()
	if vr := f.report(t); vr.Status != StatusInvalidPolicy || !strings.Contains(vr.Reason, "window 0") || vr.Live.Labelled != 2 {
		t.Fatalf("refused policy: %+v", vr)
	}
}

// TestMonitorRun runs the monitor's goroutine, fed from another, and
// stops it.
func TestMonitorRun(t *testing.T) {
	pol := DefaultPolicy()
	pol.MinLabels, pol.Interval = 10, time.Millisecond
	versions := &testVersions{descs: map[streamKey]Description{key1: {Kind: Binary, Dir: t.TempDir()}}, policy: pol}
	m, err := NewMonitor(MonitorConfig{Versions: versions, Tick: time.Millisecond}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	m.Labelled(labelledRows(rowsOf(10, true), 0, time.Now()))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if a, ok := m.Accuracy("m", 1); ok {
			if a != 1 {
				t.Fatalf("Accuracy = %v, want 1", a)
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the monitor's goroutine judged nothing in 10s")
}

func TestNewMonitorFailure(t *testing.T) {
	if _, err := NewMonitor(MonitorConfig{}, prometheus.NewRegistry()); err == nil {
		t.Fatal("a monitor without Versions")
	}
	if _, err := NewMonitor(MonitorConfig{Versions: &testVersions{}}, nil); err == nil {
		t.Fatal("a monitor without a registry")
	}
	if _, err := NewMonitor(MonitorConfig{Versions: &testVersions{}, Queue: -1}, prometheus.NewRegistry()); err == nil {
		t.Fatal("a monitor with a negative queue")
	}
}
