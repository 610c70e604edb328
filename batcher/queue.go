package batcher

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Runner runs one formed batch and fills in each item's outputs. A loaded
// model version implements it with its engine session; batcher never
// imports engine. Run may be called concurrently, once per executor.
type Runner[P any] interface {
	Run(ctx context.Context, b *Batch[P]) error
}

// Queue is the bounded queue of one model version and the executors that
// drain it.
//
// Enqueue is safe for concurrent use and never blocks. Start and Close are
// each called once, by the queue's owner.
type Queue[P any] struct {
	cfg     Config
	runner  Runner[P]
	metrics *versionMetrics

	items chan *Item[P]
	// rows counts the rows queued and not yet taken by an executor.
	rows atomic.Int64

	// mu makes Close wait out Enqueues in progress, so that no item slips
	// into the channel after it has been drained.
	mu     sync.RWMutex
	closed bool

	ctx    context.Context // cancelled by Close; passed to the Runner
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a stopped queue for one model version. m may be nil for no
// metrics; otherwise the queue's series carry the model and version labels.
func New[P any](cfg Config, r Runner[P], m *Metrics, model, version string) (*Queue[P], error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("batcher: nil runner")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Queue[P]{
		cfg:     cfg,
		runner:  r,
		metrics: m.forVersion(model, version),
		// Every item carries at least one row, so a channel with room for
		// MaxQueueSize items never blocks a send that the row count admits.
		items:  make(chan *Item[P], cfg.MaxQueueSize),
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

// Config returns the queue's settings with defaults filled in.
func (q *Queue[P]) Config() Config { return q.cfg }

// Start launches the executors.
func (q *Queue[P]) Start() {
	for range q.cfg.Executors {
		q.wg.Go(q.execute)
	}
}

// Enqueue adds it to the queue without blocking. It fails with
// ErrQueueFull when the queue has no room for it.Rows more rows, and with
// ErrClosed once Close has begun. After a nil return the caller must call
// it.Wait.
func (q *Queue[P]) Enqueue(it *Item[P]) error {
	if it.Rows < 1 {
		return fmt.Errorf("batcher: item with %d rows", it.Rows)
	}
	if it.done == nil {
		it.done = make(chan struct{}, 1)
	}
	it.err = nil
	it.enqueued = time.Now()
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrClosed
	}
	n := int64(it.Rows)
	if after := q.rows.Add(n); after > int64(q.cfg.MaxQueueSize) && after > n {
		// Over the limit, unless the queue was empty: a single request
		// larger than the whole queue still gets its turn.
		q.rows.Add(-n)
		q.metrics.rejected.Inc()
		return ErrQueueFull
	}
	select {
	case q.items <- it:
		q.metrics.depth.Set(float64(q.rows.Load()))
		return nil
	default: // cannot happen while rows are counted right; fail, never block
		q.rows.Add(-n)
		q.metrics.rejected.Inc()
		return ErrQueueFull
	}
}

// Close stops the queue: Enqueue fails from now on, batches running finish,
// and items still queued fail with ErrClosed. When Close returns the Runner
// is no longer in use.
func (q *Queue[P]) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
	for {
		select {
		case it := <-q.items:
			q.rows.Add(int64(-it.Rows))
			it.finish(ErrClosed)
		default:
			q.metrics.depth.Set(0)
			q.metrics.delete()
			return
		}
	}
}

// execute is one executor: it forms batches and runs them until Close.
func (q *Queue[P]) execute() {
	b := &Batch[P]{}
	var timer *time.Timer // reused across batches, only when waiting is allowed
	var carry *Item[P]    // an item taken that did not fit the last batch
	for {
		if q.ctx.Err() != nil {
			if carry != nil {
				q.rows.Add(int64(-carry.Rows))
				carry.finish(ErrClosed)
			}
			return
		}
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-q.items:
			case <-q.ctx.Done():
				return
			}
		}
		if !q.take(first, time.Now()) {
			continue
		}
		b.Items = append(b.Items[:0], first)
		b.Rows = first.Rows
		carry, timer = q.fill(b, timer)
		q.run(b)
	}
}

// take accounts for an item leaving the queue and reports whether it may
// run; an expired item is failed with ErrDeadline instead.
func (q *Queue[P]) take(it *Item[P], now time.Time) bool {
	q.rows.Add(int64(-it.Rows))
	q.metrics.queueTime.Observe(now.Sub(it.enqueued).Seconds())
	if it.expired(now) {
		q.metrics.timedOut.Inc()
		it.finish(ErrDeadline)
		return false
	}
	return true
}

// fill adds waiting compatible items to b, up to MaxBatchSize rows,
// waiting for more only when MaxQueueDelay allows it. It returns an item it
// took that does not fit b, to start the next batch with.
func (q *Queue[P]) fill(b *Batch[P], timer *time.Timer) (carry *Item[P], _ *time.Timer) {
	first := b.Items[0]
	max := q.cfg.MaxBatchSize
	if first.Rows >= max {
		return nil, timer
	}
	waitUntil := first.enqueued.Add(q.cfg.MaxQueueDelay)
	target := q.cfg.target()
	for b.Rows < max {
		var it *Item[P]
		select {
		case it = <-q.items:
		default:
			wait := time.Until(waitUntil)
			if q.cfg.MaxQueueDelay == 0 || b.Rows >= target || wait <= 0 {
				return nil, timer
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case it = <-q.items:
				timer.Stop()
			case <-timer.C:
				return nil, timer
			case <-q.ctx.Done():
				timer.Stop()
				return nil, timer
			}
		}
		if it.Key != first.Key || b.Rows+it.Rows > max {
			return it, timer
		}
		if q.take(it, time.Now()) {
			b.Items = append(b.Items, it)
			b.Rows += it.Rows
		}
	}
	return nil, timer
}

// run runs one batch and finishes its items.
func (q *Queue[P]) run(b *Batch[P]) {
	q.metrics.depth.Set(float64(q.rows.Load()))
	q.metrics.batchRows.Observe(float64(b.Rows))
	start := time.Now()
	err := q.runner.Run(q.ctx, b)
	q.metrics.computeTime.Observe(time.Since(start).Seconds())
	for i, it := range b.Items {
		it.finish(err)
		b.Items[i] = nil // drop the reference: the caller owns the item again
	}
}
