package modelstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/regfile"
	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/rollout"
)

// PolicyFile is the optional per-model settings file.
const PolicyFile = "policy.yaml"

// Policy is a model's policy.yaml. Unknown keys are refused, so that a
// typo does not silently leave a default in force.
type Policy struct {
	// Batching overrides the server's batching defaults for this model.
	Batching BatchingPolicy `yaml:"batching"`
	// Rollout says how new versions reach traffic.
	Rollout RolloutPolicy `yaml:"rollout"`

	// Gate says what a new version must show on its evaluation set before
	// it may take traffic (see gate.Policy).
	Gate gate.Policy `yaml:"gate"`

	// Cache turns the response cache on and bounds it (see CachePolicy);
	// nil when the block is absent: nothing is cached.
	Cache *CachePolicy `yaml:"cache"`
	// Cost sets the price per core-hour of the model's compute (see
	// CostPolicy).
	Cost CostPolicy `yaml:"cost"`
	// Drift configures the drift monitor (see DriftPolicy).
	Drift DriftPolicy `yaml:"drift"`
	// Log configures the prediction log (see LogPolicy).
	Log LogPolicy `yaml:"log"`
	// Quality configures the live quality monitor (see QualityPolicy).
	Quality QualityPolicy `yaml:"quality"`
	// Retrain says which alarms start the model's retraining command (see
	// RetrainPolicy); nil when the block is absent: never retrained.
	Retrain *RetrainPolicy `yaml:"retrain"`
}

// RolloutPolicy is the rollout block of policy.yaml: how new versions
// reach traffic (see rollout.Policy for what each setting means and its
// default). A field left out (nil) keeps the server's default; Apply lays
// the block over them.
//
//	rollout:
//	  on_publish: canary          # latest | canary | bluegreen | shadow | manual
//	  steps: [5%, 25%, 50%, 100%] # or basis points: [500, 2500, 5000, 10000]
//	  bake: 60s
//	  max_bake: 10m               # a step short of traffic waits this long at most
//	  min_requests: 200           # candidate requests between two analyses
//	  failure_limit: 2            # breaching analyses in a row before a rollback
//	  keep_previous: 1
//	  max_error_rate_delta: 0.01  # a fraction: one percentage point
//	  critical_error_rate: 0.2    # rolls back at once
//	  max_latency_increase: 0.2   # +20% on stable's median, as a shift
//	  min_latency_delta: 1ms      # shifts below this never breach
//	  max_score_psi: 0.2
//	  min_score_shift: 0.05       # scores that moved less never breach
//	  max_accuracy_drop: 0.02
//	  watch: 5m
//	  shadow: {min_requests: 1000, min_agreement: 0.95, then: canary}
//
// Keys are strict: an unknown or repeated key, or a value of the wrong
// kind, fails with a message naming it.
type RolloutPolicy struct {
	// OnPublish is the strategy a newly published version starts with.
	OnPublish *string `yaml:"on_publish"`
	// Steps are the canary's weights in basis points, each written as an
	// integer (2500) or a percentage with at most two decimals ("25%").
	Steps []int `yaml:"steps"`
	// Bake is how long each canary step lasts at least, such as "60s".
	Bake *Duration `yaml:"bake"`
	// MaxBake is how long a step short of traffic may wait, such as
	// "10m".
	MaxBake *Duration `yaml:"max_bake"`
	// MinRequests is how many requests the candidate answers between two
	// analyses of a step or a watch.
	MinRequests *int `yaml:"min_requests"`
	// FailureLimit is how many analyses in a row must breach before a
	// rollback.
	FailureLimit *int `yaml:"failure_limit"`
	// KeepPrevious is how many ready versions below the stable one stay
	// loaded for an instant rollback.
	KeepPrevious *int `yaml:"keep_previous"`
	// MaxErrorRateDelta, CriticalErrorRate, MaxLatencyIncrease,
	// MinLatencyDelta, MaxScorePSI, MinScoreShift and MaxAccuracyDrop are
	// the bounds the candidate is held to against stable.
	MaxErrorRateDelta  *float64  `yaml:"max_error_rate_delta"`
	CriticalErrorRate  *float64  `yaml:"critical_error_rate"`
	MaxLatencyIncrease *float64  `yaml:"max_latency_increase"`
	MinLatencyDelta    *Duration `yaml:"min_latency_delta"`
	MaxScorePSI        *float64  `yaml:"max_score_psi"`
	MinScoreShift      *float64  `yaml:"min_score_shift"`
	MaxAccuracyDrop    *float64  `yaml:"max_accuracy_drop"`
	// Watch is how long after a bluegreen switch the candidate may still
	// be rolled back, such as "5m".
	Watch *Duration `yaml:"watch"`
	// Shadow is the shadow block.
	Shadow ShadowPolicy `yaml:"shadow"`
}

