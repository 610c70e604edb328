package modelstore

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/respcache"
	"github.com/switchyard-ml/switchyard/rollout"
)

// Version is one version of a model as the Store knows it: one load of
// one version directory. Loading the same number again makes a new
// Version.
//
// The exported fields are set before the Version can be routed to and
// never change afterwards, so they may be read without locks once State
// has returned Ready (or Gating, Draining). State, Reason, Acquire,
// Release, Infer and Run are safe for concurrent use.
type Version struct {
	// Model is the model's name.
	Model string
	// Number is the version number.
	Number int
	// Label is Number in decimal, ready for headers and metric labels.
	Label string
	// Dir is the version's directory.
	Dir string
	// Manifest is the parsed manifest.json, or nil if it was not read.
	Manifest *Manifest
	// Signature is the model's inputs and outputs; nil unless loaded.
	Signature *engine.Signature
	// Features is where the manifest's records schema (Manifest.SchemaOf)
	// puts each feature in the model's inputs, checked against Signature
	// when the version loaded; nil when the manifest has no features.
	Features *FeaturePlacement
	// LoadedAt is when loading finished.
	LoadedAt time.Time
	// WarmUp is how long the warm-up run took.
	WarmUp time.Duration
	// Cost is the resident memory the version added when it loaded, in
	// bytes: the growth of the process's RSS across the load, at least
	// the size of model.onnx.
	Cost int64
	// Batching is the batching configuration the version runs with, after
	// policy.yaml and the server's defaults. A version without a batch axis
	// has MaxBatchSize 1.
	Batching Batching

	// Stats counts what this load of the version answered, and keeps its
	// latest requests as samples, for the rollout controller: the server
	// records each request's outcome through Version.RecordSuccess (with
	// its outputs' scores) and Version.RecordError. Safe for concurrent
	// use.
	Stats rollout.ArmStats
	// Agreement counts how this version, as a shadow, agreed with the
	// stable version on the requests copied to it. Safe for concurrent
	// use.
	Agreement rollout.AgreementStats

	status atomic.Pointer[status]
	// verdict is the gate's verdict, once it has judged this load.
	verdict atomic.Pointer[gate.Verdict]
	// score says where the model's score lies in its outputs; set by load.
	score scoreRule
	// live holds the model's settings that apply per request.
	live *liveSettings
	// loadID tells this load apart from every other load of any version
	// in the process, for the response cache's key; set by the reconciler
	// before the load starts, 0 for a Version that never loads.
	loadID uint64

	// inflight counts the requests holding the version (Acquire).
	inflight atomic.Int64
	// idle is closed once the version is Draining and no request holds it.
	idle     chan struct{}
	idleOnce sync.Once

	// session, queue and runner are set by load before the version can be
	// routed to, and released by shutdown.
	session   *engine.Session
	queue     *batcher.Queue[*Request]
	runner    *runner
	batchable bool
	// mu guards closed: Run holds it shared, shutdown exclusively while it
	// closes the session, so a session is never closed under a Run.
	mu     sync.RWMutex
	closed bool
	// loadTook is how long load took; set by the loader.
	loadTook time.Duration

	// Owned by the reconciler goroutine.
	gone          bool  // the version's directory has left the registry
	reserved      int64 // resident memory counted against the budget
	policyFailure bool  // Failed because policy.yaml was invalid
	gateFailed    bool  // Failed by the gate's verdict
	judging       bool  // its gate has started
}

// status is a state with the reason the version entered it.
type status struct {
	state  State
	reason string
}

// liveSettings are the settings of a model read per request, shared by
// its versions: a policy.yaml edit changes them at once.
type liveSettings struct {
	timeout atomic.Int64 // time.Duration
	// cache is the model's response cache, nil while policy.yaml has no
	// cache block. The reconciler sets and closes it (applyCache).
	cache atomic.Pointer[respcache.Cache]
}

func newVersion(model string, number int, dir string, live *liveSettings) *Version {
	v := &Version{Model: model, Number: number, Label: strconv.Itoa(number), Dir: dir, live: live, idle: make(chan struct{}),
		score: scoreRule{output: -1}}
	v.status.Store(&status{state: Unloaded})
	return v
}

