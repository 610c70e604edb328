package modelstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/rollout"
)

// The audit actions of what the reconciler changes on its own.
const (
	// ActionPolicyChanged records a valid policy.yaml edit (a file added,
	// changed or removed) and the versions it has judged again.
	ActionPolicyChanged = "policy_changed"
	// ActionGateRejudge records that the version that serves fails the
	// gate of a changed policy.yaml and serves on.
	ActionGateRejudge = "gate_rejudge"
	// ActionGateRollback records a rollout rolled back because its
	// candidate or shadow failed the gate of a changed policy.yaml.
	ActionGateRollback = "gate_rollback"
)

// actorReconciler is the actor of the rollout.json states the reconciler
// writes on its own.
const actorReconciler = "reconciler"

// ChangeAuditor is an optional interface of Config.Auditor, found by type
// assertion: it records what the reconciler changes on its own, each
// entry with an action (ActionPolicyChanged, ActionGateRollback), the
// versions concerned, a reason a person reads and details (the policy
// hashes, the versions judged again). The store calls it from a goroutine
// of its own, never the reconciler's, and keeps each model's entries in
// order. Without it the log says the same.
type ChangeAuditor interface {
	AuditChange(ctx context.Context, model, action string, versions []int, reason string, details map[string]any) error
}

// policyHash names the contents of a policy.yaml in the audit trail: the
// first 12 hex digits of its sha256, or "none" without a file.
func policyHash(data []byte) string {
	if data == nil {
		return "none"
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// policyChanged acts on a valid policy.yaml edit of m, whose policy was
// old (nil when it had none) from the file named oldHash. When the gate
// block changed, every verdict made under the old one is judged again:
//
//   - a gate running now is run again once it reports (see apply);
//   - a Ready version that serves, or is in the rollout.json in force, or
//     is newer than the one that serves, is judged again while it stays
//     Ready (startGates, then rejudged says what the verdict does);
//   - a version newer than the one that serves that failed its gate goes
//     back to Unloaded, and is judged when it loads again (the newest at
//     once, as wanted says; an older one when a person promotes it).
//
// Versions older than the one that serves (kept for a rollback) keep
// their verdicts. Every valid edit after the first read is audited with
// both hashes and the versions judged again.
func (s *Store) policyChanged(m *model, old *Policy, oldHash string) {
	var oldGate gate.Policy
	if old != nil {
		oldGate = old.Gate
	}
	details := map[string]any{"old_policy": oldHash, "new_policy": m.policy.hash}
	change := fmt.Sprintf("policy.yaml changed (sha256 %s, was %s)", m.policy.hash, oldHash)
	if reflect.DeepEqual(oldGate, m.policy.lastGood.Gate) {
		details["gate_changed"] = false
		s.log.Info(change+"; its gate block did not: no version is judged again", "model", m.name)
		s.auditChange(m, ActionPolicyChanged, nil, change+"; its gate block did not, so no version is judged again", details)
		return
	}
	m.policy.gen++
	serving := m.stable()
	st := m.desired.state
	inRollout := func(n int) bool { return st != nil && (st.Candidate == n || st.Shadow == n) }
	newer := func(n int) bool { return serving == nil || n > serving.Number }
	var rejudged, readmitted []int
	for _, n := range m.numbers() {
		v := m.versions[n]
		if v.gone {
			continue
		}
		switch state := v.State(); {
		case state == Gating && v.judging:
			rejudged = append(rejudged, n)
		case state == Ready && (v == serving || inRollout(n) || newer(n)):
			m.rejudge[v] = true
			rejudged = append(rejudged, n)
		case state == Failed && v.gateFailed && newer(n):
			v.gateFailed = false
			s.transition(v, Unloaded, "policy.yaml's gate block changed: judged again when it loads")
			readmitted = append(readmitted, n)
		}
	}
	details["gate_changed"] = true
	details["rejudged"] = rejudged
	details["readmitted"] = readmitted
	var b strings.Builder
	b.WriteString(change)
	b.WriteString("; its gate block changed: ")
	switch {
	case len(rejudged) == 0 && len(readmitted) == 0:
		b.WriteString("no version was judged under the old one")
	case len(rejudged) > 0:
		fmt.Fprintf(&b, "%s judged again", versionsAre(rejudged))
		if serving != nil {
			fmt.Fprintf(&b, " (version %d serves on whatever its verdict)", serving.Number)
		}
	}
	if len(readmitted) > 0 {
		if len(rejudged) > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s judged again when loaded (failed under the old gate)", versionsAre(readmitted))
	}
	s.log.Info(b.String(), "model", m.name)
	s.auditChange(m, ActionPolicyChanged, append(rejudged, readmitted...), b.String(), details)
}

// rejudged applies the verdict of a gate run again on a Ready version
// (phaseRejudged). A verdict made under a gate block that changed again
// meanwhile is dropped and the gate runs once more. Otherwise the
// verdict is kept, and:
//
//   - a pass, or a failure rollout.json overrides, leaves the version
//     Ready, with the new verdict in its reason (no event: nothing moved);
//   - the version that serves stays Ready and serves on, its failure in
//     its reason, the log and the audit: switchyard never takes the only
//     serving version out of service on its own;
//   - the candidate or shadow of the rollout in force fails, and the
//     rollout rolls back (stable keeps all traffic), written to
//     rollout.json and audited as ActionGateRollback;
//   - any other version fails, as at its first gate.
func (s *Store) rejudged(ctx context.Context, o outcome) {
	v := o.v
	v.judging = false
	m := s.models[v.Model]
	if m == nil || m.versions[v.Number] != v || v.State() != Ready || o.err != nil {
		return // it left service while judged, or the store is closing
	}
	if o.gen != m.policy.gen {
		m.rejudge[v] = true
		return
	}
	v.verdict.Store(o.verdict)
	s.metrics.judged(v, o.verdict)
	st := m.desired.state
	reasons := strings.Join(o.verdict.Reasons, " ")
	switch {
	case o.verdict.Pass:
		s.note(m, v, "passed the gate of the changed policy.yaml: "+reasons)
	case st.Overrides(v.Number):
		s.note(m, v, fmt.Sprintf("fails the gate of the changed policy.yaml, and serves anyway: rollout.json overrides the verdict (%s: %s)", st.Actor, st.Reason))
	case v == m.stable():
		reason := "serves, though it fails the gate of the changed policy.yaml (promote a version that passes, or roll back, to replace it): " + reasons
		s.log.Warn("the version that serves fails the gate of the changed policy.yaml; it serves on", "model", v.Model, "version", v.Number, "reasons", reasons)
		s.note(m, v, reason)
		s.auditChange(m, ActionGateRejudge, []int{v.Number}, fmt.Sprintf("version %d %s", v.Number, reason),
			map[string]any{"policy": m.policy.hash, "version": v.Number, "pass": false})
	case st != nil && (st.Candidate == v.Number || st.Shadow == v.Number):
		v.gateFailed = true
		s.fail(ctx, v, verdictReason(o.verdict))
		next := &rollout.State{Stable: st.Stable, Strategy: rollout.Manual, GateOverrides: st.GateOverrides, UpdatedAt: time.Now().UTC(),
			Actor: actorReconciler, Reason: fmt.Sprintf("version %d failed the gate of the changed policy.yaml: %s", v.Number, reasons)}
		data, err := rollout.EncodeState(next)
		if err != nil {
			panic(fmt.Sprintf("BUG: a rollback state does not encode: %v", err))
		}
		// Memory first, as Desire does: the route drops the candidate
		// before the disk is touched.
		m.desired.state = next
		s.route(m)
		s.persist(m, next, data)
		s.log.Warn("rollout rolled back: its candidate fails the gate of the changed policy.yaml", "model", v.Model,
			"stable", next.Stable, "candidate", v.Number, "reasons", reasons)
		s.auditChange(m, ActionGateRollback, []int{next.Stable, v.Number}, next.Reason,
			map[string]any{"policy": m.policy.hash, "state": next})
	default:
		v.gateFailed = true
		s.fail(ctx, v, verdictReason(o.verdict))
	}
}

// note replaces the reason of v, which stays in its state: a new verdict
// that changes nothing is no transition, and publishes no event.
func (s *Store) note(m *model, v *Version, reason string) {
	v.setState(v.State(), reason)
	s.snapshot(m)
	s.log.Info("version judged again", "model", v.Model, "version", v.Number, "state", v.State().String(), "reason", reason)
}

// auditChange hands an entry to Config.Auditor when it is a
// ChangeAuditor, on a goroutine of its own that waits for the model's
// previous one, so that the trail keeps their order.
func (s *Store) auditChange(m *model, action string, versions []int, reason string, details map[string]any) {
	a, ok := s.cfg.Auditor.(ChangeAuditor)
	if !ok {
		return
	}
	prev, done := m.audits, make(chan struct{})
	m.audits = done
	name := m.name
	s.work.Go(func() {
		defer close(done)
		if prev != nil {
			<-prev
		}
		ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
		defer cancel()
		if err := a.AuditChange(ctx, name, action, versions, reason, details); err != nil {
			s.log.Error("change not audited", "model", name, "action", action, "error", err)
		}
	})
}

// versionsAre writes ns as "version 2 is" or "versions 2, 3 and 4 are".
func versionsAre(ns []int) string {
	if len(ns) == 1 {
		return fmt.Sprintf("version %d is", ns[0])
	}
	var b strings.Builder
	b.WriteString("versions ")
	for i, n := range ns {
		switch {
		case i == 0:
		case i == len(ns)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprint(&b, n)
	}
	b.WriteString(" are")
	return b.String()
}
