package lead

import "github.com/prometheus/client_golang/prometheus"

// metrics are the Leader's Prometheus series.
type metrics struct {
	leader prometheus.Gauge // 1 while this replica leads
	term   prometheus.Gauge // the term held, 0 while following
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchyard_lead_leader",
			Help: "1 while this replica leads its group (its rollout controller and retrain trigger act), else 0."}),
		term: prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchyard_lead_term",
			Help: "The fencing term this replica leads in, 0 while it follows."}),
	}
	for _, c := range []prometheus.Collector{m.leader, m.term} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// set records the term held, 0 for none.
func (m *metrics) set(term int64) {
	m.term.Set(float64(term))
	if term != 0 {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}