// Verdict returns the gate's verdict on the version, or nil before the
// gate has judged it. The verdict must not be modified.
func (v *Version) Verdict() *gate.Verdict { return v.verdict.Load() }

// State returns the version's current state.
func (v *Version) State() State { return v.status.Load().state }

// Reason says why the version entered its current state: the load error
// of a Failed version, why one is Draining, and so on.
func (v *Version) Reason() string { return v.status.Load().reason }

// DefaultTimeout is the deadline of a request that sets none, from the
// model's policy.yaml or the server's default; 0 means none. An edit of
// policy.yaml changes it at once.
func (v *Version) DefaultTimeout() time.Duration { return time.Duration(v.live.timeout.Load()) }

// setState records a transition; only the reconciler calls it.
func (v *Version) setState(s State, reason string) {
	v.status.Store(&status{state: s, reason: reason})
	if s == Draining && v.inflight.Load() == 0 {
		v.markIdle()
	}
}

// Acquire reports whether v takes a request. If it does, v stays in
// service until the matching Release: a Draining version is closed only
// once every holder has released it, so a request that acquired a version
// always finishes on it. Acquire fails once v is no longer Ready; the
// caller then reads the routing table again, which no longer routes to v.
func (v *Version) Acquire() bool {
	v.inflight.Add(1)
	if v.State() != Ready {
		v.Release()
		return false
	}
	return true
}

// Release ends a hold taken by a successful Acquire.
func (v *Version) Release() {
	if v.inflight.Add(-1) == 0 && v.State() == Draining {
		v.markIdle()
	}
}

func (v *Version) markIdle() { v.idleOnce.Do(func() { close(v.idle) }) }

// loaded reports whether v holds its session and batch queue, settled by
// its loader: it is Gating, Ready or Draining.
func (v *Version) loaded() bool {
	switch v.State() {
	case Gating, Ready, Draining:
		return true
	}
	return false
}

// ComputeCost returns what this load of the version has cost since it
// loaded (see batcher.Cost: the gate's run on its evaluation set counts
// too), with the price per core-hour in force for its model. ok is false
// when the version is not loaded (Gating, Ready or Draining). It is safe
// for concurrent use.
func (v *Version) ComputeCost() (c batcher.Cost, ok bool) {
	if !v.loaded() {
		return batcher.Cost{}, false
	}
	return v.queue.Cost(), true
}

// Run runs the version's model directly, outside the batch queue; see
// engine.Session.Run for the contract on in and out. It returns an error
// wrapping ErrNotReady when the version holds no session.
func (v *Version) Run(in, out []engine.Tensor) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.session == nil || v.closed {
		return fmt.Errorf("%s/%d: %w", v.Model, v.Number, ErrNotReady)
	}
	return v.session.Run(in, out)
}

// LogValue reports the version as structured log attributes.
func (v *Version) LogValue() slog.Value {
	st := v.status.Load()
	attrs := []slog.Attr{
		slog.String("model", v.Model),
		slog.Int("version", v.Number),
		slog.String("state", st.state.String()),
	}
	if st.reason != "" {
		attrs = append(attrs, slog.String("reason", st.reason))
	}
	return slog.GroupValue(attrs...)
}

// drain waits until no request holds v, which must be Draining, or until
// ctx is done, then shuts it down. It reports what went wrong; a version
// whose running batch did not end in time keeps its session, which is
// leaked rather than freed under onnxruntime.
func (v *Version) drain(ctx context.Context) error {
	select {
	case <-v.idle:
	case <-ctx.Done():
		return fmt.Errorf("drain %s/%d: %d requests still hold it: %w", v.Model, v.Number, v.inflight.Load(), ctx.Err())
	}
	return v.shutdown(ctx)
}

// shutdown closes the queue, failing what waits in it, then the session,
// once running batches have ended (or ctx is done: then the session is
// left open). It is a no-op for a version without a session.
func (v *Version) shutdown(ctx context.Context) error {
	if v.queue == nil {
		return nil
	}
	if err := v.queue.Close(ctx); err != nil {
		return fmt.Errorf("close %s/%d: %w", v.Model, v.Number, err)
	}
	v.runner.close()
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed {
		v.session.Close()
		v.closed = true
	}
	return nil
}
