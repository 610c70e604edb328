package quality

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchyard-ml/switchyard/tracking"
)

// The reasons of an Alarm.
const (
	// ReasonAccuracyDrop: the live accuracy fell below the version's
	// offline (gate) accuracy by more than the policy's max_accuracy_drop.
	ReasonAccuracyDrop = "accuracy_drop"
	// ReasonEstimatedAccuracyDrop: CBPE's estimated accuracy did.
	ReasonEstimatedAccuracyDrop = "estimated_accuracy_drop"
)

// Alarm is a change of state of one of a version's quality checks: the
// drop was detected (Raised) or is over.
type Alarm struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
	// Reason is ReasonAccuracyDrop or ReasonEstimatedAccuracyDrop.
	Reason string `json:"reason"`
	// Raised is true when the drop was detected, false when it is over.
	Raised bool      `json:"raised"`
	At     time.Time `json:"at"`
	// Offline is the gate's accuracy, Value the live or estimated one,
	// Drop their difference and Bound the policy's max_accuracy_drop.
	Offline float64 `json:"offline"`
	Value   float64 `json:"value"`
	Drop    float64 `json:"drop"`
	Bound   float64 `json:"bound"`
	// Rows is how many labelled predictions (or scores, for an estimate)
	// Value is over.
	Rows int `json:"rows"`
	// Message says all this in a sentence, for the log and the audit trail.
	Message string `json:"message"`
}

// Auditor records alarms in the audit trail: *tracking.Store implements
// it.
type Auditor interface {
	Audit(ctx context.Context, e tracking.Entry) error
}

// auditTimeout bounds one audit write from the monitor's goroutine.
const auditTimeout = 5 * time.Second

// check compares value with the offline accuracy under st's policy and
// raises an alarm when the state of reason changes. A version starts
// without a drop.
func (m *Monitor) check(st *stream, reason string, offline, value float64, rows int, now time.Time) {
	d, err := CheckDrop(offline, value, st.policy.MaxAccuracyDrop)
	if err != nil {
		m.log.Error("quality: drop not checked", "model", st.key.model, "version", st.key.version, "reason", reason, "error", err)
		return
	}
	if st.alarmed[reason] == d.Detected {
		return
	}
	st.alarmed[reason] = d.Detected
	a := Alarm{Model: st.key.model, Version: st.key.version, Reason: reason, Raised: d.Detected, At: now,
		Offline: offline, Value: value, Drop: d.Drop, Bound: d.Bound, Rows: rows}
	a.Message = a.message()
	m.raise(a)
}

// message is the alarm as a sentence.
func (a *Alarm) message() string {
	what := "live accuracy"
	if a.Reason == ReasonEstimatedAccuracyDrop {
		what = "estimated accuracy (CBPE)"
	}
	state := "is back within"
	if a.Raised {
		state = "fell beyond"
	}
	return fmt.Sprintf("%s/%d: %s %.3f over %d rows %s the bound: %.3f below the gate's %.3f (max_accuracy_drop %.3f)",
		a.Model, a.Version, what, a.Value, a.Rows, state, a.Drop, a.Offline, a.Bound)
}

// raise logs a, audits it and hands it to MonitorConfig.OnAlarm.
func (m *Monitor) raise(a Alarm) {
	m.metrics.alarms.Inc()
	level := slog.LevelInfo
	if a.Raised {
		level = slog.LevelWarn
	}
	m.log.Log(context.Background(), level, "quality alarm: "+a.Message, "model", a.Model, "version", a.Version,
		"reason", a.Reason, "raised", a.Raised)
	if m.cfg.Auditor != nil {
		action := "quality_recovered"
		if a.Raised {
			action = "quality_drop"
		}
		ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
		err := m.cfg.Auditor.Audit(ctx, tracking.Entry{Time: a.At, Actor: "quality", Action: action, Model: a.Model,
			Versions: []int{a.Version}, Reason: a.Message, Details: map[string]any{"reason": a.Reason, "offline_accuracy": a.Offline,
				"value": a.Value, "drop": a.Drop, "max_accuracy_drop": a.Bound, "rows": a.Rows}})
		cancel()
		if err != nil {
			m.log.Error("quality alarm not audited", "model", a.Model, "version", a.Version, "error", err)
		}
	}
	if m.cfg.OnAlarm != nil {
		m.cfg.OnAlarm(a)
	}
}
