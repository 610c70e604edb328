package modelstore

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/respcache"
	"github.com/switchyard-ml/switchyard/rollout"
)

// Defaults of Config.
const (
	DefaultKeepPrevious   = 1
	DefaultRescanInterval = 30 * time.Second
	DefaultDebounce       = 25 * time.Millisecond
	DefaultDrainTimeout   = 30 * time.Second
)

// Config configures a Store. The zero value of every field but Dir is
// valid: see each field for what its zero means.
type Config struct {
	// Dir is the registry directory. Required.
	Dir string
	// Engine configures every session the Store opens.
	Engine engine.Config
	// Batching is the default batching of every model; a model's
	// policy.yaml overrides it field by field.
	Batching Batching
	// KeepPrevious is how many ready versions below the stable one stay
	// loaded for an instant rollback, unless a model's policy.yaml says
	// otherwise. 0 means DefaultKeepPrevious; negative means none.
	KeepPrevious int
	// MemoryBudget bounds the resident memory that loaded versions may
	// take, in bytes. A version that would not fit fails with the numbers
	// in its reason; what serves is never unloaded to make room. 0 means
	// no bound.
	MemoryBudget int64
	// MaxModelBytes bounds the size of a model.onnx the store loads,
	// together with the extra files its manifest records; a larger one
	// (or one that is not a regular file) fails before it is read, naming
	// the limit. 0 means DefaultMaxModelBytes.
	MaxModelBytes int64
	// RescanInterval is how often the whole registry is rescanned, for
	// events the watcher missed and for network filesystems. 0 means
	// DefaultRescanInterval; negative means never.
	RescanInterval time.Duration
	// Debounce is how long the watcher gathers filesystem events before
	// the reconciler acts on them. 0 means DefaultDebounce.
	Debounce time.Duration
	// DrainTimeout bounds how long a version leaving service waits for
	// the requests that hold it; past it the version is closed anyway, or
	// leaked if a batch is still running. 0 means DefaultDrainTimeout.
	DrainTimeout time.Duration
	// Rollout is the server-wide rollout policy that a model's
	// policy.yaml overrides key by key. The zero value means
	// rollout.DefaultPolicy().
	Rollout rollout.Policy
	// Verdicts keeps the gate's verdicts (see the gate block of
	// policy.yaml). Nil keeps them in memory and the log only.
	Verdicts VerdictRecorder
	// Auditor records what the store refuses on its own, such as a
	// malformed rollout.json, and, when it is a PersistAuditor too, when
	// rollout.json starts and stops failing to be written. Nil records
	// them in the log only.
	Auditor Auditor
	// PendingWrites recalls at start the rollout state that was in force
	// but never written before a restart, so that a stale rollout.json
	// (a canary whose rollback could not be written) does not come back.
	// Nil means rollout.json applies as it stands, and the controller
	// judges a stale canary again from scratch.
	PendingWrites PendingWrites
	// PersistRetry is the first wait before a rollout.json that could not
	// be written is written again; it doubles with each failure, up to a
	// minute (or PersistRetry, when longer). 0 means DefaultPersistRetry.
	PersistRetry time.Duration
	// CostPerCoreHour is the price of a core-hour of compute in dollars,
	// which gives each version's dollars per 1,000 predictions (see
	// batcher.Cost) unless a model's policy.yaml cost block says
	// otherwise. 0 means no price.
	CostPerCoreHour float64
	// Metrics receives the store's series; BatchMetrics the batch queues';
	// CacheMetrics the response caches'. Nil records them nowhere.
	Metrics      *Metrics
	BatchMetrics *batcher.Metrics
	CacheMetrics *respcache.Metrics
	// Logger receives lifecycle events. Nil means slog.Default().
	Logger *slog.Logger
}

// Auditor records an entry in the audit trail on the store's behalf. The
// store calls it from a goroutine of its own, never the reconciler's.
type Auditor interface {
	AuditRefusal(ctx context.Context, model, reason string) error
}

// Model is a model directory as the Store last reconciled it. It is a
// snapshot that never changes; the states of its versions do.
type Model struct {
	// Name is the model's name.
	Name string
	// Versions lists the versions on disk or still in memory, ascending,
	// whatever their state. The slice must not be modified.
	Versions []*Version
	// Stable is the version that takes the model's traffic, or nil.
	Stable *Version
	// Rollout is the rollout.json in force, or nil without one. It must
	// not be modified.
	Rollout *rollout.State
	// Policy is the model's rollout policy: its policy.yaml over the
	// server's defaults.
	Policy rollout.Policy
	// PersistError is why Rollout, the state in force, could not be
	// written to rollout.json, whose content is then stale; "" when the
	// file holds it. The reconciler writes it again with backoff, and
	// the state in force serves meanwhile. PersistFailingSince is when
	// the writes began to fail.
	PersistError        string
	PersistFailingSince time.Time
}