// ShadowPolicy is the shadow block of policy.yaml's rollout block. A field
// left out keeps the server's default.
type ShadowPolicy struct {
	// MinRequests is how many requests must be compared before agreement
	// is judged.
	MinRequests *int `yaml:"min_requests"`
	// MinAgreement is the least share of compared requests, in [0, 1], on
	// which the shadow must give stable's label.
	MinAgreement *float64 `yaml:"min_agreement"`
	// Then is what follows an agreeing shadow: canary, bluegreen or
	// manual.
	Then *string `yaml:"then"`
}

// UnmarshalYAML decodes the rollout block strictly, naming the key of
// any error.
func (r *RolloutPolicy) UnmarshalYAML(n *yaml.Node) error {
	return decodeBlock(n, "rollout", map[string]func(*yaml.Node) error{
		"on_publish":           func(v *yaml.Node) error { return decodeString(v, &r.OnPublish) },
		"steps":                func(v *yaml.Node) error { return decodeSteps(v, &r.Steps) },
		"bake":                 func(v *yaml.Node) error { return decodeDuration(v, &r.Bake) },
		"max_bake":             func(v *yaml.Node) error { return decodeDuration(v, &r.MaxBake) },
		"min_requests":         func(v *yaml.Node) error { return decodeScalar(v, &r.MinRequests) },
		"failure_limit":        func(v *yaml.Node) error { return decodeScalar(v, &r.FailureLimit) },
		"critical_error_rate":  func(v *yaml.Node) error { return decodeScalar(v, &r.CriticalErrorRate) },
		"max_latency_increase": func(v *yaml.Node) error { return decodeScalar(v, &r.MaxLatencyIncrease) },
		"min_latency_delta":    func(v *yaml.Node) error { return decodeDuration(v, &r.MinLatencyDelta) },
		"keep_previous":        func(v *yaml.Node) error { return decodeScalar(v, &r.KeepPrevious) },
		"max_error_rate_delta": func(v *yaml.Node) error { return decodeScalar(v, &r.MaxErrorRateDelta) },
		"max_p99_ratio":        replacedP99Ratio,
		"max_score_psi":        func(v *yaml.Node) error { return decodeScalar(v, &r.MaxScorePSI) },
		"min_score_shift":      func(v *yaml.Node) error { return decodeScalar(v, &r.MinScoreShift) },
		"max_accuracy_drop":    func(v *yaml.Node) error { return decodeScalar(v, &r.MaxAccuracyDrop) },
		"watch":                func(v *yaml.Node) error { return decodeDuration(v, &r.Watch) },
		"shadow": func(v *yaml.Node) error {
			return decodeBlock(v, "rollout: shadow", map[string]func(*yaml.Node) error{
				"min_requests":  func(v *yaml.Node) error { return decodeScalar(v, &r.Shadow.MinRequests) },
				"min_agreement": func(v *yaml.Node) error { return decodeScalar(v, &r.Shadow.MinAgreement) },
				"then":          func(v *yaml.Node) error { return decodeString(v, &r.Shadow.Then) },
			})
		},
	})
}

// Apply returns def, typically the server's defaults, with the settings
// r gives in its place; def is not modified, and the result's Steps is a
// copy. Every rule of rollout.Policy.Validate concerns one setting alone,
// so the result is valid when def is valid and r came from ParsePolicy.
func (r *RolloutPolicy) Apply(def rollout.Policy) rollout.Policy {
	p := def
	p.Steps = slices.Clone(def.Steps)
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setFloat := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	setDuration := func(dst *time.Duration, v *Duration) {
		if v != nil {
			*dst = time.Duration(*v)
		}
	}
	if r.OnPublish != nil {
		p.OnPublish = *r.OnPublish
	}
	if r.Steps != nil {
		p.Steps = slices.Clone(r.Steps)
	}
	setDuration(&p.Bake, r.Bake)
	setDuration(&p.MaxBake, r.MaxBake)
	set(&p.MinRequests, r.MinRequests)
	set(&p.FailureLimit, r.FailureLimit)
	set(&p.KeepPrevious, r.KeepPrevious)
	setFloat(&p.MaxErrorRateDelta, r.MaxErrorRateDelta)
	setFloat(&p.CriticalErrorRate, r.CriticalErrorRate)
	setFloat(&p.MaxLatencyIncrease, r.MaxLatencyIncrease)
	setDuration(&p.MinLatencyDelta, r.MinLatencyDelta)
	setFloat(&p.MaxScorePSI, r.MaxScorePSI)
	setFloat(&p.MinScoreShift, r.MinScoreShift)
	setFloat(&p.MaxAccuracyDrop, r.MaxAccuracyDrop)
	setDuration(&p.Watch, r.Watch)
	set(&p.Shadow.MinRequests, r.Shadow.MinRequests)
	setFloat(&p.Shadow.MinAgreement, r.Shadow.MinAgreement)
	if r.Shadow.Then != nil {
		p.Shadow.Then = *r.Shadow.Then
	}
	return p
}

// replacedP99Ratio refuses the key max_p99_ratio, which the latency
// comparison in the same window replaced, saying what to write instead.
func replacedP99Ratio(*yaml.Node) error {
	return fmt.Errorf("replaced by max_latency_increase (0.2 is +20%% on stable's median, judged as a shift in the same window) and min_latency_delta (default 1ms); a p99 ratio of small samples is noise")
}

