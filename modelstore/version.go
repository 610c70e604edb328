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
)

// State is where a version is in its lifecycle.
type State int32

// The lifecycle of a version: Loading until its session is open and warm,
// then Ready, or Failed with a reason; Unloaded once its session is closed.
const (
	Loading State = iota
	Ready
	Failed
	Unloaded
)

var stateNames = [...]string{Loading: "LOADING", Ready: "READY", Failed: "FAILED", Unloaded: "UNLOADED"}

// String returns the state's name in upper case, as the repository API
// reports it.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// Version is one version of a model as the Store knows it.
//
// The exported fields are set before the Version is published by the Store
// and never change afterwards, so they may be read without locks. State and
// Run are safe for concurrent use.
type Version struct {
	// Model is the model's name.
	Model string
	// Number is the version number.
	Number int
	// Label is Number in decimal, ready for headers and metric labels.
	Label string
	// Dir is the version's directory.
	Dir string
	// Manifest is the parsed manifest.json, or nil if it could not be read.
	Manifest *Manifest
	// Signature is the model's inputs and outputs; empty if loading failed.
	Signature *engine.Signature
	// Err says why the version failed to load; nil unless State is Failed.
	Err error
	// LoadedAt is when loading finished.
	LoadedAt time.Time
	// WarmUp is how long the warm-up run took.
	WarmUp time.Duration
	// Batching is the batching configuration the version runs with, after
	// policy.yaml and the server's defaults. A version without a batch axis
	// has MaxBatchSize 1.
	Batching Batching

	state atomic.Int32
	// session, queue and batchable are set by load before the version is
	// published and never change; the session is closed by unload.
	session   *engine.Session
	queue     *batcher.Queue[*Request]
	runner    *runner
	batchable bool
	// mu guards closed: Run holds it shared, unload exclusively while it
	// closes the session, so a session is never closed under a Run.
	mu     sync.RWMutex
	closed bool
}

// State returns the version's current state.
func (v *Version) State() State { return State(v.state.Load()) }

// Run runs the version's model directly, outside the batch queue; see
// engine.Session.Run for the contract on in and out. It returns an error
// wrapping ErrNotReady when the version is not loaded.
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
	attrs := []slog.Attr{
		slog.String("model", v.Model),
		slog.Int("version", v.Number),
		slog.String("state", v.State().String()),
	}
	if v.Err != nil {
		attrs = append(attrs, slog.String("error", v.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

// unload closes the queue, failing what waits in it, then the session,
// waiting for runs in progress to finish.
func (v *Version) unload() {
	if v.State() != Ready {
		return
	}
	v.state.Store(int32(Unloaded))
	v.queue.Close(context.Background())
	v.runner.close()
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed {
		v.session.Close()
		v.closed = true
	}
}

func newVersion(model string, number int, dir string) *Version {
	return &Version{Model: model, Number: number, Label: strconv.Itoa(number), Dir: dir}
}
