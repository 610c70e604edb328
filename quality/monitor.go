package quality

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/tracking"
)

// Versions is what the monitor needs to know of the versions it measures.
// The server adapts its model store to it. The monitor calls it from its
// own goroutine only.
type Versions interface {
	// Describe says what version of model is, where its calibration lies
	// and what the gate measured offline; false once the version no
	// longer serves (or never did), after which the monitor forgets it.
	// It is called when the version is first seen and at each judgment.
	Describe(model string, version int) (Description, bool)
	// Policy returns the model's quality settings in force (the defaults
	// without a quality block), so that an edit of policy.yaml takes
	// effect at the next judgment.
	Policy(model string) (Policy, error)
}

// History reads the labelled predictions already logged, so that a
// restarted server does not forget its windows: *tracking.Store
// implements it.
type History interface {
	Labelled(ctx context.Context, model string, version int, since time.Time, last int) iter.Seq2[tracking.Prediction, error]
}

// Description is what the monitor knows of a version.
type Description struct {
	// Kind is what the version predicts; empty when the monitor cannot
	// measure it, and Problem then says why.
	Kind Kind
	// Classes are the class names of a classifier in order, so that a
	// label given by name finds its index; nil accepts indexes only.
	Classes []string
	// ClassCount is the number of classes of a Multiclass version.
	ClassCount int
	// Dir is the version's directory, where CalibrationFile lies.
	Dir string
	// Offline holds the figures the gate measured on the version's
	// evaluation set, for comparison.
	Offline Metrics
	// Problem says why the version is not measured.
	Problem string
}

// Metrics are a version's quality figures, live or measured by the gate
// offline on its evaluation set; a figure not measured is nil.
type Metrics struct {
	Accuracy *float64 `json:"accuracy,omitempty"`
	AUC      *float64 `json:"auc,omitempty"`
	LogLoss  *float64 `json:"log_loss,omitempty"`
	RMSE     *float64 `json:"rmse,omitempty"`
	MAE      *float64 `json:"mae,omitempty"`
}

// MonitorConfig configures a Monitor. Zero values mean the defaults named.
type MonitorConfig struct {
	// Versions describes the versions measured; required.
	Versions Versions
	// History, when set, fills a version's labelled window from the
	// prediction log when the monitor first sees the version; nil starts
	// every window empty.
	History History
	// Queue is how many batches (of predictions or of labels) may wait
	// for the monitor; past it a batch is dropped and counted
	// (switchyard_quality_dropped_total). 0 means DefaultQueue.
	Queue int
	// Tick is how often the monitor looks for versions due for judgment
	// (each at its policy's interval). 0 means DefaultTick.
	Tick time.Duration
	// Auditor receives an entry per alarm (actor "quality"); nil audits
	// nothing.
	Auditor Auditor
	// OnAlarm, when set, is called from the monitor's goroutine with each
	// alarm raised or cleared. It must not block: hand the alarm on by a
	// non-blocking send.
	OnAlarm func(Alarm)
	// Logger receives the alarms and the monitor's problems; nil means
	// slog.Default().
	Logger *slog.Logger

	// now stands in for time.Now in tests.
	now func() time.Time
}

// The monitor's defaults.
const (
	DefaultQueue = 256
	DefaultTick  = time.Second
)

// Monitor is the live quality sidecar: it receives the logged
// predictions' scores (Predicted) and the labels joined to them
// (Labelled), keeps per version a window of labelled predictions and a
// window of scores, judges them on the policy's schedule (live metrics,
// CBPE estimate, alarms against the gate's offline accuracy), exports the
// results as metrics and keeps the latest report of each version (Report,
// Reports, Accuracy). Run is its one goroutine, which owns every stream;
// the other methods are safe for concurrent use.
type Monitor struct {
	cfg     MonitorConfig
	log     *slog.Logger
	metrics *metrics

	feed chan feedBatch
	// started is when the monitor was made: labels joined since may come
	// both from History and from the feed.
	started time.Time

	// streams is owned by Run.
	streams map[streamKey]*stream

	// mu guards reports, written by Run, read by Report, Reports and
	// Accuracy.
	mu      sync.Mutex
	reports map[string]map[int]VersionReport
}

// streamKey names a version.
type streamKey struct {
	model   string
	version int
}

// NewMonitor returns a Monitor whose metrics are registered with reg.
func NewMonitor(cfg MonitorConfig, reg prometheus.Registerer) (*Monitor, error) {
	if reg == nil {
		return nil, errors.New("quality: a metrics registry is required")
	}
	if cfg.Versions == nil {
		return nil, errors.New("quality: the monitor needs its Versions")
	}
	if cfg.Queue < 0 || cfg.Tick < 0 {
		return nil, errors.New("quality: negative monitor setting")
	}
	cfg.Queue = cmp.Or(cfg.Queue, DefaultQueue)
	cfg.Tick = cmp.Or(cfg.Tick, DefaultTick)
	if cfg.now == nil {
		cfg.now = time.Now
	}
	met, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	return &Monitor{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()), metrics: met,
		feed: make(chan feedBatch, cfg.Queue), started: cfg.now(), streams: map[streamKey]*stream{},
		reports: map[string]map[int]VersionReport{}}, nil
}

// Run is the monitor's goroutine: it takes the batches fed to it and
// judges the versions due, until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	tick := time.NewTicker(m.cfg.Tick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-m.feed:
			m.take(ctx, b)
		case <-tick.C:
			m.drain(ctx)
			m.evaluate(ctx)
		}
	}
}

// drain takes the batches waiting, at most a queue's worth.
func (m *Monitor) drain(ctx context.Context) {
	for range cap(m.feed) {
		select {
		case b := <-m.feed:
			m.take(ctx, b)
		default:
			return
		}
	}
}

// evaluate judges every stream that is due, and forgets the versions
// that left service.
func (m *Monitor) evaluate(ctx context.Context) {
	now := m.cfg.now()
	for key, st := range m.streams {
		desc, ok := m.cfg.Versions.Describe(key.model, key.version)
		if !ok {
			m.forget(st)
			continue
		}
		if now.Before(st.next) {
			continue
		}
		st.desc.Offline = desc.Offline
		m.judge(ctx, st, now)
	}
}

// forget drops a version that left service: its stream, its report and
// its metrics.
func (m *Monitor) forget(st *stream) {
	delete(m.streams, st.key)
	m.metrics.remove(st.key)
	m.mu.Lock()
	defer m.mu.Unlock()
	if vs := m.reports[st.key.model]; vs != nil {
		delete(vs, st.key.version)
		if len(vs) == 0 {
			delete(m.reports, st.key.model)
		}
	}
}
