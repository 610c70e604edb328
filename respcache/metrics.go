package respcache

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the response caches' Prometheus series, labelled by model:
// hits, misses and evictions as counters, and the bytes each cache holds
// as a gauge read when scraped. Build them once with NewMetrics and pass
// them in each Config. Safe for concurrent use.
type Metrics struct {
	hits, misses, evictions *prometheus.CounterVec
	bytes                   *prometheus.Desc

	mu sync.Mutex
	// caches holds each model's open cache, whose bytes a scrape reports.
	caches map[string]*Cache
}

// NewMetrics creates the caches' series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	if err := reg.Register(m); err != nil {
		return nil, err
	}
	return m, nil
}

func newMetrics() *Metrics {
	labels := []string{"model"}
	return &Metrics{
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_cache_hits_total",
			Help: "Requests answered from the model's response cache, without running the model.",
		}, labels),
		misses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_cache_misses_total",
			Help: "Requests the model's response cache had no answer for, which ran the model.",
		}, labels),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_cache_evictions_total",
			Help: "Answers evicted from the model's response cache to make room (expired ones are not counted).",
		}, labels),
		bytes: prometheus.NewDesc("switchyard_cache_bytes",
			"Bytes the answers in the model's response cache take, against its max_bytes.", labels, nil),
		caches: map[string]*Cache{},
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.hits.Describe(ch)
	m.misses.Describe(ch)
	m.evictions.Describe(ch)
	ch <- m.bytes
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.hits.Collect(ch)
	m.misses.Collect(ch)
	m.evictions.Collect(ch)
	m.mu.Lock()
	defer m.mu.Unlock()
	for model, c := range m.caches {
		ch <- prometheus.MustNewConstMetric(m.bytes, prometheus.GaugeValue, float64(c.bytes()), model)
	}
}

// modelMetrics are the children of one model's cache, resolved once.
type modelMetrics struct {
	parent                  *Metrics
	model                   string
	hits, misses, evictions prometheus.Counter
}

// forModel resolves the children of model's cache. A nil m gives series
// that are recorded nowhere.
func (m *Metrics) forModel(model string) *modelMetrics {
	if m == nil {
		m = newMetrics()
	}
	return &modelMetrics{parent: m, model: model,
		hits:      m.hits.WithLabelValues(model),
		misses:    m.misses.WithLabelValues(model),
		evictions: m.evictions.WithLabelValues(model),
	}
}

// add reports c's bytes as its model's from now on.
func (m *Metrics) add(c *Cache) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.caches[c.m.model] = c
	m.mu.Unlock()
}

// remove stops reporting the series of c, which is closing, unless
// another cache of its model took its place.
func (mm *modelMetrics) remove(c *Cache) {
	m := mm.parent
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.caches[mm.model] != c {
		return
	}
	delete(m.caches, mm.model)
	m.hits.DeleteLabelValues(mm.model)
	m.misses.DeleteLabelValues(mm.model)
	m.evictions.DeleteLabelValues(mm.model)
}
