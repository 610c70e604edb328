package quality

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the monitor's Prometheus series. Their cardinality is
// bounded by the versions serving; a version that leaves service loses
// its series.
type metrics struct {
	// gauges are the per-version figures, by name.
	gauges                    map[string]*prometheus.GaugeVec
	dropped, unusable, alarms prometheus.Counter
	// byClass counts a classifier's logged predictions by the class
	// predicted.
	byClass *prometheus.CounterVec
}

// The per-version gauges, by the name they are kept under.
const (
	gaugeAccuracy          = "switchyard_quality_accuracy"
	gaugeAUC               = "switchyard_quality_auc"
	gaugeLogLoss           = "switchyard_quality_log_loss"
	gaugeRMSE              = "switchyard_quality_rmse"
	gaugeMAE               = "switchyard_quality_mae"
	gaugeDelay             = "switchyard_quality_label_delay_median_seconds"
	gaugeShare             = "switchyard_quality_labelled_share"
	gaugeLabelled          = "switchyard_quality_labelled_predictions"
	gaugeEstimatedAccuracy = "switchyard_quality_estimated_accuracy"
	gaugeEstimatedAUC      = "switchyard_quality_estimated_auc"
)

var gaugeHelp = map[string]string{
	gaugeAccuracy:          "Live accuracy of a version over its window of labelled predictions.",
	gaugeAUC:               "Live ROC AUC of a binary classifier over its window of labelled predictions.",
	gaugeLogLoss:           "Live log loss of a binary classifier over its window of labelled predictions.",
	gaugeRMSE:              "Live root mean squared error of a regressor over its window of labelled predictions.",
	gaugeMAE:               "Live mean absolute error of a regressor over its window of labelled predictions.",
	gaugeDelay:             "Median time from prediction to label over a version's window of labelled predictions.",
	gaugeShare:             "Share of a version's logged predictions over its window's span that have a label.",
	gaugeLabelled:          "Labelled predictions in a version's live window.",
	gaugeEstimatedAccuracy: "Accuracy of a binary classifier estimated by CBPE from its latest scores, before labels.",
	gaugeEstimatedAUC:      "ROC AUC of a binary classifier estimated by CBPE from its latest scores, before labels.",
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{gauges: map[string]*prometheus.GaugeVec{},
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_quality_dropped_total",
			Help: "Predictions and labels dropped because the quality monitor was behind."}),
		unusable: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_quality_unusable_labels_total",
			Help: "Labels the quality monitor could not measure (a label naming no class, a prediction of several rows)."}),
		alarms: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_quality_alarms_total",
			Help: "Quality alarms raised or cleared (changes of state)."}),
		byClass: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchyard_predictions_by_class_total",
			Help: "A classifier's logged predictions of one row, by the class predicted (the prediction log's sample)."},
			[]string{"model", "version", "class"}),
	}
	cs := []prometheus.Collector{m.dropped, m.unusable, m.alarms, m.byClass}
	for name, help := range gaugeHelp {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"model", "version"})
		m.gauges[name] = g
		cs = append(cs, g)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// record sets the gauges of a version's report; a figure it lacks has no
// series.
func (m *Monitor) record(key streamKey, vr *VersionReport) {
	version := strconv.Itoa(key.version)
	set := func(name string, v *float64) {
		g := m.metrics.gauges[name]
		if v == nil {
			g.DeleteLabelValues(key.model, version)
			return
		}
		g.WithLabelValues(key.model, version).Set(*v)
	}
	r := &vr.Live
	set(gaugeAccuracy, r.Accuracy)
	set(gaugeAUC, r.AUC)
	set(gaugeLogLoss, r.LogLoss)
	set(gaugeRMSE, r.RMSE)
	set(gaugeMAE, r.MAE)
	set(gaugeShare, r.LabelledShare)
	labelled := float64(r.Labelled)
	set(gaugeLabelled, &labelled)
	var delay *float64
	if r.Labelled > 0 {
		delay = ptr(r.DelayMedian.Seconds())
	}
	set(gaugeDelay, delay)
	var estAcc, estAUC *float64
	if e := vr.Estimated; e != nil {
		estAcc, estAUC = &e.Accuracy, e.AUC
	}
	set(gaugeEstimatedAccuracy, estAcc)
	set(gaugeEstimatedAUC, estAUC)
}

// remove deletes the series of a version.
func (m *metrics) remove(key streamKey) {
	labels := prometheus.Labels{"model": key.model, "version": strconv.Itoa(key.version)}
	for _, g := range m.gauges {
		g.DeletePartialMatch(labels)
	}
	m.byClass.DeletePartialMatch(labels)
}

// countClass counts s, a logged prediction of st's version, by the class
// it predicted: for a binary classifier the positive class when its
// probability is at least 0.5, for a multiclass one the class its score
// names (modelstore's score rule). A prediction of several rows, a
// regressor's and an unreadable score are not counted.
func (m *metrics) countClass(st *stream, s scored) {
	d := &st.desc
	if s.rows != 1 || math.IsNaN(s.score) {
		return
	}
	var class, k int
	switch d.Kind {
	case Binary:
		k = 2
		if s.score >= 0.5 {
			class = 1
		}
	case Multiclass:
		k = d.ClassCount
		x := math.Round(s.score * float64(k-1))
		if !(x >= 0 && x < float64(k)) {
			return
		}
		class = int(x)
	default:
		return
	}
	if st.byClass == nil {
		st.byClass = make([]prometheus.Counter, k)
	}
	if class >= len(st.byClass) {
		return
	}
	c := st.byClass[class]
	if c == nil {
		name := strconv.Itoa(class)
		if class < len(d.Classes) {
			name = d.Classes[class]
		}
		c = m.byClass.WithLabelValues(st.key.model, strconv.Itoa(st.key.version), name)
		st.byClass[class] = c
	}
	c.Inc()
}
