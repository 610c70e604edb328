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
// rollout, cache, drift) are accepted and not yet read; unknown keys are
// refused, so that a typo does not silently leave a default in force.
type Policy struct {
	// Batching overrides the server's batching defaults for this model.
	Batching BatchingPolicy `yaml:"batching"`

	Gate    yaml.Node `yaml:"gate"`
	Rollout yaml.Node `yaml:"rollout"`
	Cache   yaml.Node `yaml:"cache"`
	Drift   yaml.Node `yaml:"drift"`
}

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

// readPolicy reads a model directory's policy.yaml; a missing file is an
// empty policy.
func readPolicy(modelDir string) (*Policy, error) {
	data, err := os.ReadFile(filepath.Join(modelDir, PolicyFile))
	if errors.Is(err, os.ErrNotExist) {
		return &Policy{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	return ParsePolicy(data)
}
