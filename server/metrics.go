package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// metrics are the server's Prometheus series. Requests are labelled by
// model, version and status; a request that named no known model is
// counted with empty model and version labels, so clients cannot grow the
// label set.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	panics   prometheus.Counter
	// shadowRequests and shadowDropped count shadow copies by model.
	shadowRequests, shadowDropped *prometheus.CounterVec
	// ok caches, per *modelstore.Version, the children for status 200,
	// resolved once instead of on every request.
	ok sync.Map
}

type okChildren struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_requests_total",
			Help: "Inference requests answered, by model, version and HTTP status.",
		}, []string{"model", "version", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchyard_request_duration_seconds",
			Help:    "Time from routing an inference request to its response, by model, version and HTTP status.",
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 18), // 25µs .. 3.3s
		}, []string{"model", "version", "status"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchyard_handler_panics_total",
			Help: "Handler panics recovered and answered with 500.",
		}),
	}
	m.shadowRequests, m.shadowDropped = shadowMetrics()
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.panics, m.shadowRequests, m.shadowDropped} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe records one answered inference request. v is nil when the
// request reached no version.
func (m *metrics) observe(v *modelstore.Version, status int, d time.Duration) {
	if v != nil && status == 200 {
		c, ok := m.ok.Load(v)
		if !ok {
			c, _ = m.ok.LoadOrStore(v, &okChildren{
				requests: m.requests.WithLabelValues(v.Model, v.Label, "200"),
				latency:  m.latency.WithLabelValues(v.Model, v.Label, "200"),
			})
		}
		oc := c.(*okChildren)
		oc.requests.Inc()
		oc.latency.Observe(d.Seconds())
		return
	}
	model, version := "", ""
	if v != nil {
		model, version = v.Model, v.Label
	}
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(model, version, code).Inc()
	m.latency.WithLabelValues(model, version, code).Observe(d.Seconds())
}

// forget drops the series and cached children of a version that left
// memory, so that loading and unloading versions does not grow the
// metrics without bound. It runs off the hot path, on the server's event
// subscriber. The series stay while another load of the same number
// serves.
func (m *metrics) forget(model string, version int) {
	live := false
	m.ok.Range(func(k, _ any) bool {
		v := k.(*modelstore.Version)
		if v.Model != model || v.Number != version {
			return true
		}
		switch v.State() {
		case modelstore.Unloaded, modelstore.Failed:
			m.ok.Delete(k)
		default:
			live = true
		}
		return true
	})
	if live {
		return
	}
	labels := prometheus.Labels{"model": model, "version": strconv.Itoa(version)}
	m.requests.DeletePartialMatch(labels)
	m.latency.DeletePartialMatch(labels)
}
