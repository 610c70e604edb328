package tracking

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/sampling"
)

// This file is the prediction log's hand-off. A request encodes its
// prediction straight into its model's buffer, in the segment files'
// record format, holding the buffer's lock for the few hundred
// nanoseconds that takes (Take, then the LogRecord's setters, then
// Offer); one writer goroutine (Run) swaps each model's buffer every
// FlushEvery and appends it whole to the model's open segment. So the
// request path neither waits on I/O nor allocates, and the writer
// neither copies nor re-encodes: a batch is one write. A buffer past
// MaxBuffer drops predictions and counts them. SIGKILL loses at most
// what the buffers hold: FlushEvery (100 ms by default) of traffic, and
// never more than MaxBuffer a model.

// Defaults of LogConfig and LogPolicy.
const (
	DefaultLogBuffer      = 8 << 20
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
	// MaxBuffer bounds a model's records waiting for the writer, in
	// bytes; past it predictions are dropped and counted. 0 means
	// DefaultLogBuffer.
	MaxBuffer int
	// FlushEvery is how often the writer writes what the buffers hold.
	// 0 means DefaultLogFlushEvery.
	FlushEvery time.Duration
	// PruneEvery is how often the retention is enforced, and PolicyEvery
	// how often the policies are read again. 0 means the defaults.
	PruneEvery  time.Duration
	PolicyEvery time.Duration
	// Logger receives the writer's errors. Nil means slog.Default().
	Logger *slog.Logger
	// OnWrite, when set, is called by the writer with each batch once it
	// is written, for a sidecar of live figures such as the live quality
	// monitor: each prediction's Model, Version, Time and Scores, its ID,
	// Arm and Inputs left empty (decoding them would cost every
	// prediction an allocation; a follower, Follow, reads them in place).
	// It must not block and must not keep the slice or its elements'
	// slices.
	OnWrite func([]Prediction)
	// OnBatch, when set, is called by the writer with each batch of a
	// model's records once it is written, as written (the segment format
	// AppendBatch takes), for a replica that shares its log with a fleet
	// (package stream). It must not block and must not keep records.
	OnBatch func(model string, records []byte)
}

// maxLogInputs caps the input bytes kept of one prediction.
const maxLogInputs = 64 << 10

// modelBuffer is one model's records waiting for the writer.
type modelBuffer struct {
	model string
	// limit is the sampling bound of the model's policy: the writer sets
	// it, Take reads it; sampling.All until the writer has read the
	// policy.
	limit atomic.Uint64
	mu    sync.Mutex
	buf   []byte    // under mu: the records, whole but for the one rec holds
	rec   LogRecord // under mu, between Take and Offer
	// spare is the writer's: the buffer it last wrote, handed back to
	// the requests at the next swap.
	spare []byte
}

// LogRecord is a prediction being encoded into its model's buffer,
// whose lock is held from Take to Offer. Call Set, then AppendInputs and
// AddScore as need be, then Offer, always, and nothing after.
type LogRecord struct {
	b        *modelBuffer
	start    int // where the record's header is in b.buf
	inputsAt int // where the inputs' length is, once Set
	scoresAt int // where the scores' count is, once the first score came
	scores   int
	overflow bool
}

// Set encodes when the prediction was answered and by what.
func (r *LogRecord) Set(version int, arm string, at time.Time) {
	b := r.b.buf
	b = binary.AppendVarint(b, at.UnixNano())
	b = binary.AppendVarint(b, int64(version))
	b = binary.AppendUvarint(b, uint64(len(arm)))
	b = append(b, arm...)
	r.inputsAt = len(b)
	r.b.buf = append(b, 0, 0, 0, 0)
}

// AppendInputs appends input bytes p to the record's inputs; past 64
// KiB in all the record keeps none, so that one large request cannot
// grow the buffer without bound.
func (r *LogRecord) AppendInputs(p []byte) {
	if r.overflow {
		return
	}
	if len(r.b.buf)-(r.inputsAt+4)+len(p) > maxLogInputs {
		r.b.buf, r.overflow = r.b.buf[:r.inputsAt+4], true
		return
	}
	r.b.buf = append(r.b.buf, p...)
}

