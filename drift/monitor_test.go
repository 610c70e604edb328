package drift

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchyard-ml/switchyard/tracking"
)

// fakeSource is a version for the monitor's tests.
type fakeSource struct {
	desc   Description
	policy Policy
	perr   error
	gone   atomic.Bool
}

func (f *fakeSource) Describe() Description   { return f.desc }
func (f *fakeSource) Policy() (Policy, error) { return f.policy, f.perr }
func (f *fakeSource) Serving() bool           { return !f.gone.Load() }

// meanShift stands in for Compare: a numeric column drifts when its mean
// moved by more than half the reference's std, so that these tests
// concern the monitor, not the statistics.
func meanShift(ref *ColumnProfile, cur Column, o Override) (Result, error) {
	if cur.Kind != Numeric || len(cur.Numbers) == 0 {
		return Result{}, fmt.Errorf("meanShift: %s: no numbers", cur.Name)
	}
	var sum float64
	for _, x := range cur.Numbers {
		sum += x
	}
	shift := math.Abs(sum/float64(len(cur.Numbers))-ref.Mean) / ref.Std
	return Result{Column: cur.Name, Test: "shift", Statistic: shift, Threshold: 0.5, Drifted: shift > 0.5}, nil
}

// testClock is the monitor's clock in tests that drive it from the test's
// goroutine.
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

// writeProfile writes the profile of three standard normal features a, b
// and c, and of a score, into a new version directory.
func writeProfile(t *testing.T) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	cols := []Column{{Name: "a", Kind: Numeric}, {Name: "b", Kind: Numeric}, {Name: "c", Kind: Numeric}}
	score := Column{Name: "score", Kind: Numeric}
	for range 2000 {
		for i := range cols {
			cols[i].Numbers = append(cols[i].Numbers, rng.NormFloat64())
		}
		score.Numbers = append(score.Numbers, rng.Float64())
	}
	p, err := BuildProfile(cols, []Column{score}, ProfileOptions{Source: "test"})
	if err != nil {
		t.Fatalf("BuildProfile: %v", err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ProfileFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func newSource(dir string, p Policy) *fakeSource {
	return &fakeSource{policy: p, desc: Description{Model: "m", Version: 1, Dir: dir,
		Columns: []ColumnSpec{{Name: "a", Kind: Numeric}, {Name: "b", Kind: Numeric}, {Name: "c", Kind: Numeric}}}}
}

// auditLog records the monitor's audit entries.
type auditLog struct {
	mu      sync.Mutex
	entries []tracking.Entry
}

func (a *auditLog) Audit(_ context.Context, e tracking.Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *auditLog) all() []tracking.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]tracking.Entry(nil), a.entries...)
}

