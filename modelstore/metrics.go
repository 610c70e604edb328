package modelstore

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the store's Prometheus series. Build them once with
// NewMetrics and pass them in Config.
type Metrics struct {
	versions      *prometheus.GaugeVec
	weights       *prometheus.GaugeVec
	eventsDropped prometheus.Counter
}

// NewMetrics creates the store's series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	for _, c := range []prometheus.Collector{m.versions, m.weights, m.eventsDropped} {
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
	}
}

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

// forget drops the series of a model that is gone.
func (m *Metrics) forget(model string) {
	m.versions.DeletePartialMatch(prometheus.Labels{"model": model})
	m.weights.DeletePartialMatch(prometheus.Labels{"model": model})
}
