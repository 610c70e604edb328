package tracking

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/sampling"
)

// This file is the prediction log's queue: the request path takes a
// pooled record (Take), fills it and hands it over (Offer) without
// waiting or allocating; one writer goroutine (Run) commits the records
// in batches, at most LogConfig.MaxBatch records or LogConfig.FlushEvery
// after the first of a batch arrived, whichever comes first. SIGKILL so
// loses at most the records not yet committed: the queue's records and
// the batch being gathered, at most FlushEvery (100 ms by default) of
// traffic, and never more than Queue records.

// Defaults of LogConfig and LogPolicy.
const (
	DefaultLogQueue       = 4096
	DefaultLogBatch       = 1024
	DefaultLogFlushEvery  = 100 * time.Millisecond
	DefaultLogRetention   = 7 * 24 * time.Hour
	DefaultLogMaxBytes    = 1 << 30
	DefaultLogPruneEvery  = time.Minute
	DefaultLogPolicyEvery = 5 * time.Second
)

// LogPolicy is one model's settings of the prediction log: policy.yaml's
// log block, with the defaults (DefaultLogPolicy) for what it leaves out.
type LogPolicy struct {
	// Sample is the share of the model's prediction ids logged, chosen by
	// a hash of the id so that replicas log the same ones: 1 logs all, 0
	// none.
	Sample float64
	// Retention and MaxBytes bound the model's log by age and by size.
	Retention time.Duration
	MaxBytes  int64
}

// DefaultLogPolicy is the prediction log's policy of a model whose
// policy.yaml has no log block: every prediction, kept 7 days, at most
// 1 GiB.
func DefaultLogPolicy() LogPolicy {
	return LogPolicy{Sample: 1, Retention: DefaultLogRetention, MaxBytes: DefaultLogMaxBytes}
}

// LogConfig configures a PredictionLog. The zero value takes the
// defaults and DefaultLogPolicy for every model.
type LogConfig struct {
	// Policy returns model's log policy; the writer asks when it first
	// sees the model and every PolicyEvery after. An error is logged and
	// keeps the policy in force (at first, DefaultLogPolicy). Nil means
	// DefaultLogPolicy for every model.
	Policy func(model string) (LogPolicy, error)
	// Queue is the number of pooled records, hence the most waiting for
	// the writer; past it records are dropped and counted. 0 means
	// DefaultLogQueue.
	Queue int
	// MaxBatch and FlushEvery bound a batch by records and by time. 0
	// means DefaultLogBatch and DefaultLogFlushEvery.
	MaxBatch   int
	FlushEvery time.Duration
	// PruneEvery is how often the retention is enforced, and PolicyEvery
	// how often the policies are read again. 0 means the defaults.
	PruneEvery  time.Duration
	PolicyEvery time.Duration
	// Logger receives the writer's errors. Nil means slog.Default().
	Logger *slog.Logger
	// OnWrite, when set, is called by the writer with each batch once it
	// is written, for a sidecar such as the live quality monitor. It must
	// not block and must not keep the slice or its elements' slices.
	OnWrite func([]Prediction)
}

// LogRecord is a prediction on its way to the log, in a pooled buffer.
// Fill it after Take and hand it to Offer; do not keep it after.
type LogRecord struct {
	id      []byte
	at      time.Time
	model   string
	version int
	arm     string
	inputs  []byte
	scores  []float64
	// overflow is set once the inputs passed maxLogInputs.
	overflow bool
}

// maxLogInputs caps the input bytes kept of one prediction.
const maxLogInputs = 64 << 10

// Set sets what answered the prediction and when. The strings are kept,
// not copied: pass ones that live on (a version's model name and label).
func (r *LogRecord) Set(model string, version int, arm string, at time.Time) {
	r.model, r.version, r.arm, r.at = model, version, arm, at
}

// AppendInputs appends a copy of input bytes b to the record's inputs;
// past 64 KiB in all the record keeps none, so that one large request
// cannot grow a pooled buffer without bound.
func (r *LogRecord) AppendInputs(b []byte) {
	if len(r.inputs)+len(b) > maxLogInputs {
		r.inputs = r.inputs[:0]
		r.overflow = true
		return
	}
	if !r.overflow {
		r.inputs = append(r.inputs, b...)
	}
}

// AddScore appends an output score.
func (r *LogRecord) AddScore(x float64) { r.scores = append(r.scores, x) }

// PredictionLog is the prediction log's queue and writer. Take and Offer
// are safe for concurrent use and nil-safe; Run is called once.
type PredictionLog struct {
	store *Store
	cfg   LogConfig
	log   *slog.Logger
	// limits holds, by model name, a *atomic.Uint64: the sampling bound
	// of the model's policy, which the writer sets and Take reads.
	limits sync.Map
	// policies is the writer's copy of each model's policy.
	policies map[string]LogPolicy
	free     chan *LogRecord
	queue    chan *LogRecord
	dropped  prometheus.Counter
	written  prometheus.Counter
}

// NewPredictionLog returns the log writing to store, with its counters
// registered on reg.
func NewPredictionLog(store *Store, cfg LogConfig, reg prometheus.Registerer) (*PredictionLog, error) {
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultLogQueue
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultLogBatch
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultLogFlushEvery
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = DefaultLogPruneEvery
	}
	if cfg.PolicyEvery <= 0 {
		cfg.PolicyEvery = DefaultLogPolicyEvery
	}
	if cfg.Policy == nil {
		cfg.Policy = func(string) (LogPolicy, error) { return DefaultLogPolicy(), nil }
	}
	l := &PredictionLog{store: store, cfg: cfg, log: cfg.Logger, policies: map[string]LogPolicy{},
		free: make(chan *LogRecord, cfg.Queue), queue: make(chan *LogRecord, cfg.Queue),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_prediction_log_dropped_total",
			Help: "Predictions not logged because the prediction log's queue was full."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_prediction_log_written_total",
			Help: "Predictions written to the prediction log."}),
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	for range cfg.Queue {
		l.free <- &LogRecord{}
	}
	for _, c := range []prometheus.Collector{l.dropped, l.written} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("tracking: prediction log metrics: %w", err)
		}
	}
	return l, nil
}