// AddScore appends an output score; past maxLogScores they are dropped.
func (r *LogRecord) AddScore(x float64) {
	if r.scoresAt < 0 {
		r.scoresAt = len(r.b.buf)
		r.b.buf = append(r.b.buf, 0, 0, 0, 0)
	}
	if r.scores < maxLogScores {
		r.b.buf = binary.LittleEndian.AppendUint64(r.b.buf, math.Float64bits(x))
		r.scores++
	}
}

// PredictionLog is the prediction log's hand-off and writer. Take and
// Offer are safe for concurrent use and nil-safe; Run is called once.
type PredictionLog struct {
	store *Store
	cfg   LogConfig
	log   *slog.Logger
	// buffers holds a *modelBuffer by model name.
	buffers sync.Map
	// follower, when set, is handed each batch once written (Follow).
	follower atomic.Pointer[func(model string, batch []PredictionView)]
	// The writer's own: each model's policy, the batch OnWrite gets, and
	// the views a follower gets with the buffer of their scores.
	policies map[string]LogPolicy
	batch    []Prediction
	views    []PredictionView
	scores   []float64
	dropped  prometheus.Counter
	written  prometheus.Counter
}

// NewPredictionLog returns the log writing to store, with its counters
// registered on reg.
func NewPredictionLog(store *Store, cfg LogConfig, reg prometheus.Registerer) (*PredictionLog, error) {
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = DefaultLogBuffer
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
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_prediction_log_dropped_total",
			Help: "Predictions not logged because their model's buffer was full or the writer failed."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_prediction_log_written_total",
			Help: "Predictions written to the prediction log."}),
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	for _, c := range []prometheus.Collector{l.dropped, l.written} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("tracking: prediction log metrics: %w", err)
		}
	}
	return l, nil
}

// buffer returns model's buffer, made on its first prediction.
func (l *PredictionLog) buffer(model string) *modelBuffer {
	if b, ok := l.buffers.Load(model); ok {
		return b.(*modelBuffer)
	}
	nb := &modelBuffer{model: model}
	nb.limit.Store(sampling.All)
	nb.rec.b = nb
	b, _ := l.buffers.LoadOrStore(model, nb)
	return b.(*modelBuffer)
}

// Take begins the record of prediction id of model in the model's
// buffer, whose lock it takes, or returns nil when the model's sampling
// share leaves id out or the buffer is full (the drop is counted). A
// model the writer has not seen yet is logged whole until it has read
// its policy. It allocates nothing once the model's buffer has grown.
func (l *PredictionLog) Take(model string, id []byte) *LogRecord {
	if l == nil {
		return nil
	}
	b := l.buffer(model)
	if !sampling.Keep(id, b.limit.Load()) {
		return nil
	}
	b.mu.Lock()
	if len(b.buf) >= l.cfg.MaxBuffer {
		b.mu.Unlock()
		l.dropped.Inc()
		return nil
	}
	r := &b.rec
	r.start, r.inputsAt, r.scoresAt, r.scores, r.overflow = len(b.buf), -1, -1, 0, false
	buf := append(b.buf, 0, 0, 0, 0, 0, 0, 0, 0)
	buf = binary.AppendUvarint(buf, uint64(len(id)))
	b.buf = append(buf, id...)
	return r
}

// Offer ends r, from Take: it completes the record's lengths and
// checksum and releases the buffer for the writer.
func (l *PredictionLog) Offer(r *LogRecord) {
	if l == nil || r == nil {
		return
	}
	b := r.b
	if r.inputsAt < 0 { // Set was not called: an unknown time, version 0
		r.Set(0, "", time.Time{})
	}
	if r.scoresAt < 0 {
		r.scoresAt = len(b.buf)
		b.buf = append(b.buf, 0, 0, 0, 0)
	}
	le := binary.LittleEndian
	le.PutUint32(b.buf[r.inputsAt:], uint32(r.scoresAt-r.inputsAt-4))
	le.PutUint32(b.buf[r.scoresAt:], uint32(r.scores))
	payload := b.buf[r.start+recordHeader:]
	le.PutUint32(b.buf[r.start:], uint32(len(payload)))
	le.PutUint32(b.buf[r.start+4:], crc32.Checksum(payload, castagnoli))
	b.mu.Unlock()
}