// decodeSteps decodes a list of weights, each in basis points (500) or a
// percentage ("5%").
func decodeSteps(v *yaml.Node, dst *[]int) error {
	if v.Kind != yaml.SequenceNode {
		return fmt.Errorf("want a list of weights such as [5%%, 25%%, 100%%]")
	}
	steps := make([]int, 0, len(v.Content))
	for i, item := range v.Content {
		if item.Kind == yaml.AliasNode {
			item = item.Alias
		}
		var w int
		var err error
		switch {
		case item.Kind == yaml.ScalarNode && item.ShortTag() == "!!int":
			err = item.Decode(&w)
		case item.Kind == yaml.ScalarNode && item.ShortTag() == "!!str":
			w, err = rollout.ParseWeight(item.Value)
		default:
			err = fmt.Errorf("%q: want basis points (an integer) or a percentage such as \"5%%\"", item.Value)
		}
		if err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
		steps = append(steps, w)
	}
	*dst = steps
	return nil
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

// Limits on batching settings, to refuse a value that is surely a mistake.
const (
	maxExecutors     = 256
	maxQueueDelayCap = 10 * time.Second
)

// ReadPolicy reads and parses the policy.yaml at path. A file that is not
// a regular file or is larger than MaxPolicyBytes is refused before it is
// read. Errors wrap fs.ErrNotExist when there is no file (a model without
// a policy), and ErrPolicy otherwise; they name the file.
func ReadPolicy(path string) (*Policy, error) {
	data, err := regfile.Read(path, policyLimit)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy decodes and validates a policy.yaml. Errors wrap ErrPolicy,
// and a rollout setting that fails rollout.Policy.Validate also wraps its
// *rollout.PolicyError.
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
	if err := p.Rollout.Apply(rollout.DefaultPolicy()).Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	if err := p.Gate.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	if err := p.Drift.Apply(drift.DefaultPolicy()).Validate(); err != nil {
		return nil, fmt.Errorf("%w: drift: %w", ErrPolicy, err)
	}
	if err := p.Log.validate(); err != nil {
		return nil, fmt.Errorf("%w: log: %w", ErrPolicy, err)
	}
	if p.Cache != nil {
		if err := p.Cache.validate(); err != nil {
			return nil, fmt.Errorf("%w: cache: %w", ErrPolicy, err)
		}
	}
	if err := p.Cost.validate(); err != nil {
		return nil, fmt.Errorf("%w: cost: %w", ErrPolicy, err)
	}
	if err := p.Quality.Apply(quality.DefaultPolicy()).Validate(); err != nil {
		return nil, fmt.Errorf("%w: quality: %w", ErrPolicy, err)
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
	// hash names the file lastGood came from (see policyHash).
	hash string
	// gen counts the changes of lastGood's gate block: a verdict made
	// under an older generation is judged again (see policyChanged).
	gen uint64
	// err is why the file as last read was refused; nil when it was not.
	err error
	// batching, keep and rollout are the settings in force: lastGood
	// over the server's defaults.
	batching Batching
	keep     int
	rollout  rollout.Policy
	// price is the price per core-hour in force: lastGood's cost block
	// over the server's.
	price float64
}

// readPolicy reads the model's policy.yaml if it changed since the last
// pass. A valid edit takes effect: settings read per request or per pass
// (timeout, keep_previous, cache) at once, batching for versions loaded
// from now on. An invalid edit is refused with a message naming the key, and the
// last good policy stays in force; a model that never had a valid one
// cannot load its versions.
func (s *Store) readPolicy(m *model) {
	data, err := regfile.Read(filepath.Join(m.dir, PolicyFile), policyLimit)
	if errors.Is(err, fs.ErrNotExist) {
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
	old, oldHash := m.policy.lastGood, m.policy.hash
	m.policy.lastGood, m.policy.err, m.policy.hash = p, nil, policyHash(data)
	m.policy.batching = p.Batching.apply(s.cfg.Batching)
	m.policy.keep = s.cfg.KeepPrevious
	if k := p.Rollout.KeepPrevious; k != nil {
		m.policy.keep = *k
	}
	m.policy.rollout = p.Rollout.Apply(s.cfg.Rollout)
	m.policy.price = p.Cost.Price(s.cfg.CostPerCoreHour)
	m.live.timeout.Store(int64(m.policy.batching.Timeout))
	for _, v := range m.versions {
		if v.loaded() {
			v.queue.SetPrice(m.policy.price)
		}
	}
	s.applyCache(m, p.Cache)
	if !first {
		s.log.Info("policy.yaml applied: timeout, keep_previous, cost and cache take effect now, batching for versions loaded from now on",
			"model", m.name, "keep_previous", m.policy.keep, "timeout", m.policy.batching.Timeout)
	}
	for _, v := range m.versions {
		if v.policyFailure && v.State() == Failed {
			v.policyFailure = false
			s.transition(v, Unloaded, "policy.yaml is valid again")
		}
	}
	if !first {
		s.policyChanged(m, old, oldHash)
	}
}
