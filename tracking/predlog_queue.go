package tracking

import (
	"context"
	"fmt"
	"log/slog"
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

// Defaults of LogConfig.
const (
	DefaultLogQueue      = 4096
	DefaultLogBatch      = 1024
	DefaultLogFlushEvery = 100 * time.Millisecond
	DefaultLogRetention  = 7 * 24 * time.Hour
	DefaultLogMaxBytes   = 1 << 30
	DefaultLogPruneEvery = time.Minute
)

// LogConfig configures a PredictionLog. The zero value takes the
// defaults and logs every prediction.
type LogConfig struct {
	// Sample is the share of prediction ids logged, chosen by a hash of
	// the id so that replicas log the same ones. 0 means 1 (all); a
	// negative share logs none.
	Sample float64
	// Queue is the number of pooled records, hence the most waiting for
	// the writer; past it records are dropped and counted. 0 means
	// DefaultLogQueue.
	Queue int
	// MaxBatch and FlushEvery bound a batch by records and by time. 0
	// means DefaultLogBatch and DefaultLogFlushEvery.
	MaxBatch   int
	FlushEvery time.Duration
	// Retention and MaxBytes bound the log by age and by size, enforced
	// every PruneEvery. 0 means the defaults.
	Retention  time.Duration
	MaxBytes   int64
	PruneEvery time.Duration
	// Logger receives the writer's errors. Nil means slog.Default().
	Logger *slog.Logger
	// OnWrite, when set, is called by the writer with each batch once it
	// is committed, for a sidecar such as the live quality monitor. It
	// must not block and must not keep the slice or its elements' slices.
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
	store   *Store
	cfg     LogConfig
	log     *slog.Logger
	limit   uint64
	free    chan *LogRecord
	queue   chan *LogRecord
	dropped prometheus.Counter
	written prometheus.Counter
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
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultLogRetention
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultLogMaxBytes
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = DefaultLogPruneEvery
	}
	l := &PredictionLog{store: store, cfg: cfg, log: cfg.Logger,
		free: make(chan *LogRecord, cfg.Queue), queue: make(chan *LogRecord, cfg.Queue),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_prediction_log_dropped_total",
			Help: "Predictions not logged because the prediction log's queue was full."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchyard_prediction_log_written_total",
			Help: "Predictions committed to the prediction log."}),
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	switch {
	case cfg.Sample == 0 || cfg.Sample >= 1:
		l.limit = sampling.All
	case cfg.Sample > 0:
		l.limit = sampling.Bound(cfg.Sample)
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

// Take returns an empty record for prediction id, or nil when the
// sampling share leaves id out or every record is in use (the drop is
// counted). It allocates nothing once the pool's buffers have grown.
func (l *PredictionLog) Take(id []byte) *LogRecord {
	if l == nil || !sampling.Keep(id, l.limit) {
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

// add copies r into batch and returns r to the pool.
func (l *PredictionLog) add(batch []Prediction, r *LogRecord) []Prediction {
	p := Prediction{ID: string(r.id), Time: r.at, Model: r.model, Version: r.version, Arm: r.arm}
	if len(r.inputs) > 0 {
		p.Inputs = append([]byte(nil), r.inputs...)
	}
	p.Scores = append([]float64(nil), r.scores...)
	r.model, r.arm = "", ""
	l.free <- r
	return append(batch, p)
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
	clear(batch)
	return batch[:0]
}

// prune enforces the retention by age and by size.
func (l *PredictionLog) prune() {
	n, err := l.store.PrunePredictions(context.Background(), time.Now().Add(-l.cfg.Retention), l.cfg.MaxBytes)
	if err != nil {
		l.log.Error("prediction log: retention failed", "error", err)
		return
	}
	if n > 0 {
		l.log.Info("prediction log: retention removed predictions", "predictions", n)
	}
}
