package batcher

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the batcher's Prometheus series for every queue of a server,
// labelled by model and version, and the cost accounting of its queues.
// Build them once with NewMetrics, pass them to each New, and run
// ShareCPU on a goroutine of the server's. Metrics are safe for
// concurrent use.
type Metrics struct {
	batchRows   *prometheus.HistogramVec
	queueTime   *prometheus.HistogramVec
	computeTime *prometheus.HistogramVec
	depth       *prometheus.GaugeVec
	rejected    *prometheus.CounterVec
	timedOut    *prometheus.CounterVec
	panics      *prometheus.CounterVec

	// mu guards live and the sampler's state (see cost_share.go).
	mu sync.Mutex
	// live holds the usage of every queue not yet closed; the cost
	// series are read from it at each scrape.
	live  map[*usage]struct{}
	share cpuShare
}

// NewMetrics creates the batcher's series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	for _, c := range []prometheus.Collector{m.batchRows, m.queueTime, m.computeTime, m.depth, m.rejected, m.timedOut, m.panics,
		(*costCollector)(m)} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func newMetrics() *Metrics {
	labels := []string{"model", "version"}
	latency := prometheus.ExponentialBuckets(10e-6, 2, 20) // 10µs .. 5s
	return &Metrics{
		live: map[*usage]struct{}{},
		batchRows: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchyard_batch_rows",
			Help:    "Rows per batch run by onnxruntime.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 .. 1024
		}, labels),
		queueTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchyard_queue_seconds",
			Help:    "Time requests wait in the batch queue before an executor takes them.",
			Buckets: latency,
		}, labels),
		computeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchyard_compute_seconds",
			Help:    "Time to run one batch, gathering and scattering rows included.",
			Buckets: latency,
		}, labels),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchyard_queue_rows",
			Help: "Rows waiting in the batch queue.",
		}, labels),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_queue_rejected_total",
			Help: "Requests refused because the batch queue was full (answered 503).",
		}, labels),
		timedOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_queue_timeouts_total",
			Help: "Requests whose deadline passed before they ran (answered 504, not run).",
		}, labels),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_batch_panics_total",
			Help: "Batches whose model run panicked; their requests were answered 500 and the version serves on.",
		}, labels),
	}
}

// versionMetrics are the children of one queue, resolved once.
type versionMetrics struct {
	parent                            *Metrics
	model, version                    string
	batchRows, queueTime, computeTime prometheus.Observer
	depth                             prometheus.Gauge
	rejected, timedOut, panics        prometheus.Counter
	usage                             *usage
}

// forVersion resolves the children for one queue and starts accounting
// for its cost. A nil m gives series that are recorded nowhere.
func (m *Metrics) forVersion(model, version string) *versionMetrics {
	if m == nil {
		m = newMetrics()
	}
	u := &usage{model: model, version: version}
	m.mu.Lock()
	m.live[u] = struct{}{}
	m.mu.Unlock()
	return &versionMetrics{
		usage:  u,
		parent: m, model: model, version: version,
		batchRows:   m.batchRows.WithLabelValues(model, version),
		queueTime:   m.queueTime.WithLabelValues(model, version),
		computeTime: m.computeTime.WithLabelValues(model, version),
		depth:       m.depth.WithLabelValues(model, version),
		rejected:    m.rejected.WithLabelValues(model, version),
		timedOut:    m.timedOut.WithLabelValues(model, version),
		panics:      m.panics.WithLabelValues(model, version),
	}
}

// delete removes the queue's series once it is closed, so an unloaded
// version stops being reported.
func (v *versionMetrics) delete() {
	m := v.parent
	m.forget(v.usage)
	m.batchRows.DeleteLabelValues(v.model, v.version)
	m.queueTime.DeleteLabelValues(v.model, v.version)
	m.computeTime.DeleteLabelValues(v.model, v.version)
	m.depth.DeleteLabelValues(v.model, v.version)
	m.rejected.DeleteLabelValues(v.model, v.version)
	m.timedOut.DeleteLabelValues(v.model, v.version)
	m.panics.DeleteLabelValues(v.model, v.version)
}
