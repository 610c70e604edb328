package ops

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// LifecycleBuffer is the buffer a subscription read by AuditLifecycle or
// WakeOnLifecycle should have: room for the events of a shutdown of a
// large registry (two per loaded version) while the audit trail commits.
const LifecycleBuffer = 1024

// auditTimeout bounds each audit write of AuditLifecycle.
const auditTimeout = 10 * time.Second

// lifecycleActor is the actor of the audit entries AuditLifecycle writes.
const lifecycleActor = "lifecycle"

// Auditor is where AuditLifecycle writes: *tracking.Store implements it.
type Auditor interface {
	// Audit appends an entry to the audit trail.
	Audit(ctx context.Context, e tracking.Entry) error
}

// AuditLifecycle writes an audit entry, with the actor "lifecycle", for
// each version transition on sub worth one, until sub's channel closes
// (the Store closed, or sub was closed) or ctx is done. The caller runs it
// on a goroutine of its own and owns its end: it returns once the Store's
// Close has delivered the events of the shutdown and they are written, so
// a caller that waits for it before closing the tracking store loses none.
//
// The entries, each with the version, the Store's reason and the states
// in Details ("from", "to"):
//   - "loaded": the version became Ready and may serve.
//   - "failed": the version failed to load or was refused before loading
//     (a bad hash, manifest or policy.yaml, the memory budget). A version
//     the gate fails is not recorded again: its verdict is audited as
//     gate_fail by the VerdictRecorder, with its numbers.
//   - "drained": the version left service: it was Draining and is now
//     closed. Details add "drain_seconds" when the start of the drain was
//     seen. Draining itself is not recorded: this entry carries its
//     reason, once the version is closed.
//
// Loading and Gating are not recorded: they come with every load and say
// nothing a "loaded" or "failed" entry does not. Nor is a Failed version
// made Unloaded to be tried again (an explicit load, a policy.yaml made
// valid, a gate override): its next "loaded" or "failed" entry follows.
//
// The Store never waits for this goroutine: an event that finds sub full
// is dropped and counted there (Subscription.Dropped), and AuditLifecycle
// logs how many when it returns. An entry that cannot be written is
// logged and skipped.
func AuditLifecycle(ctx context.Context, sub *modelstore.Subscription, a Auditor, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	defer func() {
		if n := sub.Dropped(); n > 0 {
			log.Warn("lifecycle events dropped before they were audited", "dropped", n)
		}
	}()
	draining := map[versionKey]time.Time{} // when each version began to drain
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			k := versionKey{e.Model, e.Version}
			if e.To == modelstore.Draining {
				draining[k] = e.Time
			}
			entry, ok := lifecycleEntry(e)
			if !ok {
				continue
			}
			if e.To == modelstore.Unloaded {
				if began, ok := draining[k]; ok {
					entry.Details["drain_seconds"] = e.Time.Sub(began).Seconds()
					delete(draining, k)
				}
			}
			actx, cancel := context.WithTimeout(ctx, auditTimeout)
			err := a.Audit(actx, entry)
			cancel()
			if err != nil {
				log.Error("lifecycle event not audited", "model", e.Model, "version", e.Version, "action", entry.Action, "error", err)
			}
		}
	}
}

// versionKey names a version of a model.
type versionKey struct {
	model   string
	version int
}

// lifecycleEntry returns the audit entry of e, and false when e is not
// worth one (see AuditLifecycle).
func lifecycleEntry(e modelstore.Event) (tracking.Entry, bool) {
	var action string
	switch {
	case e.To == modelstore.Ready:
		action = "loaded"
	case e.To == modelstore.Failed && e.From != modelstore.Gating:
		action = "failed"
	case e.To == modelstore.Unloaded && e.From == modelstore.Draining:
		action = "drained"
	default:
		return tracking.Entry{}, false
	}
	return tracking.Entry{Time: e.Time, Actor: lifecycleActor, Action: action, Model: e.Model, Versions: []int{e.Version},
		Reason: e.Reason, Details: map[string]any{"from": e.From.String(), "to": e.To.String()}}, true
}

// WakeOnLifecycle calls wake for each event on sub that may let a rollout
// move, a version becoming Ready or Failed, until sub's channel closes or
// ctx is done. It is meant for rollout.Controller.Wake, which never blocks
// and merges wake-ups, so that the controller looks at a new candidate at
// once instead of at its next tick. The caller runs it on a goroutine of
// its own and owns its end.
func WakeOnLifecycle(ctx context.Context, sub *modelstore.Subscription, wake func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if e.To == modelstore.Ready || e.To == modelstore.Failed {
				wake()
			}
		}
	}
}
