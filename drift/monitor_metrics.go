package drift

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the monitor's Prometheus series. Their cardinality is
// bounded by the versions serving and their columns (names, never
// values); a version that leaves service loses its series.
type metrics struct {
	score, detected               *prometheus.GaugeVec
	share                         *prometheus.GaugeVec
	dropped                       prometheus.Counter
	alerts                        prometheus.Counter
	webhookDropped, webhookFailed prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		score: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchyard_drift_score",
			Help: "Drift score of a column in the newest full window: the p-value for ks, chisquare and z, else the distance."},
			[]string{"model", "version", "feature"}),
		detected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchyard_drift_detected",
			Help: "1 when the column drifted in the newest full window, else 0."}, []string{"model", "version", "feature"}),
		share: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchyard_dataset_drift_share",
			Help: "Share of a version's features that drifted in the newest full window."}, []string{"model", "version"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_drift_dropped_total",
			Help: "Sampled predictions dropped because the drift monitor was behind."}),
		alerts: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_drift_alerts_total",
			Help: "Drift alerts raised (changes of drift state)."}),
		webhookDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_drift_webhook_dropped_total",
			Help: "Drift alerts not sent to the webhook because its queue was full."}),
		webhookFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_drift_webhook_failed_total",
			Help: "Drift alerts the webhook did not accept after every retry."}),
	}
	for _, c := range []prometheus.Collector{m.score, m.detected, m.share, m.dropped, m.alerts, m.webhookDropped, m.webhookFailed} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// record sets the gauges of st's newest judgment.
func (m *Monitor) record(st *stream) {
	r, version := st.last, strconv.Itoa(st.desc.Version)
	set := func(res *Result) {
		score := res.Statistic
		if res.PValue != nil {
			score = *res.PValue
		}
		detected := 0.0
		if res.Drifted {
			detected = 1
		}
		m.metrics.score.WithLabelValues(st.desc.Model, version, res.Column).Set(score)
		m.metrics.detected.WithLabelValues(st.desc.Model, version, res.Column).Set(detected)
	}
	for i := range r.Features {
		set(&r.Features[i])
	}
	if r.Prediction != nil {
		set(r.Prediction)
	}
	m.metrics.share.WithLabelValues(st.desc.Model, version).Set(r.DatasetShare)
}

// remove deletes the series of a version.
func (m *metrics) remove(model, version string) {
	labels := prometheus.Labels{"model": model, "version": version}
	m.score.DeletePartialMatch(labels)
	m.detected.DeletePartialMatch(labels)
	m.share.DeletePartialMatch(labels)
}