// Version returns the version numbered n, or nil.
func (m *Model) Version(n int) *Version {
	i, ok := slices.BinarySearchFunc(m.Versions, n, func(v *Version, n int) int { return cmp.Compare(v.Number, n) })
	if !ok {
		return nil
	}
	return m.Versions[i]
}

// Store holds the models of one registry directory and owns their
// lifecycle.
//
// One reconciler goroutine, started by Open and ended by Close, owns the
// version map and makes every transition; the watcher, the rescan timer
// and the methods below only signal it. Loading, gating and draining run
// on goroutines of their own and report back to it, so nothing a request
// needs waits on them. Readers (the request path) use Table, Lookup,
// Model and Models, which read immutable snapshots without locks.
type Store struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics

	router rollout.Router[*Version]
	snap   atomic.Pointer[map[string]*Model]
	events hub

	commands chan command
	changed  chan []string
	outcomes chan outcome
	cancel   context.CancelFunc // ends the reconciler and the watcher
	done     chan struct{}      // closed when both have ended
	// work tracks the load, gate and drain goroutines.
	work sync.WaitGroup

	// Owned by the reconciler goroutine (run); Close reads them after it
	// has ended.
	models  map[string]*model
	loading *Version
	// loads counts the loads started, numbering each (Version.loadID).
	loads   uint64
	waiters []waiter
	// busy counts the load, gate and drain goroutines whose outcome the
	// reconciler has not received yet.
	busy int
	// retry fires when the earliest pending rollout.json write is due;
	// persistAudits is closed once the latest persist audit is written.
	retry         *time.Timer
	persistAudits chan struct{}
}