// Run writes what the buffers hold every FlushEvery and enforces the
// retention until ctx is done, then writes what is left and returns.
func (l *PredictionLog) Run(ctx context.Context) {
	flush := time.NewTicker(l.cfg.FlushEvery)
	defer flush.Stop()
	prune := time.NewTicker(l.cfg.PruneEvery)
	defer prune.Stop()
	policies := time.NewTicker(l.cfg.PolicyEvery)
	defer policies.Stop()
	l.prune()
	for {
		select {
		case <-flush.C:
			l.flush()
		case <-prune.C:
			l.prune()
		case <-policies.C:
			for model := range l.policies {
				l.readPolicy(model)
			}
		case <-ctx.Done():
			l.flush()
			return
		}
	}
}

// flush swaps every model's buffer and writes what it held.
func (l *PredictionLog) flush() {
	l.buffers.Range(func(_, v any) bool {
		b := v.(*modelBuffer)
		if _, ok := l.policies[b.model]; !ok {
			l.readPolicy(b.model)
		}
		b.mu.Lock()
		data := b.buf
		b.buf, b.spare = b.spare[:0], nil
		b.mu.Unlock()
		if len(data) > 0 {
			l.write(b.model, data)
		}
		b.spare = data
		return true
	})
}

// write appends the records of data, model's, to its segment, and
// hands them to OnWrite; a failure is logged and the records counted as
// dropped.
func (l *PredictionLog) write(model string, data []byte) {
	n, err := l.store.preds.appendRecords(model, data, time.Now())
	if err != nil {
		l.dropped.Add(float64(n))
		l.log.Error("prediction log: records were lost", "model", model, "predictions", n, "error", err)
		return
	}
	l.written.Add(float64(n))
	if l.cfg.OnBatch != nil {
		l.cfg.OnBatch(model, data)
	}
	follow := l.follower.Load()
	if l.cfg.OnWrite == nil && follow == nil {
		return
	}
	l.views, l.scores = l.views[:0], l.scores[:0]
	for off := 0; off+recordHeader <= len(data); {
		size := int(binary.LittleEndian.Uint32(data[off:]))
		var v PredictionView
		if l.scores, err = decodeViewInto(&v, data[off+recordHeader:off+recordHeader+size], l.scores); err == nil {
			l.views = append(l.views, v)
		}
		off += recordHeader + size
	}
	if l.cfg.OnWrite != nil {
		l.batch = l.batch[:0]
		for _, v := range l.views {
			l.batch = append(l.batch, Prediction{Model: model, Version: v.Version, Time: v.Time, Scores: v.Scores})
		}
		l.cfg.OnWrite(l.batch)
	}
	if follow != nil {
		(*follow)(model, l.views)
	}
}

// PredictionView is one prediction of a batch the log's writer has just
// written, read in place for a follower (Follow): ID and Inputs alias the
// batch, and Scores a buffer the writer reuses, so that reading them
// costs no allocation, and none of them may be kept past the call that
// hands the view over.
type PredictionView struct {
	ID      []byte
	Time    time.Time
	Version int
	Inputs  []byte
	Scores  []float64
}

// Follow has the writer hand fn each batch of a model's predictions once
// it is written, read in place (PredictionView), from the next batch on,
// in place of the follower before. fn is called from the writer's
// goroutine: it must not block, and must not keep batch or what its
// views hold. A batch the writer fails to write is not handed over. Safe
// for concurrent use; nil-safe.
func (l *PredictionLog) Follow(fn func(model string, batch []PredictionView)) {
	if l == nil {
		return
	}
	l.follower.Store(&fn)
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
	l.buffer(model).limit.Store(sampling.Bound(p.Sample))
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
