package modelstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-ml/switchyard/batcher"
)

// PolicyFile is the optional per-model settings file.
const PolicyFile = "policy.yaml"

// Policy is a model's policy.yaml. Blocks other issues will define (gate,
// cache, drift) are accepted and not yet read; unknown keys are refused,
// so that a typo does not silently leave a default in force.
type Policy struct {
	// Batching overrides the server's batching defaults for this model.
	Batching BatchingPolicy `yaml:"batching"`
	// Rollout says how new versions reach traffic.
	Rollout RolloutPolicy `yaml:"rollout"`

	Gate  yaml.Node `yaml:"gate"`
	Cache yaml.Node `yaml:"cache"`
	Drift yaml.Node `yaml:"drift"`
}

// RolloutPolicy is the rollout block of policy.yaml. A field left out
// keeps the server's default.
type RolloutPolicy struct {
	// KeepPrevious is how many ready versions below the stable one stay
	// loaded for an instant rollback.
	KeepPrevious *int `yaml:"keep_previous"`
}

// maxKeepPrevious bounds keep_previous, to refuse a value that is surely a
// mistake.
const maxKeepPrevious = 16

// BatchingPolicy is the batching block of policy.yaml. A field left out
// keeps the server's default.
type BatchingPolicy struct {
	// MaxBatchSize is the most rows batched together; 1 turns batching off.
	MaxBatchSize *int `yaml:"max_batch_size"`
	// MaxQueueDelay is how long a batch may wait for more rows, such as
	// "500us" or "2ms".
	MaxQueueDelay *Duration `yaml:"max_queue_delay"`
	// PreferredBatchSizes are batch sizes worth waiting for.
	PreferredBatchSizes []int `yaml:"preferred_batch_sizes"`
	// Executors is how many batches may run at once.
	Executors *int `yaml:"executors"`
	// MaxQueueSize is the most rows that may wait before requests get 503.
	MaxQueueSize *int `yaml:"max_queue_size"`
	// Timeout is the default deadline of a request that sets none, such as
	// "2s"; "0s" means none.
	Timeout *Duration `yaml:"timeout"`
}

// Duration is a time.Duration written in YAML as Go duration text.
type Duration time.Duration

// UnmarshalYAML parses text such as "250us" or "2s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// Limits on batching settings, to refuse a value that is surely a mistake.
const (
	maxExecutors     = 256
	maxQueueDelayCap = 10 * time.Second
)

// ParsePolicy decodes and validates a policy.yaml. Errors wrap ErrPolicy.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	if err := p.Batching.validate(); err != nil {
		return nil, fmt.Errorf("%w: batching: %w", ErrPolicy, err)
	}
	if k := p.Rollout.KeepPrevious; k != nil && (*k < 0 || *k > maxKeepPrevious) {
		return nil, fmt.Errorf("%w: rollout: keep_previous %d: must be between 0 and %d", ErrPolicy, *k, maxKeepPrevious)
	}
	return &p, nil
}

func (b *BatchingPolicy) validate() error {
	switch {
	case b.MaxBatchSize != nil && *b.MaxBatchSize < 1:
		return fmt.Errorf("max_batch_size %d: must be at least 1 (1 turns batching off)", *b.MaxBatchSize)
	case b.MaxQueueDelay != nil && (*b.MaxQueueDelay < 0 || time.Duration(*b.MaxQueueDelay) > maxQueueDelayCap):
		return fmt.Errorf("max_queue_delay %v: must be between 0 and %v", time.Duration(*b.MaxQueueDelay), maxQueueDelayCap)
	case b.Executors != nil && (*b.Executors < 1 || *b.Executors > maxExecutors):
		return fmt.Errorf("executors %d: must be between 1 and %d", *b.Executors, maxExecutors)
	case b.MaxQueueSize != nil && *b.MaxQueueSize < 1:
		return fmt.Errorf("max_queue_size %d: must be at least 1", *b.MaxQueueSize)
	case b.Timeout != nil && *b.Timeout < 0:
		return fmt.Errorf("timeout %v: must not be negative", time.Duration(*b.Timeout))
	}
	for _, s := range b.PreferredBatchSizes {
		if s < 1 {
			return fmt.Errorf("preferred_batch_sizes: %d is not a positive size", s)
		}
		if b.MaxBatchSize != nil && s > *b.MaxBatchSize {
			return fmt.Errorf("preferred_batch_sizes: %d exceeds max_batch_size %d", s, *b.MaxBatchSize)
		}
	}
	return nil
}

