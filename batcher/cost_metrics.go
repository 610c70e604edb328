package batcher

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The cost series, read at each scrape from the live queues' usage, so
// that a closed queue's series leave with it and the hot path touches no
// Prometheus value for them.
var (
	costComputeDesc = prometheus.NewDesc("switchyard_cost_compute_seconds_total",
		"Compute seconds charged to the version: the wall time of its model runs plus its share, by requests, of the rest of the process's CPU time.",
		[]string{"model", "version"}, nil)
	costPredictionsDesc = prometheus.NewDesc("switchyard_cost_predictions_total",
		"Predictions the version made: rows of the batches that succeeded.",
		[]string{"model", "version"}, nil)
	costDollarsDesc = prometheus.NewDesc("switchyard_cost_per_1k_predictions_dollars",
		"What 1,000 of the version's predictions cost at the price per core-hour (--cost-per-core-hour or policy.yaml cost.per_core_hour); absent without a price.",
		[]string{"model", "version"}, nil)
)

// costCollector exports the cost series of a Metrics.
type costCollector Metrics

// Describe sends the cost series' descriptions.
func (c *costCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- costComputeDesc
	ch <- costPredictionsDesc
	ch <- costDollarsDesc
}

// Collect sends each live version's cost. Two loads of one version that
// are live at once (one draining) are summed under its labels.
func (c *costCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*Metrics)(c)
	type key struct{ model, version string }
	sums := map[key]Cost{}
	m.mu.Lock()
	for u := range m.live {
		k, uc := key{u.model, u.version}, u.cost()
		s := sums[k]
		s.ModelSeconds += uc.ModelSeconds
		s.ProcessSeconds += uc.ProcessSeconds
		s.Requests += uc.Requests
		s.Predictions += uc.Predictions
		s.PerCoreHour = max(s.PerCoreHour, uc.PerCoreHour)
		sums[k] = s
	}
	m.mu.Unlock()
	for k, s := range sums {
		ch <- prometheus.MustNewConstMetric(costComputeDesc, prometheus.CounterValue, s.ComputeSeconds(), k.model, k.version)
		ch <- prometheus.MustNewConstMetric(costPredictionsDesc, prometheus.CounterValue, float64(s.Predictions), k.model, k.version)
		if d, ok := s.DollarsPer1k(); ok {
			ch <- prometheus.MustNewConstMetric(costDollarsDesc, prometheus.GaugeValue, d, k.model, k.version)
		}
	}
}
