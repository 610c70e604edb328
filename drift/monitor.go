package drift

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/sampling"
)

// Config configures a Monitor. Zero values mean the defaults named.
type Config struct {
	// Queue is how many samples may wait for the monitor; past it the hot
	// path drops them and counts (switchyard_drift_dropped_total). 0
	// means DefaultQueue.
	Queue int
	// Tick is how often the monitor looks for versions due for judgment
	// (each at its policy's interval). 0 means DefaultTick.
	Tick time.Duration
	// Auditor receives an entry per alert (actor "drift"); nil audits
	// nothing.
	Auditor Auditor
	// Webhook, when set, receives each alert as a JSON POST, from a
	// goroutine of its own, with WebhookTimeout per try and
	// WebhookRetries retries after a doubling WebhookBackoff; at most
	// WebhookQueue alerts wait, the rest are dropped and counted.
	Webhook        string
	WebhookTimeout time.Duration
	WebhookRetries int
	WebhookBackoff time.Duration
	WebhookQueue   int
	// OnAlert, when set, is called with each alert once it is logged and
	// audited, from the monitor's goroutine: it must not block (hand the
	// alert on by a non-blocking send, as retrain.Runner.Fire does), or
	// the monitor stops judging until it returns.
	OnAlert func(Alert)
	// Logger receives the alerts and the monitor's problems; nil means
	// slog.Default().
	Logger *slog.Logger

	// compare stands in for Compare in tests.
	compare comparer
	// now stands in for time.Now in tests.
	now func() time.Time
}

// The monitor's defaults.
const (
	DefaultQueue = 1024
	DefaultTick  = time.Second
)

// Monitor is the drift sidecar: it receives sampled predictions from the
// hot path (Take, Offer), fills each serving version's windows, judges
// them against the version's profile on the policy's schedule, exports
// the results as metrics, raises alerts on each change of state and
// keeps the latest report of each version (Report). Run is its one
// goroutine, which owns every stream; Take, Offer and Report are safe for
// concurrent use.
type Monitor struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	client  *http.Client

	samples chan *Sample
	free    chan *Sample
	hooks   chan Alert
	// rates holds each Source's sampling bound (*rate), written by Run,
	// read by Take.
	rates sync.Map

	// streams is owned by Run.
	streams map[Source]*stream

	// mu guards reports, written by Run, read by Report.
	mu      sync.Mutex
	reports map[string]map[int]VersionReport
}

// rate is a version's sampling bound (see sampling.Bound).
type rate struct{ limit atomic.Uint64 }

// New returns a Monitor whose metrics are registered with reg.
func New(cfg Config, reg prometheus.Registerer) (*Monitor, error) {
	if reg == nil {
		return nil, errors.New("drift: a metrics registry is required")
	}
	if cfg.Queue < 0 || cfg.Tick < 0 || cfg.WebhookTimeout < 0 || cfg.WebhookRetries < 0 || cfg.WebhookBackoff < 0 || cfg.WebhookQueue < 0 {
		return nil, errors.New("drift: negative monitor setting")
	}
	if cfg.Webhook != "" {
		if err := CheckWebhook(cfg.Webhook); err != nil {
			return nil, err
		}
	}
	cfg.Queue = cmp.Or(cfg.Queue, DefaultQueue)
	cfg.Tick = cmp.Or(cfg.Tick, DefaultTick)
	cfg.WebhookTimeout = cmp.Or(cfg.WebhookTimeout, DefaultWebhookTimeout)
	cfg.WebhookBackoff = cmp.Or(cfg.WebhookBackoff, DefaultWebhookBackoff)
	cfg.WebhookQueue = cmp.Or(cfg.WebhookQueue, DefaultWebhookQueue)
	if cfg.WebhookRetries == 0 {
		cfg.WebhookRetries = DefaultWebhookRetries
	}
	if cfg.compare == nil {
		cfg.compare = Compare
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	met, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	m := &Monitor{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()), metrics: met, client: &http.Client{},
		samples: make(chan *Sample, cfg.Queue), free: make(chan *Sample, cfg.Queue),
		streams: map[Source]*stream{}, reports: map[string]map[int]VersionReport{}}
	for range cfg.Queue {
		m.free <- &Sample{scores: make([]float64, 0, MaxSampleRows)}
	}
	if cfg.Webhook != "" {
		m.hooks = make(chan Alert, cfg.WebhookQueue)
	}
	return m, nil
}

