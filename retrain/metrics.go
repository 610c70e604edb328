package retrain

import "github.com/prometheus/client_golang/prometheus"

// metrics are the Runner's Prometheus series; their labels are a few
// fixed words, never a model's name.
type metrics struct {
	runs    *prometheus.CounterVec
	skipped *prometheus.CounterVec
	dropped prometheus.Counter
	running prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchyard_retrain_runs_total",
			Help: "Retraining runs that ended, by result: succeeded, failed, timeout, stopped."}, []string{"result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchyard_retrain_skipped_total",
			Help: "Alarms that started no retraining, by why: running, cooldown, not_configured (the policy does not list the alarm), policy_error, not_leader (another replica leads)."},
			[]string{"reason"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_retrain_dropped_total",
			Help: "Alarms dropped because the retraining runner's queue was full."}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchyard_retrain_running",
			Help: "Retraining commands running now."}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.skipped, m.dropped, m.running} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