func newTestMonitor(t *testing.T, cfg Config) (*Monitor, *testClock, *prometheus.Registry) {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	if cfg.compare == nil {
		cfg.compare = meanShift
	}
	if cfg.now == nil {
		cfg.now = clock.now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewPedanticRegistry()
	m, err := New(cfg, reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, clock, reg
}

// fp32 encodes rows as a little-endian float32 tensor's data.
func fp32(rows [][]float32) []byte {
	var b []byte
	for _, r := range rows {
		for _, x := range r {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	return b
}

// offer hands one request of n rows (feature a shifted by shift) through
// Take and Offer, and returns the sample the monitor would receive (nil
// when not sampled).
func offer(m *Monitor, src Source, id string, rng *rand.Rand, n int, shift float64) *Sample {
	s := m.Take(src, []byte(id))
	if s == nil {
		return nil
	}
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = []float32{float32(rng.NormFloat64() + shift), float32(rng.NormFloat64()), float32(rng.NormFloat64())}
	}
	s.SetRowsFP32(fp32(rows), 3)
	for range n {
		s.AddScore(rng.Float64())
	}
	m.Offer(s)
	return s
}

// feed sends requests of 10 rows until the stream's window of rows rows
// is full, and has the monitor take them, in the test's goroutine.
func feed(m *Monitor, src Source, rng *rand.Rand, rows int, shift float64) {
	for i := 0; i < rows; i += 10 {
		if offer(m, src, fmt.Sprint(i), rng, 10, shift) != nil {
			m.add(<-m.samples)
		}
	}
}

func testPolicy() Policy {
	p := DefaultPolicy()
	p.WindowRows, p.Interval = 200, time.Second
	return p
}

func TestMonitorFlagsShiftedFeature(t *testing.T) {
	audit := &auditLog{}
	m, clock, reg := newTestMonitor(t, Config{Auditor: audit})
	src := newSource(writeProfile(t), testPolicy())
	rng := rand.New(rand.NewPCG(3, 4))
	feed(m, src, rng, 200, 1.5)
	clock.advance(time.Second)
	m.evaluate()

	r := m.Report("m", 0)
	if len(r.Versions) != 1 {
		t.Fatalf("Report = %+v; want one version", r)
	}
	vr := r.Versions[0]
	if vr.Status != StatusOK || vr.Window == nil || vr.Window.Rows != 200 {
		t.Fatalf("report = %+v; want ok with a window of 200 rows", vr)
	}
	for _, res := range vr.Window.Features {
		if res.Drifted != (res.Column == "a") {
			t.Errorf("feature %s drifted = %v (shift %.2f); want only a", res.Column, res.Drifted, res.Statistic)
		}
	}
	if vr.Window.Prediction == nil || vr.Window.Prediction.Drifted {
		t.Errorf("prediction = %+v; want judged, not drifted", vr.Window.Prediction)
	}
	if vr.Window.DatasetDrift {
		t.Errorf("dataset drift with share %v; want none (1 of 3)", vr.Window.DatasetShare)
	}
	if got := testutil.ToFloat64(m.metrics.detected.WithLabelValues("m", "1", "a")); got != 1 {
		t.Errorf("switchyard_drift_detected{feature=a} = %v; want 1", got)
	}
	if got := testutil.ToFloat64(m.metrics.share.WithLabelValues("m", "1")); math.Abs(got-1.0/3) > 1e-9 {
		t.Errorf("switchyard_dataset_drift_share = %v; want 1/3", got)
	}
	entries := audit.all()
	if len(entries) != 1 || entries[0].Actor != "drift" || entries[0].Action != "drift_detected" || entries[0].Details["feature"] != "a" {
		t.Fatalf("audit = %+v; want one drift_detected entry by drift for feature a", entries)
	}
	if _, ok := entries[0].Details["statistic"]; !ok {
		t.Errorf("audit details %v lack the statistic", entries[0].Details)
	}

	// The version leaves service: its series and report go.
	src.gone.Store(true)
	m.evaluate()
	if n, err := testutil.GatherAndCount(reg, "switchyard_drift_score", "switchyard_drift_detected", "switchyard_dataset_drift_share"); err != nil || n != 0 {
		t.Errorf("series after unload = %d, %v; want 0", n, err)
	}
	if r := m.Report("m", 0); len(r.Versions) != 0 {
		t.Errorf("Report after unload = %+v; want no versions", r)
	}
}

func TestMonitorUnshiftedStreamRaisesNoAlert(t *testing.T) {
	audit := &auditLog{}
	m, clock, _ := newTestMonitor(t, Config{Auditor: audit})
	src := newSource(writeProfile(t), testPolicy())
	rng := rand.New(rand.NewPCG(5, 6))
	for w := range 20 {
		feed(m, src, rng, 200, 0)
		clock.advance(time.Second)
		m.evaluate()
		if vr := m.Report("m", 1).Versions[0]; vr.Window == nil || vr.Window.End.IsZero() {
			t.Fatalf("window %d not judged: %+v", w, vr)
		}
	}
	if got := audit.all(); len(got) != 0 {
		t.Errorf("alerts over 20 unshifted windows = %+v; want none", got)
	}
	if got := testutil.ToFloat64(m.metrics.alerts); got != 0 {
		t.Errorf("switchyard_drift_alerts_total = %v; want 0", got)
	}
}

func TestMonitorWindowClosesByTime(t *testing.T) {
	m, clock, _ := newTestMonitor(t, Config{})
	p := testPolicy()
	p.Window = time.Minute
	src := newSource(writeProfile(t), p)
	feed(m, src, rand.New(rand.NewPCG(7, 8)), 50, 0)
	clock.advance(time.Second)
	m.evaluate()
	if vr := m.Report("m", 1).Versions[0]; vr.Status != StatusWaiting || vr.Window != nil || vr.Current == nil || vr.Current.Rows != 50 {
		t.Fatalf("after 50 rows: %+v; want waiting with a current view of 50 rows", vr)
	}
	clock.advance(time.Minute)
	m.evaluate()
	vr := m.Report("m", 1).Versions[0]
	if vr.Status != StatusOK || vr.Window == nil || vr.Window.Rows != 50 {
		t.Fatalf("a minute later: %+v; want the 50 rows judged", vr)
	}
}

func TestMonitorVersionsNotJudged(t *testing.T) {
	f := func(name string, setup func(dir string, src *fakeSource), status, reason string) {
		t.Helper()
		m, clock, _ := newTestMonitor(t, Config{})
		dir := writeProfile(t)
		src := newSource(dir, testPolicy())
		setup(dir, src)
		feed(m, src, rand.New(rand.NewPCG(9, 10)), 200, 1.5)
		clock.advance(time.Second)
		m.evaluate()
		vr := m.Report("m", 1).Versions[0]
		if vr.Status != status || !strings.Contains(vr.Reason, reason) || vr.Window != nil {
			t.Errorf("%s: report = %+v; want status %s, a reason with %q and no judgment", name, vr, status, reason)
		}
	}
	f("no profile", func(dir string, _ *fakeSource) { os.Remove(filepath.Join(dir, ProfileFile)) }, StatusNoProfile, "has no profile.json")
	f("malformed profile", func(dir string, _ *fakeSource) {
		os.WriteFile(filepath.Join(dir, ProfileFile), []byte(`{"format": 1, "features": [`), 0o644)
	}, StatusInvalidProfile, "profile.json")
	f("unknown feature", func(_ string, src *fakeSource) {
		src.policy.Features = map[string]Override{"amount": {Threshold: 0.1}}
	}, StatusInvalidPolicy, `unknown feature "amount"`)
	f("policy error", func(_ string, src *fakeSource) { src.perr = fmt.Errorf("policy.yaml: drift: window: bad") }, StatusInvalidPolicy, "window: bad")
	f("unsupported", func(_ string, src *fakeSource) { src.desc.Problem = "two inputs" }, StatusUnsupported, "two inputs")
}

func TestSamplingKeepsTheSameIDs(t *testing.T) {
	p := testPolicy()
	p.Sample = 0.25
	pick := func() []bool {
		m, _, _ := newTestMonitor(t, Config{Queue: 1})
		src := newSource(writeProfile(t), p)
		m.open(src)
		var out []bool
		for i := range 20000 {
			s := m.Take(src, fmt.Appendf(nil, "3f9a1c0b5e7d2a48-%016x", i))
			out = append(out, s != nil)
			m.Offer(s)
			if s != nil {
				m.release(<-m.samples)
			}
		}
		return out
	}
	a, b := pick(), pick()
	kept := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("id %d kept by one monitor and not the other", i)
		}
		if a[i] {
			kept++
		}
	}
	if share := float64(kept) / float64(len(a)); math.Abs(share-0.25) > 0.02 {
		t.Errorf("kept %.3f of the ids; want 0.25", share)
	}
}

func TestFullBufferDropsWithoutBlocking(t *testing.T) {
	m, _, _ := newTestMonitor(t, Config{Queue: 4}) // no Run: the monitor is stalled
	src := newSource(writeProfile(t), testPolicy())
	rng := rand.New(rand.NewPCG(11, 12))
	done := make(chan int)
	go func() {
		kept := 0
		for i := range 100 {
			if offer(m, src, fmt.Sprint(i), rng, 1, 0) != nil {
				kept++
			}
		}
		done <- kept
	}()
	select {
	case kept := <-done:
		if kept != 4 {
			t.Errorf("kept %d samples; want the 4 the queue holds", kept)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hot path blocked on a stalled monitor")
	}
	if got := testutil.ToFloat64(m.metrics.dropped); got != 96 {
		t.Errorf("switchyard_drift_dropped_total = %v; want 96", got)
	}
}

func TestSampleKeepsAtMostMaxRows(t *testing.T) {
	m, _, _ := newTestMonitor(t, Config{Queue: 1})
	s := m.Take(newSource("", testPolicy()), []byte("x"))
	rows := make([][]float32, 3*MaxSampleRows)
	for i := range rows {
		rows[i] = []float32{float32(i), 0, 0}
	}
	s.SetRowsFP32(fp32(rows), 3)
	if len(s.rows) != 3*MaxSampleRows || s.rows[3] != 1 {
		t.Errorf("kept %d values, row 1 = %v; want %d values, row 1 = 1", len(s.rows), s.rows[3], 3*MaxSampleRows)
	}
}

// TestSampleGathersRows: a gathered sample takes rows from many calls
// up to MaxSampleRows, refuses rows of another width, and SetRowsFP32
// starts it over.
func TestSampleGathersRows(t *testing.T) {
	m, _, _ := newTestMonitor(t, Config{Queue: 1})
	src := newSource("", testPolicy())
	if !m.Sampled(src, []byte("any")) || (*Monitor)(nil).Sampled(src, []byte("any")) {
		t.Error("Sampled: want every id at rate 1, and none of a nil monitor")
	}
	s := m.Gather(src)
	row := func(v float32) []byte { return fp32([][]float32{{v, v, v}}) }
	if n := s.AddRowsFP32(row(1), 3); n != 1 {
		t.Fatalf("AddRowsFP32 = %d; want 1", n)
	}
	if n := s.AddRowsFP32(fp32([][]float32{{1, 1}}), 2); n != 0 {
		t.Errorf("AddRowsFP32 of another width = %d; want 0", n)
	}
	many := make([][]float32, MaxSampleRows)
	for i := range many {
		many[i] = []float32{float32(i + 2), 0, 0}
	}
	if n := s.AddRowsFP32(fp32(many), 3); n != MaxSampleRows-1 {
		t.Errorf("AddRowsFP32 of %d rows to a sample holding 1 = %d; want %d", MaxSampleRows, n, MaxSampleRows-1)
	}
	if n := s.AddRowsFP32(row(9), 3); n != 0 || len(s.rows) != 3*MaxSampleRows || s.rows[0] != 1 || s.rows[3] != 2 {
		t.Errorf("a full sample took %d more, holds %d values (%v, %v...)", n, len(s.rows), s.rows[0], s.rows[3])
	}
	if m.Gather(src) != nil {
		t.Error("Gather with every buffer in use: want nil")
	}
	s.SetRowsFP32(row(7), 3)
	if len(s.rows) != 3 || s.rows[0] != 7 {
		t.Errorf("SetRowsFP32 after gathering: %v; want the one row", s.rows)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Queue: -1}, {Webhook: "ftp://x"}, {Webhook: "localhost:9"}, {WebhookRetries: -1}} {
		if _, err := New(cfg, prometheus.NewPedanticRegistry()); err == nil {
			t.Errorf("New(%+v) = nil error; want one", cfg)
		}
	}
	if _, err := New(Config{}, nil); err == nil {
		t.Error("New without a registry = nil error; want one")
	}
}

func TestNilMonitor(t *testing.T) {
	var m *Monitor
	m.Offer(m.Take(nil, []byte("x")))
	if r := m.Report("m", 0); len(r.Versions) != 0 {
		t.Errorf("nil Report = %+v", r)
	}
}

// TestMonitorDefaultThresholds runs the real tests at their defaults: 20
// windows of 5,000 unshifted rows against a reference of 2,000 raise no
// alert, then a window with feature a shifted by 1.5 sd flags a alone.
func TestMonitorDefaultThresholds(t *testing.T) {
	audit := &auditLog{}
	m, clock, _ := newTestMonitor(t, Config{Auditor: audit, compare: Compare})
	p := DefaultPolicy()
	src := newSource(writeProfile(t), p)
	rng := rand.New(rand.NewPCG(21, 22))
	for w := range 20 {
		feed(m, src, rng, p.WindowRows, 0)
		clock.advance(p.Interval)
		m.evaluate()
		if vr := m.Report("m", 1).Versions[0]; vr.Status != StatusOK || vr.Window.Rows != p.WindowRows {
			t.Fatalf("window %d: %+v; want judged", w, vr)
		}
	}
	if got := audit.all(); len(got) != 0 {
		t.Fatalf("alerts over 20 unshifted windows: %+v; want none", got)
	}
	feed(m, src, rng, p.WindowRows, 1.5)
	clock.advance(p.Interval)
	m.evaluate()
	vr := m.Report("m", 1).Versions[0]
	for _, res := range vr.Window.Features {
		if res.Drifted != (res.Column == "a") {
			t.Errorf("%s drifted = %v (%s %v); want only a", res.Column, res.Drifted, res.Test, res.Statistic)
		}
	}
	if got := audit.all(); len(got) != 1 || got[0].Details["feature"] != "a" {
		t.Errorf("alerts = %+v; want one, for a", got)
	}
}

// TestWindowOneHot reads a one-hot block back to its values: the hot
// column's value, "none" for a row with no hot column or two.
func TestWindowOneHot(t *testing.T) {
	w := newWindow(4, 0)
	w.data = []float32{ // rows: FR, DE, none, two hot
		1, 0, 0, 7,
		0, 1, 0, 8,
		0, 0, 0, 9,
		1, 1, 0, 10,
	}
	w.rows = 4
	got := w.column(0, ColumnSpec{Name: "country", Kind: Categorical, Values: []string{"FR", "DE", "US"}, Width: 3})
	if want := []string{"FR", "DE", "none", "none"}; !reflect.DeepEqual(got.Categories, want) {
		t.Errorf("one-hot column = %v; want %v", got.Categories, want)
	}
}