// Open starts the Store on the registry at cfg.Dir: it scans it, loads
// what should serve, and returns once that first pass has settled (every
// version it started to load is Ready or Failed) or ctx is done. From then
// on it watches the registry until Close. Only an unreadable registry
// directory, a bad Config or ctx make Open fail.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: no registry directory", ErrConfig)
	}
	if _, err := os.ReadDir(cfg.Dir); err != nil {
		return nil, fmt.Errorf("modelstore: read registry: %w", err)
	}
	if cfg.MemoryBudget < 0 || cfg.MaxModelBytes < 0 {
		return nil, fmt.Errorf("%w: negative memory budget %d or model size limit %d", ErrConfig, cfg.MemoryBudget, cfg.MaxModelBytes)
	}
	if !validPrice(cfg.CostPerCoreHour) {
		return nil, fmt.Errorf("%w: price per core-hour %v; want dollars, 0 or more", ErrConfig, cfg.CostPerCoreHour)
	}
	if cfg.KeepPrevious == 0 {
		cfg.KeepPrevious = DefaultKeepPrevious
	}
	if cfg.KeepPrevious < 0 {
		cfg.KeepPrevious = 0
	}
	if cfg.RescanInterval == 0 {
		cfg.RescanInterval = DefaultRescanInterval
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = DefaultDebounce
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.PersistRetry <= 0 {
		cfg.PersistRetry = DefaultPersistRetry
	}
	if cfg.Rollout.Steps == nil {
		cfg.Rollout = rollout.DefaultPolicy()
	}
	if err := cfg.Rollout.Validate(); err != nil {
		return nil, fmt.Errorf("modelstore: %w", err)
	}
	s := &Store{
		cfg:      cfg,
		log:      cfg.Logger,
		metrics:  cfg.Metrics,
		commands: make(chan command),
		changed:  make(chan []string, 1),
		outcomes: make(chan outcome),
		done:     make(chan struct{}),
		models:   map[string]*model{},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.metrics == nil {
		s.metrics = newMetrics()
	}
	s.events.dropped = s.metrics.eventsDropped.Inc
	empty := map[string]*Model{}
	s.snap.Store(&empty)
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	w := s.startWatcher(runCtx)
	go func() {
		defer close(s.done)
		s.run(runCtx)
		w.wait()
	}()
	if err := s.Rescan(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Dir returns the registry directory.
func (s *Store) Dir() string { return s.cfg.Dir }

// Table returns the live routing table: per model, the version that takes
// its traffic and the ready versions a request may name. It is read-only.
func (s *Store) Table() *rollout.Table[*Version] { return s.router.Table() }

// Lookup returns the version that serves model's requests that name no
// version (version 0) or the ready version numbered version. It fails
// with an error wrapping ErrNotFound when the model or version does not
// exist and ErrNotReady, with the version's state and reason, when it
// cannot serve. It does not hold the version: see Version.Acquire.
func (s *Store) Lookup(model string, version int) (*Version, error) {
	rt := s.Table().Route(model)
	var v *Version
	var ok bool
	if version == 0 {
		v, ok = rt.Pick()
	} else {
		v, ok = rt.Version(version)
	}
	if ok {
		return v, nil
	}
	return nil, s.notServing(model, version)
}

// notServing explains why the table routes no request to model's version
// (0: to the model).
func (s *Store) notServing(model string, version int) error {
	m := s.Model(model)
	if m == nil {
		return fmt.Errorf("model %q: %w", model, ErrNotFound)
	}
	if version == 0 {
		for _, v := range slices.Backward(m.Versions) {
			if v.State() == Failed {
				return &notReadyError{fmt.Sprintf("model %q has no version ready to serve: version %d %s", model, v.Number, failure(v.Reason()))}
			}
		}
		return &notReadyError{fmt.Sprintf("model %q has no version ready to serve", model)}
	}
	v := m.Version(version)
	if v == nil {
		return fmt.Errorf("model %q version %d: %w", model, version, ErrNotFound)
	}
	if v.State() == Failed {
		return &notReadyError{fmt.Sprintf("model %q version %d %s", model, version, failure(v.Reason()))}
	}
	msg := fmt.Sprintf("model %q version %d is %s", model, version, v.State())
	if r := v.Reason(); r != "" {
		msg += ": " + strings.TrimSuffix(r, ".")
	}
	return &notReadyError{msg}
}

// failure says why a version failed, from its reason, for a sentence
// that names the version first: "failed its gate: auc 0.4 < 0.8".
func failure(reason string) string {
	reason = strings.TrimSuffix(strings.TrimSpace(reason), ".")
	if r, ok := strings.CutPrefix(reason, "gate: "); ok {
		return "failed its gate: " + r
	}
	if reason == "" {
		return "failed"
	}
	return "failed: " + reason
}

// Model returns the named model, or nil.
func (s *Store) Model(name string) *Model { return (*s.snap.Load())[name] }

// Models returns every known model, sorted by name.
func (s *Store) Models() []*Model {
	out := slices.Collect(maps.Values(*s.snap.Load()))
	slices.SortFunc(out, func(a, b *Model) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Subscribe returns a subscription to every lifecycle event from now on,
// buffered for buffer events. The caller must drain C promptly and Close
// the subscription when done; a full buffer drops events.
func (s *Store) Subscribe(buffer int) *Subscription { return s.events.subscribe(buffer) }

// Rescan asks the reconciler to compare the whole registry with what is
// loaded and act, and waits until that has settled or ctx is done. It does
// not retry Failed versions.
func (s *Store) Rescan(ctx context.Context) error { return s.ask(ctx, command{op: opRescan}) }

// Load asks the reconciler to rescan the named model, retry its Failed
// versions and load what should serve, even after Unload, and waits until
// nothing of the model is loading or ctx is done. It fails with an error
// wrapping ErrNotFound when the model's directory does not exist. A
// version that fails to load is not an error of Load: its state and
// reason say so.
func (s *Store) Load(ctx context.Context, name string) error {
	return s.ask(ctx, command{op: opLoad, model: name})
}

// Unload asks the reconciler to drain and unload every version of the
// named model and keep it unloaded until Load, and waits until that is
// done or ctx is done. It fails with an error wrapping ErrNotFound for an
// unknown model.
func (s *Store) Unload(ctx context.Context, name string) error {
	return s.ask(ctx, command{op: opUnload, model: name})
}

// ask hands c to the reconciler and waits for its answer.
func (s *Store) ask(ctx context.Context, c command) error {
	c.done = make(chan error, 1)
	select {
	case s.commands <- c:
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.done:
		return err
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops watching and asks the reconciler to shut down: it lets the
// loads, gates and drains in progress finish, drains and unloads every
// version (each within DrainTimeout; requests that hold a version finish
// on it), publishing each transition as an event, and only then does
// Close close every subscription. It returns once all of that is done.
// The Store must not be used afterwards; Close may be called more than
// once, from one goroutine.
func (s *Store) Close() {
	s.cancel()
	<-s.done
	s.work.Wait()
	for _, m := range s.models {
		s.applyCache(m, nil)
	}
	s.models = map[string]*model{}
	s.events.close()
}
