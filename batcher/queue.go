package batcher

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Runner runs one formed batch and fills in each item's outputs. A loaded
// model version implements it with its engine session; batcher never
// imports engine. Run may be called concurrently, up to Executors at once.
type Runner[P any] interface {
	Run(ctx context.Context, b *Batch[P]) error
}

// Queue is the bounded queue of one model version.
//
// There are no executor goroutines: the goroutines calling Do run the
// batches themselves. A caller that finds one of the Executors slots free
// becomes a leader: it runs what is queued, its own item included, batch
// after batch until its own item is done, then hands the slot to the owner
// of the next queued item, which carries on. A lone request therefore runs
// on its caller's goroutine with no hand-off at all, and under load the
// requests that queue while the slots are busy run together.
//
// Do is safe for concurrent use and never blocks admission. Close is
// called once, by the queue's owner.
type Queue[P any] struct {
	cfg     Config
	runner  Runner[P]
	metrics *versionMetrics
	// usage accumulates the queue's cost; its Metrics shares the
	// process's CPU time out to it.
	usage *usage
	log   *slog.Logger

	items chan *Item[P]
	// rows counts the rows queued and not yet taken for a batch.
	rows atomic.Int64
	// active counts the slots held by leaders, at most cfg.Executors.
	active atomic.Int32
	// closing is set by Close; leaders stop at their next batch.
	closing atomic.Bool
	// spareAt is the queued rows at which a further leader starts while
	// batches are slow: half a batch, at most spareCap.
	spareAt int64
	// runTime is a moving average of how long a batch runs, in
	// nanoseconds; updated without a lock, it is a hint, not a measure.
	runTime atomic.Int64

	// mu makes Close wait out enqueues in progress, so that no item slips
	// into the channel after it has been drained.
	mu     sync.RWMutex
	closed bool
	// idle is closed once the queue is closing and no slot is held: from
	// then on no batch runs.
	idle     chan struct{}
	idleOnce sync.Once
	// cleanup removes the queue's series once, after the last batch.
	cleanup sync.Once

	ctx    context.Context // cancelled by Close; passed to the Runner
	cancel context.CancelFunc
	// batches pools *Batch values, one per leader at a time.
	batches sync.Pool
}

// New returns a queue for one model version. m may be nil for no metrics;
// otherwise the queue's series carry the model and version labels.
func New[P any](cfg Config, r Runner[P], m *Metrics, model, version string) (*Queue[P], error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("batcher: nil runner")
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	vm := m.forVersion(model, version)
	return &Queue[P]{
		cfg:     cfg,
		runner:  r,
		metrics: vm,
		usage:   vm.usage,
		log:     log.With("model", model, "version", version),
		idle:    make(chan struct{}),
		// Every item carries at least one row, so a channel with room for
		// MaxQueueSize items never blocks a send that the row count admits.
		items:   make(chan *Item[P], cfg.MaxQueueSize),
		spareAt: int64(max(1, min(cfg.MaxBatchSize/2, spareCap))),
		ctx:     ctx,
		cancel:  cancel,
	}, nil
}

// Do queues it and returns once it has run or failed: nil, ErrQueueFull or
// ErrClosed at once when it cannot be queued, ErrDeadline when its
// deadline passed before it could run, or what the Runner returned for its
// batch. While Do runs, the batcher and the Runner own it.Payload.
func (q *Queue[P]) Do(it *Item[P]) error {
	if it.Rows < 1 {
		return fmt.Errorf("batcher: item with %d rows", it.Rows)
	}
	if it.done == nil {
		it.done = make(chan struct{}, 1)
	}
	it.err = nil
	it.handoff.Store(false)
	it.finished.Store(false)
	if q.cfg.MaxQueueDelay == 0 && q.rows.Load() == 0 && q.acquire(int64(it.Rows)) {
		// Nothing is waiting, a slot is free and no batch may wait for
		// more rows: run it now, without going through the queue, then
		// lead whatever queued meanwhile.
		q.runAlone(it)
		q.lead(it, nil)
		return it.err
	}
	if err := q.enqueue(it); err != nil {
		return err
	}
	if q.acquire(0) {
		q.lead(it, nil)
	}
	for {
		<-it.done
		if !it.handoff.Load() {
			return it.err
		}
		// A leader handed us its slot, and our item is next in line.
		it.handoff.Store(false)
		q.lead(it, it)
	}
}

