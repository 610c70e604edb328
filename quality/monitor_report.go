package quality

import (
	"cmp"
	"slices"
	"time"
)

// The statuses of a VersionReport.
const (
	// StatusOK: the live figures are over at least the policy's
	// min_labels labelled predictions.
	StatusOK = "ok"
	// StatusWaiting: too few labels yet; the figures shown are over what
	// there is, and neither the rollout controller nor the accuracy_drop
	// alarm uses them.
	StatusWaiting = "waiting"
	// StatusUnsupported: the monitor cannot measure the version (Reason
	// says why).
	StatusUnsupported = "unsupported"
	// StatusInvalidPolicy: the model's quality block is refused; the
	// version is judged with the last valid settings (Reason says why).
	StatusInvalidPolicy = "invalid_policy"
)

// VersionReport is the latest judgment of one version's live quality.
type VersionReport struct {
	Version int    `json:"version"`
	Kind    Kind   `json:"kind,omitempty"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	// Live is the live window's quality. Live.Predicted counts the
	// predictions logged over the window's span; its LabelledShare is nil
	// when the window reaches back before the monitor started counting
	// them (after a restart).
	Live Report `json:"live"`
	// Offline is the gate's figures on the evaluation set, for comparison.
	Offline Metrics `json:"offline"`
	// Estimated is CBPE's estimate over the latest scores, nil without
	// one; EstimateReason then says why (no calibration, not a binary
	// classifier, too few scores).
	Estimated      *Estimated `json:"estimated,omitempty"`
	EstimateReason string     `json:"estimate_reason,omitempty"`
	// Alarms are the alarm reasons in force, sorted.
	Alarms []string `json:"alarms"`
	// MinLabels and MaxAccuracyDrop are the policy's, for reading the
	// figures.
	MinLabels       int     `json:"min_labels"`
	MaxAccuracyDrop float64 `json:"max_accuracy_drop"`
	// Unusable counts the labels the monitor could not measure (a label
	// naming no class, a prediction of several rows).
	Unusable    int       `json:"unusable_labels,omitempty"`
	EvaluatedAt time.Time `json:"evaluated_at,omitzero"`
}

// publish stores vr as st's latest report.
func (m *Monitor) publish(st *stream, vr VersionReport) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.reports[st.key.model]
	if vs == nil {
		vs = map[int]VersionReport{}
		m.reports[st.key.model] = vs
	}
	vs[st.key.version] = vr
}

// Report returns the latest report of version of model, and false when
// the monitor has not seen the version (no prediction or label of it
// since it served). Safe for concurrent use; nil-safe.
func (m *Monitor) Report(model string, version int) (VersionReport, bool) {
	if m == nil {
		return VersionReport{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vr, ok := m.reports[model][version]
	return vr, ok
}

// Reports returns the latest report of each version of model the monitor
// has seen, by version. Safe for concurrent use; nil-safe.
func (m *Monitor) Reports(model string) []VersionReport {
	out := []VersionReport{}
	if m == nil {
		return out
	}
	m.mu.Lock()
	for _, vr := range m.reports[model] {
		out = append(out, vr)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b VersionReport) int { return cmp.Compare(a.Version, b.Version) })
	return out
}

// Accuracy returns version's live accuracy at its latest judgment, and
// false until its window holds at least the policy's min_labels labelled
// predictions (or when the version is not measured). It implements
// rollout.Accuracy. Safe for concurrent use; nil-safe.
func (m *Monitor) Accuracy(model string, version int) (float64, bool) {
	vr, ok := m.Report(model, version)
	if !ok || vr.Live.Accuracy == nil || vr.Live.Labelled < vr.MinLabels || vr.Status == StatusUnsupported {
		return 0, false
	}
	return *vr.Live.Accuracy, true
}