// Run is the monitor's goroutine: it takes the samples, judges the
// versions due and delivers the webhook's alerts (from a second goroutine
// it owns) until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if m.hooks != nil {
		wg.Go(func() { m.deliver(ctx) })
	}
	defer wg.Wait()
	tick := time.NewTicker(m.cfg.Tick)
	defer tick.Stop()
	// The samples are taken in batches on a timer rather than one by one
	// as they arrive: waking this goroutine for every prediction costs the
	// serving goroutines more CPU than the work itself.
	drain := time.NewTicker(drainEvery)
	defer drain.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-drain.C:
			m.drain()
		case <-tick.C:
			m.drain()
			m.evaluate()
		}
	}
}

// drainEvery is how often Run takes the samples waiting: at most a
// queue's worth (Config.Queue) arrives in between at the rates this
// server reaches on small models, so that little is dropped.
const drainEvery = 5 * time.Millisecond

// drain takes the samples waiting, at most a queue's worth.
func (m *Monitor) drain() {
	for range cap(m.samples) {
		select {
		case s := <-m.samples:
			m.add(s)
		default:
			return
		}
	}
}

// stream is one version's state in the monitor, owned by Run.
type stream struct {
	src     Source
	desc    Description
	names   []string // the columns' names, and the profile's score column
	profile *Profile
	// status and reason say why the version cannot be judged, if so.
	status, reason string
	policy         Policy
	policyErr      error
	cur            *window
	spare          *window       // a judged window's memory, for the next
	last           *WindowReport // the newest full window's judgment
	judged         bool          // last has been judged and alerted on
	full           *window       // the newest full window, until judged
	next           time.Time     // when the stream is due
	evaluated      time.Time
	// drifted is each column's state and the dataset's (""), for alerts.
	drifted map[string]bool
}

// add puts the sample's rows into its version's window.
func (m *Monitor) add(s *Sample) {
	defer m.release(s)
	st := m.streams[s.src]
	if st == nil {
		st = m.open(s.src)
	}
	now := m.cfg.now()
	if st.cur.full(st.policy, now) {
		st.rotate()
	}
	st.cur.add(s, now)
	if st.cur.rows >= st.policy.WindowRows {
		st.rotate()
	}
}

// rotate makes the window being filled the newest full one, and starts
// the next in the spare window's memory, else in that of the full window
// it replaces unjudged, else in new memory sized for the policy's window.
func (st *stream) rotate() {
	next := st.spare
	st.spare = nil
	if next == nil { // a full window not judged in time gives way: reuse it
		next, st.full = st.full, nil
	}
	if next == nil {
		next = newWindow(len(st.desc.Columns), st.policy.WindowRows)
	}
	next.reset()
	st.full, st.cur = st.cur, next
}

// open starts a stream for a version seen for the first time: its
// description, policy and profile (read once).
func (m *Monitor) open(src Source) *stream {
	st := &stream{src: src, desc: src.Describe(), drifted: map[string]bool{}, status: StatusWaiting}
	for _, c := range st.desc.Columns {
		if c.Name != "" {
			st.names = append(st.names, c.Name)
		}
	}
	st.cur = newWindow(len(st.desc.Columns), 0)
	data, err := os.ReadFile(filepath.Join(st.desc.Dir, ProfileFile))
	switch {
	case st.desc.Problem != "":
		st.status, st.reason = StatusUnsupported, st.desc.Problem
	case errors.Is(err, fs.ErrNotExist):
		st.status, st.reason = StatusNoProfile, fmt.Sprintf("version %d has no %s: publish it with --train-data or an eval set, or run switchyard profile", st.desc.Version, ProfileFile)
	case err != nil:
		st.status, st.reason = StatusInvalidProfile, fmt.Sprintf("read %s: %v", ProfileFile, err)
	default:
		st.profile, err = ParseProfile(data)
		if err != nil {
			st.profile = nil
			st.status, st.reason = StatusInvalidProfile, fmt.Sprintf("%s: %v", ProfileFile, err)
		}
	}
	if name, ok := scoreName(st.profile); ok {
		st.names = append(st.names, name)
	}
	m.readPolicy(st)
	st.next = m.cfg.now().Add(st.policy.Interval)
	if st.status != StatusWaiting {
		m.log.Warn("drift: version not monitored", "model", st.desc.Model, "version", st.desc.Version, "reason", st.reason)
	}
	m.streams[src] = st
	m.publish(st)
	return st
}

// readPolicy reads the version's drift settings in force; a refused
// policy keeps the last one that was valid (the defaults at first) for
// the windows, and the version is not judged until it is fixed.
func (m *Monitor) readPolicy(st *stream) {
	p, err := st.src.Policy()
	if err == nil {
		err = p.Validate()
	}
	if err == nil {
		err = p.CheckColumns(st.names)
	}
	if err != nil {
		if st.policy.Interval == 0 {
			st.policy = DefaultPolicy()
		}
		if st.policyErr == nil || st.policyErr.Error() != err.Error() {
			m.log.Error("drift: policy refused", "model", st.desc.Model, "version", st.desc.Version, "error", err)
		}
		st.policyErr = err
	} else {
		st.policy, st.policyErr = p, nil
	}
	r, _ := m.rates.LoadOrStore(st.src, new(rate))
	r.(*rate).limit.Store(sampling.Bound(st.policy.Sample))
}

