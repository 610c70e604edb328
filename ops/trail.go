package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TrailStore is where a Trail writes and reads: *tracking.Store
// implements it.
type TrailStore interface {
	// Audit appends an entry to the audit trail; AuditLog reads it.
	Audit(ctx context.Context, e tracking.Entry) error
	AuditLog(ctx context.Context, q tracking.AuditQuery) ([]tracking.Entry, error)
	// RecordVerdict keeps a gate's verdict.
	RecordVerdict(ctx context.Context, v tracking.Verdict) error
}

// The audit actions of a rollout.json that cannot be written, and the
// actors of what the server decides on its own.
const (
	actionPersistFailing  = "persist_failing"
	actionPersistResolved = "persist_resolved"
	actorReconciler       = "reconciler"
	actorController       = "controller"
)

// Trail records in the tracking store what the server decides on its own
// (the store's reconciler, the gate, the rollout controller) and recalls,
// after a restart, a rollout state that was in force but never written.
// It implements modelstore.Auditor, modelstore.PersistAuditor,
// modelstore.ChangeAuditor, modelstore.PendingWrites,
// modelstore.VerdictRecorder and rollout.Auditor. Its methods may be called concurrently.
type Trail struct{ st TrailStore }

// NewTrail returns a Trail over st.
func NewTrail(st TrailStore) Trail { return Trail{st: st} }

var (
	_ modelstore.Auditor         = Trail{}
	_ modelstore.PersistAuditor  = Trail{}
	_ modelstore.ChangeAuditor   = Trail{}
	_ modelstore.PendingWrites   = Trail{}
	_ modelstore.VerdictRecorder = Trail{}
	_ rollout.Auditor            = Trail{}
)

// AuditRefusal records, with the actor "reconciler", a rollout.json or
// policy the store refused.
func (t Trail) AuditRefusal(ctx context.Context, model, reason string) error {
	return t.st.Audit(ctx, tracking.Entry{Actor: actorReconciler, Action: "refuse", Model: model, Reason: reason})
}

// AuditPersistFailing records that model's rollout.json cannot be
// written; the state in force goes in the details, for PendingState.
func (t Trail) AuditPersistFailing(ctx context.Context, model string, st *rollout.State, reason string) error {
	return t.st.Audit(ctx, tracking.Entry{Actor: actorReconciler, Action: actionPersistFailing, Model: model, Reason: reason,
		Details: map[string]any{"state": st}})
}

// AuditPersistResolved records that model's rollout.json write is no
// longer pending.
func (t Trail) AuditPersistResolved(ctx context.Context, model, reason string) error {
	return t.st.Audit(ctx, tracking.Entry{Actor: actorReconciler, Action: actionPersistResolved, Model: model, Reason: reason})
}

// AuditChange records, with the actor "reconciler", what the store
// changed on its own, such as a policy.yaml edit that has versions judged
// again.
func (t Trail) AuditChange(ctx context.Context, model, action string, versions []int, reason string, details map[string]any) error {
	return t.st.Audit(ctx, tracking.Entry{Actor: actorReconciler, Action: action, Model: model, Versions: versions,
		Reason: reason, Details: details})
}

// PendingState returns the state of model's latest persist_failing entry
// when no persist_resolved entry followed it, and nil otherwise.
func (t Trail) PendingState(ctx context.Context, model string) (*rollout.State, error) {
	entries, err := t.st.AuditLog(ctx, tracking.AuditQuery{Model: model,
		Actions: []string{actionPersistFailing, actionPersistResolved}, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("recall the unwritten rollout state of %s: %w", model, err)
	}
	if len(entries) == 0 || entries[0].Action != actionPersistFailing {
		return nil, nil
	}
	raw, err := json.Marshal(entries[0].Details["state"])
	if err != nil {
		return nil, fmt.Errorf("recall the unwritten rollout state of %s: %w", model, err)
	}
	st, err := rollout.ParseState(raw)
	if err != nil {
		return nil, fmt.Errorf("recall the unwritten rollout state of %s from audit entry %d: %w", model, entries[0].ID, err)
	}
	return st, nil
}

// RecordVerdict keeps a gate's verdict on a version in the tracking
// store, which audits it with the actor "gate".
func (t Trail) RecordVerdict(ctx context.Context, model string, version int, v *gate.Verdict) error {
	detail, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode verdict: %w", err)
	}
	return t.st.RecordVerdict(ctx, tracking.Verdict{Model: model, Version: version, Pass: v.Pass,
		Reason: strings.Join(v.Reasons, " "), Detail: detail})
}

// AuditDecision records a rollout controller's decision, with the actor
// "controller".
func (t Trail) AuditDecision(ctx context.Context, model, action string, versions []int, reason string, details map[string]any) error {
	return t.st.Audit(ctx, tracking.Entry{Actor: actorController, Action: action, Model: model, Versions: versions,
		Reason: reason, Details: details})
}