// Take returns an empty record for prediction id of model, or nil when
// the model's sampling share leaves id out or every record is in use
// (the drop is counted). A model the writer has not seen yet is logged
// whole until it has read its policy. It allocates nothing once the
// pool's buffers have grown.
func (l *PredictionLog) Take(model string, id []byte) *LogRecord {
	if l == nil {
		return nil
	}
	if b, ok := l.limits.Load(model); ok && !sampling.Keep(id, b.(*atomic.Uint64).Load()) {
		return nil
	}
	select {
	case r := <-l.free:
		r.id, r.inputs, r.scores, r.overflow = append(r.id[:0], id...), r.inputs[:0], r.scores[:0], false
		return r
	default:
		l.dropped.Inc()
		return nil
	}
}

// Offer hands r, from Take, to the writer. It never waits: the queue
// holds every record of the pool.
func (l *PredictionLog) Offer(r *LogRecord) {
	if l == nil || r == nil {
		return
	}
	l.queue <- r
}

// Run writes the offered records in batches and enforces the retention
// until ctx is done, then commits what is queued and returns.
func (l *PredictionLog) Run(ctx context.Context) {
	batch := make([]Prediction, 0, l.cfg.MaxBatch)
	prune := time.NewTicker(l.cfg.PruneEvery)
	defer prune.Stop()
	policies := time.NewTicker(l.cfg.PolicyEvery)
	defer policies.Stop()
	flush := time.NewTimer(l.cfg.FlushEvery)
	flush.Stop()
	l.prune()
	for {
		select {
		case r := <-l.queue:
			if len(batch) == 0 {
				flush.Reset(l.cfg.FlushEvery)
			}
			batch = l.add(batch, r)
			if len(batch) >= l.cfg.MaxBatch {
				flush.Stop()
				batch = l.write(batch)
			}
		case <-flush.C:
			batch = l.write(batch)
		case <-prune.C:
			l.prune()
		case <-policies.C:
			for model := range l.policies {
				l.readPolicy(model)
			}
		case <-ctx.Done():
			for {
				select {
				case r := <-l.queue:
					batch = l.add(batch, r)
					if len(batch) >= l.cfg.MaxBatch {
						batch = l.write(batch)
					}
				default:
					l.write(batch)
					return
				}
			}
		}
	}
}

// add copies r into batch and returns r to the pool. The batch's
// elements keep their buffers from one batch to the next (write empties
// it without clearing), so that copying a record allocates only its id.
func (l *PredictionLog) add(batch []Prediction, r *LogRecord) []Prediction {
	if _, ok := l.policies[r.model]; !ok {
		l.readPolicy(r.model)
	}
	if len(batch) < cap(batch) {
		batch = batch[:len(batch)+1]
	} else {
		batch = append(batch, Prediction{})
	}
	p := &batch[len(batch)-1]
	p.ID, p.Time, p.Model, p.Version, p.Arm = string(r.id), r.at, r.model, r.version, r.arm
	p.Inputs = append(p.Inputs[:0], r.inputs...)
	p.Scores = append(p.Scores[:0], r.scores...)
	r.model, r.arm = "", ""
	l.free <- r
	return batch
}

// write commits batch and returns it emptied; a failure is logged and
// the batch lost.
func (l *PredictionLog) write(batch []Prediction) []Prediction {
	if len(batch) == 0 {
		return batch
	}
	if err := l.store.LogPredictions(context.Background(), batch); err != nil {
		l.log.Error("prediction log: a batch was lost", "predictions", len(batch), "error", err)
	} else {
		l.written.Add(float64(len(batch)))
		if l.cfg.OnWrite != nil {
			l.cfg.OnWrite(batch)
		}
	}
	return batch[:0]
}

// readPolicy reads model's log policy and publishes its sampling bound
// to Take; a failure keeps the policy in force.
func (l *PredictionLog) readPolicy(model string) {
	p, err := l.cfg.Policy(model)
	if err != nil {
		if _, ok := l.policies[model]; !ok {
			l.policies[model] = DefaultLogPolicy()
		}
		l.log.Error("prediction log: the model's log policy could not be read; the one in force stays", "model", model, "error", err)
		return
	}
	l.policies[model] = p
	b, _ := l.limits.LoadOrStore(model, new(atomic.Uint64))
	b.(*atomic.Uint64).Store(sampling.Bound(p.Sample))
}

// prune enforces each model's retention by age and by size, and seals
// segments past their age, so that an idle model's log ages out too.
func (l *PredictionLog) prune() {
	now := time.Now()
	if err := l.store.preds.sealOld(now); err != nil {
		l.log.Error("prediction log: sealing old segments failed", "error", err)
	}
	models, err := l.store.LoggedModels()
	if err != nil {
		l.log.Error("prediction log: retention failed", "error", err)
		return
	}
	for _, model := range models {
		p, ok := l.policies[model]
		if !ok {
			if p, err = l.cfg.Policy(model); err != nil {
				p = DefaultLogPolicy()
			}
		}
		n, err := l.store.PrunePredictions(context.Background(), model, now.Add(-p.Retention), p.MaxBytes)
		if err != nil {
			l.log.Error("prediction log: retention failed", "model", model, "error", err)
			continue
		}
		if n > 0 {
			l.log.Info("prediction log: retention removed predictions", "model", model, "predictions", n)
		}
	}
}