// evaluate judges every stream that is due, and forgets the versions
// that left service.
func (m *Monitor) evaluate() {
	now := m.cfg.now()
	for src, st := range m.streams {
		if !src.Serving() {
			m.forget(st)
			continue
		}
		if now.Before(st.next) {
			continue
		}
		m.readPolicy(st)
		st.next = now.Add(st.policy.Interval)
		m.judge(st, now)
	}
}

// judge judges st's newest full window (once) and its current view.
func (m *Monitor) judge(st *stream, now time.Time) {
	st.evaluated = now
	if st.cur.full(st.policy, now) {
		st.rotate()
	}
	if st.profile == nil || st.policyErr != nil {
		m.publish(st)
		return
	}
	if st.full != nil {
		st.last = judge(m.cfg.compare, &st.desc, st.profile, st.policy, st.full)
		st.spare, st.full = st.full, nil
		st.status, st.reason = StatusOK, ""
		m.record(st)
		m.alert(st, now)
	}
	m.publish(st)
}

// alert raises an alert for each column, and the dataset, whose state
// changed with st's newest judgment. A column starts without drift.
func (m *Monitor) alert(st *stream, now time.Time) {
	r := st.last
	mk := func(feature string, drifted bool, res *Result) Alert {
		return Alert{Model: st.desc.Model, Version: st.desc.Version, Feature: feature, Drifted: drifted, At: now, Result: res,
			Share: r.DatasetShare, DatasetShare: st.policy.DatasetShare, WindowStart: r.Start, WindowEnd: r.End, Rows: r.Rows}
	}
	results := r.Features
	if r.Prediction != nil {
		results = append(slices.Clip(results), *r.Prediction)
	}
	for i := range results {
		res := &results[i]
		if st.drifted[res.Column] != res.Drifted {
			st.drifted[res.Column] = res.Drifted
			m.raise(mk(res.Column, res.Drifted, res))
		}
	}
	if st.drifted[""] != r.DatasetDrift {
		st.drifted[""] = r.DatasetDrift
		m.raise(mk("", r.DatasetDrift, nil))
	}
}

// publish stores st's report for Report.
func (m *Monitor) publish(st *stream) {
	vr := VersionReport{Version: st.desc.Version, Status: st.status, Reason: st.reason, Sample: st.policy.Sample,
		Window: st.last, EvaluatedAt: st.evaluated}
	if st.profile != nil {
		vr.Profile = st.profile.Source
	}
	if st.policyErr != nil {
		vr.Status, vr.Reason = StatusInvalidPolicy, st.policyErr.Error()
	}
	if vr.Status == StatusWaiting {
		vr.Reason = fmt.Sprintf("no full window yet: %d of %d rows, or %v after the first", st.cur.rows, st.policy.WindowRows, st.policy.Window)
	}
	if st.profile != nil && st.policyErr == nil && st.cur.rows > 0 && !st.evaluated.IsZero() {
		vr.Current = judge(m.cfg.compare, &st.desc, st.profile, st.policy, st.cur)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.reports[st.desc.Model]
	if vs == nil {
		vs = map[int]VersionReport{}
		m.reports[st.desc.Model] = vs
	}
	vs[st.desc.Version] = vr
}

// forget drops a version that left service: its stream, its report and
// its metrics.
func (m *Monitor) forget(st *stream) {
	delete(m.streams, st.src)
	m.rates.Delete(st.src)
	m.metrics.remove(st.desc.Model, strconv.Itoa(st.desc.Version))
	m.mu.Lock()
	defer m.mu.Unlock()
	if vs := m.reports[st.desc.Model]; vs != nil {
		delete(vs, st.desc.Version)
		if len(vs) == 0 {
			delete(m.reports, st.desc.Model)
		}
	}
}

// Report returns the latest drift report of model, restricted to version
// when it is not 0. A model or version the monitor has not seen a
// sample of has no entry. It judges nothing: the monitor's goroutine
// does. Safe for concurrent use; nil-safe.
func (m *Monitor) Report(model string, version int) Report {
	r := Report{Model: model, Versions: []VersionReport{}}
	if m == nil {
		return r
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for v, vr := range m.reports[model] {
		if version == 0 || v == version {
			r.Versions = append(r.Versions, vr)
		}
	}
	slices.SortFunc(r.Versions, func(a, b VersionReport) int { return cmp.Compare(a.Version, b.Version) })
	return r
}
