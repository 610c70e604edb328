package modelstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/engine"
)

// Config configures a Store.
type Config struct {
	// Dir is the registry directory. Required.
	Dir string
	// Engine configures every session the Store opens.
	Engine engine.Config
	// Batching is the default batching of every model; a model's
	// policy.yaml overrides it field by field.
	Batching Batching
	// Metrics receives the batch queues' series. Nil records them nowhere.
	Metrics *batcher.Metrics
	// Logger receives load and unload events. Nil means slog.Default().
	Logger *slog.Logger
}

// Model is one model directory of the registry as loaded.
type Model struct {
	// Name is the model's name.
	Name string
	// Versions lists the complete versions found, ascending, whatever their
	// state. The slice is shared and must not be modified.
	Versions []*Version
}

// Serving returns the version that answers requests that name no version:
// the highest Ready one, or nil when none is ready.
func (m *Model) Serving() *Version {
	for _, v := range slices.Backward(m.Versions) {
		if v.State() == Ready {
			return v
		}
	}
	return nil
}

// Version returns the version numbered n, or nil.
func (m *Model) Version(n int) *Version {
	for _, v := range m.Versions {
		if v.Number == n {
			return v
		}
	}
	return nil
}

// Store holds the loaded models of one registry directory.
//
// Lookup, Model and Models read an immutable snapshot and are safe for
// concurrent use without locks. LoadModel, UnloadModel and Close are
// serialised with each other.
type Store struct {
	cfg Config
	log *slog.Logger
	// mu serialises the writers of models; readers never take it.
	mu     sync.Mutex
	models atomic.Pointer[map[string]*Model]
}

// Open scans the registry and loads every complete version of every model.
// A version that fails to load is kept, Failed, with its reason; only an
// unreadable registry directory makes Open fail.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("modelstore: no registry directory")
	}
	s := &Store{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	empty := map[string]*Model{}
	s.models.Store(&empty)
	names, err := listModels(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("modelstore: %w", err)
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			s.Close()
			return nil, err
		}
		if err := s.LoadModel(name); err != nil {
			s.log.Error("load model", "model", name, "error", err)
		}
	}
	return s, nil
}

// Dir returns the registry directory.
func (s *Store) Dir() string { return s.cfg.Dir }

// Lookup returns the version numbered version of model, or its serving
// version when version is 0. It fails with an error wrapping ErrNotFound
// when either does not exist and ErrNotReady when the version cannot serve.
func (s *Store) Lookup(model string, version int) (*Version, error) {
	m := (*s.models.Load())[model]
	if m == nil {
		return nil, fmt.Errorf("model %q: %w", model, ErrNotFound)
	}
	if version == 0 {
		if v := m.Serving(); v != nil {
			return v, nil
		}
		return nil, fmt.Errorf("model %q has no ready version: %w", model, ErrNotReady)
	}
	v := m.Version(version)
	if v == nil {
		return nil, fmt.Errorf("model %q version %d: %w", model, version, ErrNotFound)
	}
	if v.State() != Ready {
		return nil, fmt.Errorf("model %q version %d is %s: %w", model, version, v.State(), ErrNotReady)
	}
	return v, nil
}

// Model returns the named model, or nil.
func (s *Store) Model(name string) *Model { return (*s.models.Load())[name] }

// Models returns every known model, sorted by name.
func (s *Store) Models() []*Model {
	snap := *s.models.Load()
	out := slices.Collect(maps.Values(snap))
	slices.SortFunc(out, func(a, b *Model) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// LoadModel scans the model's directory and loads each complete version
// that is not already Ready, keeping the ones that are. It fails with an
// error wrapping ErrNotFound when the directory does not exist; versions
// that fail to load are recorded, not returned as errors.
func (s *Store) LoadModel(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Join(s.cfg.Dir, name)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("model %q: %w", name, ErrNotFound)
	}
	numbers, _, err := listVersions(dir)
	if err != nil {
		return fmt.Errorf("model %q: %w", name, err)
	}
	lc := loadConfig{engine: s.cfg.Engine, batching: s.cfg.Batching, metrics: s.cfg.Metrics}
	if p, err := readPolicy(dir); err != nil {
		lc.policyErr = err
	} else {
		lc.batching = p.Batching.apply(s.cfg.Batching)
	}
	old := (*s.models.Load())[name]
	m := &Model{Name: name}
	for _, n := range numbers {
		if old != nil {
			if v := old.Version(n); v != nil && v.State() == Ready {
				m.Versions = append(m.Versions, v)
				continue
			}
		}
		v := load(name, n, filepath.Join(dir, strconv.Itoa(n)), lc)
		if v.Err != nil {
			s.log.Error("version failed to load", "version", v)
		} else {
			s.log.Info("version loaded", "version", v, "warmup", v.WarmUp)
		}
		m.Versions = append(m.Versions, v)
	}
	s.publish(name, m)
	// Versions that vanished from disk are closed once no longer visible.
	if old != nil {
		for _, v := range old.Versions {
			if m.Version(v.Number) != v {
				v.unload()
			}
		}
	}
	return nil
}

// UnloadModel closes every session of the model, waiting for runs in
// progress. The model stays listed with its versions Unloaded until it is
// loaded again.
func (s *Store) UnloadModel(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := (*s.models.Load())[name]
	if m == nil {
		return fmt.Errorf("model %q: %w", name, ErrNotFound)
	}
	for _, v := range m.Versions {
		v.unload()
	}
	s.log.Info("model unloaded", "model", name)
	return nil
}

// Close unloads every model. The Store must not be used afterwards.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range *s.models.Load() {
		for _, v := range m.Versions {
			v.unload()
		}
	}
}

// publish replaces the snapshot with one where name maps to m. Callers hold
// s.mu.
func (s *Store) publish(name string, m *Model) {
	next := maps.Clone(*s.models.Load())
	next[name] = m
	s.models.Store(&next)
}
