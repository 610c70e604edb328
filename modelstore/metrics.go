package modelstore

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/gate"
)

// Metrics are the store's Prometheus series. Build them once with
// NewMetrics and pass them in Config.
type Metrics struct {
	versions      *prometheus.GaugeVec
	weights       *prometheus.GaugeVec
	eventsDropped prometheus.Counter
	gatePassed    *prometheus.GaugeVec
	gateMetrics   *prometheus.GaugeVec
	// persistPending is 1 while a model's rollout.json waits to be
	// written; persistFailures counts the failed writes.
	persistPending  *prometheus.GaugeVec
	persistFailures *prometheus.CounterVec
}

// NewMetrics creates the store's series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	for _, c := range []prometheus.Collector{m.versions, m.weights, m.eventsDropped, m.gatePassed, m.gateMetrics,
		m.persistPending, m.persistFailures} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func newMetrics() *Metrics {
	return &Metrics{
		versions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchyard_model_versions",
			Help: "Versions of each model on disk or in memory, by lifecycle state.",
		}, []string{"model", "state"}),
		weights: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchyard_traffic_weight_bp",
			Help: "Share of a model's requests that name no version each version takes, in basis points (10000: all).",
		}, []string{"model", "version"}),
		eventsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchyard_events_dropped_total",
			Help: "Lifecycle events not delivered because a subscriber's buffer was full.",
		}),
		gatePassed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchyard_gate_passed",
			Help: "The gate's verdict on each version it judged: 1 passed, 0 failed.",
		}, []string{"model", "version"}),
		gateMetrics: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchyard_gate_metric",
			Help: "Each metric the gate computed for a version on its whole evaluation set (NaN when undefined).",
		}, []string{"model", "version", "metric"}),
		persistPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchyard_rollout_persist_pending",
			Help: "1 while a model's rollout state is in force but not written to its rollout.json, which is retried.",
		}, []string{"model"}),
		persistFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_rollout_persist_failures_total",
			Help: "Writes of a model's rollout.json that failed (a read-only or full registry).",
		}, []string{"model"}),
	}
}

// setPersistPending sets whether model's rollout.json waits to be written.
func (m *Metrics) setPersistPending(model string, pending bool) {
	v := 0.0
	if pending {
		v = 1
	}
	m.persistPending.WithLabelValues(model).Set(v)
}

// persistFailed counts a failed write of model's rollout.json.
func (m *Metrics) persistFailed(model string) { m.persistFailures.WithLabelValues(model).Inc() }

// count sets the gauge of model from the states of its versions.
func (m *Metrics) count(model string, versions map[int]*Version) {
	var n [len(States)]int
	for _, v := range versions {
		n[v.State()]++
	}
	for _, s := range States {
		m.versions.WithLabelValues(model, s.String()).Set(float64(n[s]))
	}
}

// route sets the weights gauge of model from its arms; versions that
// left the route drop out.
func (m *Metrics) route(model string, arms map[int]int) {
	m.weights.DeletePartialMatch(prometheus.Labels{"model": model})
	for v, w := range arms {
		m.weights.WithLabelValues(model, strconv.Itoa(v)).Set(float64(w))
	}
}

// judged sets the gate's series of v from its verdict.
func (m *Metrics) judged(v *Version, verdict *gate.Verdict) {
	m.forgetVersion(v.Model, v.Label)
	passed := 0.0
	if verdict.Pass {
		passed = 1
	}
	m.gatePassed.WithLabelValues(v.Model, v.Label).Set(passed)
	for _, metric := range verdict.Metrics {
		if metric.Slice == "" {
			m.gateMetrics.WithLabelValues(v.Model, v.Label, metric.Name).Set(float64(metric.Candidate))
		}
	}
}

// forgetVersion drops the gate's series of a version that left the
// registry.
func (m *Metrics) forgetVersion(model, version string) {
	labels := prometheus.Labels{"model": model, "version": version}
	m.gatePassed.DeletePartialMatch(labels)
	m.gateMetrics.DeletePartialMatch(labels)
}

// forget drops the series of a model that is gone.
func (m *Metrics) forget(model string) {
	for _, vec := range []*prometheus.GaugeVec{m.versions, m.weights, m.gatePassed, m.gateMetrics, m.persistPending} {
		vec.DeletePartialMatch(prometheus.Labels{"model": model})
	}
	m.persistFailures.DeletePartialMatch(prometheus.Labels{"model": model})
}
