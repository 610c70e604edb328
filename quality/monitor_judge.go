package quality

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// judge computes st's report at now: the live window's quality, CBPE's
// estimate, the alarms' states; it sets the gauges and publishes the
// report.
func (m *Monitor) judge(ctx context.Context, st *stream, now time.Time) {
	old := st.policy
	m.readPolicy(st)
	st.next = now.Add(st.policy.Interval)
	vr := VersionReport{Version: st.key.version, Kind: st.desc.Kind, Status: StatusOK, Offline: st.desc.Offline,
		MinLabels: st.policy.MinLabels, MaxAccuracyDrop: st.policy.MaxAccuracyDrop, Unusable: st.unusable,
		Alarms: []string{}, EvaluatedAt: now}
	if st.live == nil {
		vr.Status, vr.Reason = StatusUnsupported, st.desc.Problem
		m.publish(st, vr)
		return
	}
	if st.policy.Window != old.Window || st.policy.MaxAge != old.MaxAge {
		// The window's bounds changed: read it again from the log.
		m.fill(ctx, st)
	}
	st.prune(now)
	live, err := m.live(st, now)
	if err != nil {
		// The window's invariants make this a bug; say so and keep going.
		m.log.Error("quality: BUG: live report", "model", st.key.model, "version", st.key.version, "error", err)
	}
	vr.Live = live
	if live.Labelled < st.policy.MinLabels {
		vr.Status, vr.Reason = StatusWaiting, fmt.Sprintf("%d of the %d labelled predictions min_labels asks for", live.Labelled, st.policy.MinLabels)
	}
	if st.policyErr != nil {
		vr.Status, vr.Reason = StatusInvalidPolicy, st.policyErr.Error()
	}
	vr.Estimated, vr.EstimateReason = m.estimate(st)

	if off := st.desc.Offline.Accuracy; off != nil {
		if live.Accuracy != nil && live.Labelled >= st.policy.MinLabels {
			m.check(st, ReasonAccuracyDrop, *off, *live.Accuracy, live.Labelled, now)
		}
		if vr.Estimated != nil {
			m.check(st, ReasonEstimatedAccuracyDrop, *off, vr.Estimated.Accuracy, vr.Estimated.Rows, now)
		}
	}
	for reason, on := range st.alarmed {
		if on {
			vr.Alarms = append(vr.Alarms, reason)
		}
	}
	slices.Sort(vr.Alarms)
	m.record(st.key, &vr)
	m.publish(st, vr)
}

// live reports st's live window at now.
func (m *Monitor) live(st *stream, now time.Time) (Report, error) {
	n := len(st.liveAt)
	since := now.Add(-st.policy.MaxAge)
	if n > 0 {
		since = slices.MinFunc(st.liveAt, func(a, b time.Time) int { return a.Compare(b) })
	}
	counted, complete := st.predicted(since)
	rep, err := st.live.Report(now, max(counted, n))
	if err != nil {
		return rep, err
	}
	if !complete || counted < n {
		// Some labelled predictions were made before the monitor counted
		// predictions: the share over the span is unknown.
		rep.Predicted, rep.LabelledShare = counted, nil
	}
	if st.desc.Kind == Multiclass {
		// The log keeps the predicted class, not the probabilities: the
		// window's log loss would be that of one-hot rows.
		rep.LogLoss = nil
	}
	return rep, nil
}

// estimate returns CBPE's estimate over st's latest scores, or why there
// is none.
func (m *Monitor) estimate(st *stream) (*Estimated, string) {
	if st.cal == nil {
		return nil, st.calReason
	}
	if len(st.scores) < st.policy.MinLabels {
		return nil, fmt.Sprintf("%d of the %d scores min_labels asks for", len(st.scores), st.policy.MinLabels)
	}
	scores := make([]float64, len(st.scores))
	for i, s := range st.scores {
		scores[i] = s.score
	}
	est, err := Estimate(st.cal, scores)
	if err != nil {
		return nil, err.Error()
	}
	return &est, ""
}