// runAlone runs it as a batch of its own on the slot the caller holds,
// and records its outcome without waking anyone: the caller is its
// owner. It never queued, so its queue time is 0.
func (q *Queue[P]) runAlone(it *Item[P]) {
	now := time.Now()
	it.enqueued = now
	q.metrics.queueTime.Observe(0)
	switch {
	case q.closing.Load():
		it.err = ErrClosed
	case it.expired(now):
		q.metrics.timedOut.Inc()
		it.err = ErrDeadline
	default:
		b := q.getBatch()
		b.Items = append(b.Items[:0], it)
		b.Rows = it.Rows
		it.err = q.run(b, now)
		b.Items[0] = nil
		q.batches.Put(b)
	}
	it.finished.Store(true)
}

// enqueue admits it without blocking.
func (q *Queue[P]) enqueue(it *Item[P]) error {
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

// acquire takes an executor slot if one is free and worth taking for the
// rows queued plus extra, the rows of an item its caller has not queued.
// The first slot always is: a request that finds no batch running runs at
// once. Another slot is taken at once too while batches are quick, since
// then waiting for the running one would cost as much as running alone.
// When batches are slow, another slot is taken only once half a batch (at
// most 16 rows, which onnxruntime already runs near its best rate) is
// waiting: requests gather behind the running batch and then run
// together, which costs far less than running each alone on the next
// core, and the next core joins in when the backlog shows that one is not
// keeping up.
func (q *Queue[P]) acquire(extra int64) bool {
	for {
		n := q.active.Load()
		if n >= int32(q.cfg.Executors) || n > 0 && q.rows.Load()+extra < q.spareRows() {
			return false
		}
		if q.active.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// lead runs batches while holding a slot, starting with first if it is
// not nil, until own is finished; then it hands the slot to the owner of
// the next queued item, or releases it when nothing is queued.
func (q *Queue[P]) lead(own, first *Item[P]) {
	b := q.getBatch()
	defer q.batches.Put(b)
	// pending are items received that start the next batches: first, an
	// item that did not fit the last batch, and own when another leader
	// hands it back to us.
	var pending [3]*Item[P]
	np := 0
	if first != nil {
		pending[np], np = first, np+1
	}
	for {
		if own.handoff.Load() {
			// Another leader took own from the queue and handed it to us
			// with its slot while we were leading: we need only one slot.
			<-own.done
			own.handoff.Store(false)
			q.release()
			pending[np], np = own, np+1
		}
		var next *Item[P]
		if np > 0 {
			next = pending[0]
			copy(pending[:], pending[1:np])
			np--
			pending[np] = nil
		}
		if q.closing.Load() {
			if next != nil {
				q.fail(next, ErrClosed)
			}
			for _, it := range pending[:np] {
				q.fail(it, ErrClosed)
			}
			q.release()
			return
		}
		if next == nil {
			select {
			case next = <-q.items:
			default:
			}
		}
		if next == nil {
			q.release()
			// An item queued between the receive and the release found
			// every slot taken: take one back for it.
			if q.rows.Load() == 0 || !q.acquire(0) {
				return
			}
			continue
		}
		if own.finished.Load() && next != own && np == 0 {
			next.handoff.Store(true)
			next.done <- struct{}{} // its owner leads from here, with our slot
			// Let the new leader start its batch on this P before we
			// spend time answering our own request: otherwise, after a
			// long onnxruntime call, the slot sat idle until we were
			// done, which cost the heavy bench model 10% of its rows/s.
			runtime.Gosched()
			return
		}
		now := time.Now()
		if !q.take(next, now) {
			continue
		}
		b.Items = append(b.Items[:0], next)
		b.Rows = next.Rows
		if carry := q.fill(b); carry != nil {
			pending[np], np = carry, np+1
		}
		q.metrics.depth.Set(float64(q.rows.Load()))
		err := q.run(b, now)
		for i, it := range b.Items {
			it.finish(err)
			b.Items[i] = nil // drop the reference: the caller owns the item again
		}
	}
}

// getBatch returns a pooled, empty batch.
func (q *Queue[P]) getBatch() *Batch[P] {
	if b, ok := q.batches.Get().(*Batch[P]); ok {
		return b
	}
	return &Batch[P]{}
}

// fail finishes a queued item that will not run.
func (q *Queue[P]) fail(it *Item[P], err error) {
	q.rows.Add(int64(-it.Rows))
	it.finish(err)
}

// spareCap bounds the backlog that makes a further slot join slow batches:
// batches of 16 rows already run near onnxruntime's best rate per row, and
// a larger bound could not be reached by as few concurrent clients.
const spareCap = 16

// quickBatch is the run time under which a batch counts as quick: about
// what parking a request and handing it over to another goroutine costs,
// a few times over.
const quickBatch = 25 * time.Microsecond

// spareRows is the queued rows at which a further slot joins the running
// ones.
func (q *Queue[P]) spareRows() int64 {
	if time.Duration(q.runTime.Load()) < quickBatch {
		return 1
	}
	return q.spareAt
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

// fill adds queued compatible items to b, up to MaxBatchSize rows, waiting
// for more only when MaxQueueDelay allows it. It returns an item it
// received that does not fit b, to start the next batch with.
func (q *Queue[P]) fill(b *Batch[P]) (carry *Item[P]) {
	first := b.Items[0]
	max := q.cfg.MaxBatchSize
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for b.Rows < max {
		var it *Item[P]
		select {
		case it = <-q.items:
		default:
			wait := time.Until(first.enqueued.Add(q.cfg.MaxQueueDelay))
			if q.cfg.MaxQueueDelay == 0 || b.Rows >= q.cfg.target() || wait <= 0 {
				return nil
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case it = <-q.items:
			case <-timer.C:
				return nil
			case <-q.ctx.Done():
				return nil
			}
		}
		if it.Key != first.Key || b.Rows+it.Rows > max {
			return it
		}
		if q.take(it, time.Now()) {
			b.Items = append(b.Items, it)
			b.Rows += it.Rows
		}
	}
	return nil
}

// release gives back an executor slot. The last slot given back after
// Close tells Close that no batch runs any more.
func (q *Queue[P]) release() {
	if q.active.Add(-1) == 0 && q.closing.Load() {
		q.markIdle()
	}
}

// run runs one batch that started forming at start and returns the
// Runner's error; finishing the items is the caller's. A Runner that
// panics fails its batch with ErrPanic: the panic is recovered here, where
// the slot is owned, so the slot goes back and the queue keeps serving.
func (q *Queue[P]) run(b *Batch[P], start time.Time) (err error) {
	q.metrics.batchRows.Observe(float64(b.Rows))
	defer func() {
		if p := recover(); p != nil {
			q.metrics.panics.Inc()
			q.log.Error("batch runner panicked; its batch failed, the queue serves on",
				"panic", fmt.Sprint(p), "rows", b.Rows, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: %v", ErrPanic, p)
		}
	}()
	b.RunTime = 0
	called := time.Now()
	err = q.runner.Run(q.ctx, b)
	end := time.Now()
	d := end.Sub(start)
	q.metrics.computeTime.Observe(d.Seconds())
	ran := b.RunTime
	if ran <= 0 {
		ran = end.Sub(called)
	}
	q.usage.ran(ran, len(b.Items), b.Rows, err)
	q.runTime.Store((7*q.runTime.Load() + int64(d)) / 8)
	return err
}

// Close stops the queue: Do fails with ErrClosed from now on, items still
// queued fail with ErrClosed, and batches already running finish. Close
// waits for them until ctx is done. It returns nil once the Runner is no
// longer in use, or an error wrapping ctx's when a batch is still running
// then; the caller must not release what the Runner uses until a later
// Close returns nil. Close may be called more than once.
func (q *Queue[P]) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		q.closing.Store(true)
		q.cancel()
		if q.active.Load() == 0 {
			q.markIdle()
		}
	}
	q.mu.Unlock()
	// Leaders fail what they hold as they stop; what is left in the
	// channel may have no leader to take it.
	q.drainItems()
	select {
	case <-q.idle:
	case <-ctx.Done():
		return fmt.Errorf("batcher: close: a batch is still running: %w", ctx.Err())
	}
	q.drainItems()
	q.cleanup.Do(func() {
		q.metrics.depth.Set(0)
		q.metrics.delete()
	})
	return nil
}

// markIdle tells Close that no slot is held and none will run a batch.
func (q *Queue[P]) markIdle() { q.idleOnce.Do(func() { close(q.idle) }) }

// drainItems fails every item left in the channel.
func (q *Queue[P]) drainItems() {
	for {
		select {
		case it := <-q.items:
			q.fail(it, ErrClosed)
		default:
			return
		}
	}
}