// apply returns the defaults overridden by the policy's batching block.
func (b *BatchingPolicy) apply(def Batching) Batching {
	if b.MaxBatchSize != nil {
		def.MaxBatchSize = *b.MaxBatchSize
	}
	if b.MaxQueueDelay != nil {
		def.MaxQueueDelay = time.Duration(*b.MaxQueueDelay)
	}
	if b.PreferredBatchSizes != nil {
		def.PreferredBatchSizes = b.PreferredBatchSizes
	}
	if b.Executors != nil {
		def.Executors = *b.Executors
	}
	if b.MaxQueueSize != nil {
		def.MaxQueueSize = *b.MaxQueueSize
	}
	if b.Timeout != nil {
		def.Timeout = time.Duration(*b.Timeout)
	}
	return def
}

// Batching is the batching configuration a version is loaded with: the
// queue's settings and the default request deadline.
type Batching struct {
	batcher.Config
	// Timeout is the deadline of a request that sets none; 0 means none.
	Timeout time.Duration
}

// policyState is what the reconciler knows of a model's policy.yaml.
type policyState struct {
	raw  []byte // the file as last read, to notice edits
	read bool
	// lastGood is the policy in force; nil until one has been valid.
	lastGood *Policy
	// err is why the file as last read was refused; nil when it was not.
	err error
	// batching and keep are the settings in force: lastGood over the
	// server's defaults.
	batching Batching
	keep     int
}

// readPolicy reads the model's policy.yaml if it changed since the last
// pass. A valid edit takes effect: settings read per request or per pass
// (timeout, keep_previous) at once, batching for versions loaded from now
// on. An invalid edit is refused with a message naming the key, and the
// last good policy stays in force; a model that never had a valid one
// cannot load its versions.
func (s *Store) readPolicy(m *model) {
	data, err := os.ReadFile(filepath.Join(m.dir, PolicyFile))
	if errors.Is(err, os.ErrNotExist) {
		data, err = nil, nil
	}
	if err == nil && m.policy.read && bytes.Equal(data, m.policy.raw) {
		return
	}
	m.policy.raw, m.policy.read = data, true
	p := &Policy{}
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrPolicy, err)
	} else if len(data) > 0 {
		p, err = ParsePolicy(data)
	}
	if err != nil {
		m.policy.err = err
		if m.policy.lastGood != nil {
			s.log.Error("policy.yaml refused; the last good policy stays in force", "model", m.name, "error", err)
		} else {
			s.log.Error("policy.yaml invalid; the model's versions cannot load until it is fixed", "model", m.name, "error", err)
		}
		return
	}
	first := m.policy.lastGood == nil && m.policy.err == nil
	m.policy.lastGood, m.policy.err = p, nil
	m.policy.batching = p.Batching.apply(s.cfg.Batching)
	m.policy.keep = s.cfg.KeepPrevious
	if k := p.Rollout.KeepPrevious; k != nil {
		m.policy.keep = *k
	}
	m.live.timeout.Store(int64(m.policy.batching.Timeout))
	if !first {
		s.log.Info("policy.yaml applied: timeout and keep_previous take effect now, batching for versions loaded from now on",
			"model", m.name, "keep_previous", m.policy.keep, "timeout", m.policy.batching.Timeout)
	}
	for _, v := range m.versions {
		if v.policyFailure && v.State() == Failed {
			v.policyFailure = false
			s.transition(v, Unloaded, "policy.yaml is valid again")
		}
	}
}
