package batcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// req is a test payload: Run doubles each input row into its output.
type req struct {
	in, out []int
}

// doubler is a Runner that doubles rows. While gate is non-nil, each Run
// first waits for a value from it, so tests can hold executors busy.
type doubler struct {
	mu      sync.Mutex
	batches [][]int // the row count of each item, per batch run
	keys    [][]uint64
	gate    chan struct{}
	delay   time.Duration // how long each Run takes
	running atomic.Int32
}

func (d *doubler) Run(_ context.Context, b *Batch[*req]) error {
	d.running.Add(1)
	defer d.running.Add(-1)
	if d.gate != nil {
		<-d.gate
	}
	time.Sleep(d.delay)
	var rows []int
	var keys []uint64
	total := 0
	for _, it := range b.Items {
		rows = append(rows, it.Rows)
		keys = append(keys, it.Key)
		total += it.Rows
		it.Payload.out = it.Payload.out[:0]
		for _, v := range it.Payload.in {
			it.Payload.out = append(it.Payload.out, 2*v)
		}
	}
	if total != b.Rows {
		panic("BUG: batch rows do not add up")
	}
	d.mu.Lock()
	d.batches = append(d.batches, rows)
	d.keys = append(d.keys, keys)
	d.mu.Unlock()
	return nil
}

func (d *doubler) runs() [][]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.batches)
}

func newQueue(t *testing.T, cfg Config, r Runner[*req]) *Queue[*req] {
	t.Helper()
	q, err := New(cfg, r, nil, "m", "1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return q
}

// async calls q.Do(it) on a new goroutine and, inside a synctest bubble,
// waits until that goroutine is queued or running. The result arrives on
// the returned channel.
func async(q *Queue[*req], it *Item[*req]) chan error {
	errc := make(chan error, 1)
	go func() { errc <- q.Do(it) }()
	synctest.Wait()
	return errc
}

func item(rows int, key uint64) *Item[*req] {
	r := &req{}
	for i := range rows {
		r.in = append(r.in, i+1)
	}
	return &Item[*req]{Payload: r, Rows: rows, Key: key}
}

func TestLoneItemRunsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{}
		q := newQueue(t, Config{MaxBatchSize: 8, Executors: 1}, d)
		start := time.Now()
		it := item(3, 0)
		if err := q.Do(it); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Fatalf("a lone item waited %v (fake clock) before running", waited)
		}
		if !slices.Equal(it.Payload.out, []int{2, 4, 6}) {
			t.Fatalf("out = %v", it.Payload.out)
		}
	})
}

// TestBatchesFormFromWaitingItems holds the only executor slot busy,
// queues items, and checks how the next batches are formed.
func TestBatchesFormFromWaitingItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q := newQueue(t, Config{MaxBatchSize: 8, Executors: 1}, d)
		blocker := item(1, 0)
		blocked := async(q, blocker) // its caller leads, and waits in Run
		items := []*Item[*req]{
			item(3, 0), item(2, 0), item(2, 7), item(4, 0), item(1, 0), item(9, 0), item(1, 0),
		}
		var errs []chan error
		for _, it := range items {
			errs = append(errs, async(q, it))
		}
		go func() {
			for range 6 { // one per batch below
				d.gate <- struct{}{}
			}
		}()
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
		for i, it := range items {
			if err := <-errs[i]; err != nil {
				t.Fatal(err)
			}
			if len(it.Payload.out) != it.Rows || it.Payload.out[it.Rows-1] != 2*it.Rows {
				t.Fatalf("item of %d rows got %v", it.Rows, it.Payload.out)
			}
		}
		// 3+2 fit, key 7 starts its own batch, then 4+1, then 9 alone
		// (more than the maximum), then 1.
		want := [][]int{{1}, {3, 2}, {2}, {4, 1}, {9}, {1}}
		if got := d.runs(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("batches = %v; want %v", got, want)
		}
	})
}

func TestMaxQueueDelayWaitsForMore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{}
		q := newQueue(t, Config{MaxBatchSize: 8, MaxQueueDelay: 10 * time.Millisecond, PreferredBatchSizes: []int{4}, Executors: 1}, d)
		start := time.Now()
		first := async(q, item(1, 0)) // leads, waits for more rows
		time.Sleep(4 * time.Millisecond)
		second := async(q, item(2, 0))
		if err := errors.Join(<-first, <-second); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 10*time.Millisecond {
			t.Fatalf("batch ran after %v; want the full 10ms delay (3 rows < preferred 4)", got)
		}
		// Reaching the preferred size runs at once.
		start = time.Now()
		a := async(q, item(2, 0))
		b := async(q, item(2, 0))
		if err := errors.Join(<-a, <-b); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 0 {
			t.Fatalf("a batch at the preferred size waited %v", got)
		}
		want := [][]int{{1, 2}, {2, 2}}
		if got := d.runs(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("batches = %v; want %v", got, want)
		}
	})
}

func TestQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q := newQueue(t, Config{MaxBatchSize: 4, MaxQueueSize: 5, Executors: 1}, d)
		busy := async(q, item(1, 0))
		a, b := async(q, item(3, 0)), async(q, item(2, 0))
		if err := q.Do(item(1, 0)); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("Do on a full queue = %v; want ErrQueueFull", err)
		}
		go func() {
			for range 3 {
				d.gate <- struct{}{}
			}
		}()
		if err := errors.Join(<-busy, <-a, <-b); err != nil {
			t.Fatal(err)
		}
		// Room again: a request larger than the whole queue is admitted
		// when the queue is empty.
		d.gate = nil
		if err := q.Do(item(7, 0)); err != nil {
			t.Fatalf("Do of 7 rows on an empty queue of 5 = %v", err)
		}
	})
}

func TestDeadlinePassedIsNotRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q := newQueue(t, Config{MaxBatchSize: 4, Executors: 1}, d)
		busy := async(q, item(1, 0))
		late := item(2, 0)
		late.Deadline = time.Now().Add(5 * time.Millisecond)
		ok := item(1, 0)
		ok.Deadline = time.Now().Add(time.Hour)
		lateErr, okErr := async(q, late), async(q, ok)
		time.Sleep(10 * time.Millisecond) // the slot is still busy
		go func() {
			for range 2 {
				d.gate <- struct{}{}
			}
		}()
		if err := <-busy; err != nil {
			t.Fatal(err)
		}
		if err := <-lateErr; !errors.Is(err, ErrDeadline) {
			t.Fatalf("expired item = %v; want ErrDeadline", err)
		}
		if late.Payload.out != nil {
			t.Fatal("the expired item was run")
		}
		if err := <-okErr; err != nil {
			t.Fatal(err)
		}
		want := [][]int{{1}, {1}}
		if got := d.runs(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("batches = %v; want %v", got, want)
		}
	})
}

// TestLoneExpiredItemIsNotRun checks the path of an item that finds the
// queue empty and a slot free: its deadline still holds.
func TestLoneExpiredItemIsNotRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{}
		q := newQueue(t, Config{MaxBatchSize: 4, Executors: 1}, d)
		late := item(2, 0)
		late.Deadline = time.Now().Add(-time.Millisecond)
		if err := q.Do(late); !errors.Is(err, ErrDeadline) {
			t.Fatalf("expired lone item = %v; want ErrDeadline", err)
		}
		if late.Payload.out != nil || len(d.runs()) != 0 {
			t.Fatalf("the expired item was run: out %v, batches %v", late.Payload.out, d.runs())
		}
		// The slot was given back: the next item runs.
		next := item(1, 0)
		if err := q.Do(next); err != nil || !slices.Equal(next.Payload.out, []int{2}) {
			t.Fatalf("next item = %v, out %v", err, next.Payload.out)
		}
	})
}

func TestCloseFailsQueuedItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q, err := New[*req](Config{MaxBatchSize: 1, Executors: 1}, d, nil, "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		running := async(q, item(1, 0))
		queued := async(q, item(1, 0))
		closed := make(chan struct{})
		go func() { q.Close(context.Background()); close(closed) }()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while a batch was running")
		default:
		}
		d.gate <- struct{}{}
		<-closed
		if err := <-running; err != nil {
			t.Fatalf("the running item = %v; want it finished", err)
		}
		if err := <-queued; !errors.Is(err, ErrClosed) {
			t.Fatalf("the queued item = %v; want ErrClosed", err)
		}
		if err := q.Do(item(1, 0)); !errors.Is(err, ErrClosed) {
			t.Fatalf("Do after Close = %v; want ErrClosed", err)
		}
		if d.running.Load() != 0 {
			t.Fatal("the runner is still in use after Close")
		}
	})
}

func TestConfigRefusesBadSettings(t *testing.T) {
	f := func(cfg Config) {
		t.Helper()
		if _, err := New[*req](cfg, &doubler{}, nil, "m", "1"); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	f(Config{MaxBatchSize: -1})
	f(Config{MaxQueueSize: -5})
	f(Config{MaxQueueDelay: -time.Second})
	f(Config{MaxBatchSize: 8, PreferredBatchSizes: []int{16}})
	f(Config{PreferredBatchSizes: []int{0}})
}

// TestManyGoroutines drives a queue from many goroutines at once (run it
// with the race detector) and checks every answer.
func TestManyGoroutines(t *testing.T) {
	for _, cfg := range []Config{
		{MaxBatchSize: 16, Executors: 2},
		{MaxBatchSize: 1, Executors: 2},
		{MaxBatchSize: 8, Executors: 1},
		{MaxBatchSize: 4, Executors: 3, MaxQueueDelay: 50 * time.Microsecond},
	} {
		cfg.MaxQueueSize = 1 << 16
		manyGoroutines(t, cfg)
	}
}

func manyGoroutines(t *testing.T, cfg Config) {
	d := &doubler{}
	q := newQueue(t, cfg, d)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 200 {
				it := item(1+(g+i)%4, uint64(g%2))
				if err := q.Do(it); err != nil {
					t.Error(err)
					return
				}
				for k, v := range it.Payload.out {
					if v != 2*(k+1) {
						t.Errorf("row %d = %d", k, v)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for i, keys := range d.keys {
		for _, k := range keys {
			if k != keys[0] {
				t.Fatalf("batch %d mixed keys %v", i, keys)
			}
		}
	}
}

// TestSecondSlotWaitsForBacklog checks that while batches are slow a
// second batch starts only once half a batch is queued behind the running
// one.
func TestSecondSlotWaitsForBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{delay: time.Millisecond}
		q := newQueue(t, Config{MaxBatchSize: 4, Executors: 2}, d)
		if err := q.Do(item(1, 0)); err != nil { // teaches the queue that batches are slow
			t.Fatal(err)
		}
		d.gate = make(chan struct{})
		first := async(q, item(1, 0))
		second := async(q, item(1, 0))
		if n := d.running.Load(); n != 1 {
			t.Errorf("one queued row behind a slow batch started another (%d running)", n)
		}
		third := async(q, item(1, 0))
		if n := d.running.Load(); n != 2 {
			t.Errorf("two queued rows (half of max_batch_size 4) left %d batches running; want 2", n)
		}
		go func() {
			for range 2 {
				d.gate <- struct{}{}
			}
		}()
		if err := errors.Join(<-first, <-second, <-third); err != nil {
			t.Fatal(err)
		}
		// The two batches finish in either order.
		got := d.runs()[1:]
		slices.SortFunc(got, func(a, b []int) int { return len(a) - len(b) })
		if want := [][]int{{1}, {1, 1}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("batches = %v; want %v", got, want)
		}
	})
}

// TestQuickBatchesUseEverySlot checks that while batches are quick a queued
// request starts a batch on a free slot at once rather than wait.
func TestQuickBatchesUseEverySlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q := newQueue(t, Config{MaxBatchSize: 4, Executors: 2}, d)
		a, b := async(q, item(1, 0)), async(q, item(1, 0))
		if n := d.running.Load(); n != 2 {
			t.Errorf("%d batches running; want 2, one per slot", n)
		}
		go func() {
			for range 2 {
				d.gate <- struct{}{}
			}
		}()
		if err := errors.Join(<-a, <-b); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBatchingOffRunsConcurrently checks that with MaxBatchSize 1 every
// slot runs a request of its own as soon as one is queued.
func TestBatchingOffRunsConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q := newQueue(t, Config{MaxBatchSize: 1, Executors: 2}, d)
		a, b, c := async(q, item(1, 0)), async(q, item(1, 0)), async(q, item(1, 0))
		if n := d.running.Load(); n != 2 {
			t.Fatalf("%d requests running; want 2, one per slot", n)
		}
		go func() {
			for range 3 {
				d.gate <- struct{}{}
			}
		}()
		if err := errors.Join(<-a, <-b, <-c); err != nil {
			t.Fatal(err)
		}
		if got := d.runs(); len(got) != 3 {
			t.Fatalf("batches = %v; want three of one", got)
		}
	})
}

// panicker panics in the batches it is told to, and doubles rows in the
// others.
type panicker struct {
	doubler
	panics atomic.Int32 // how many of the next runs panic
}

func (p *panicker) Run(ctx context.Context, b *Batch[*req]) error {
	if p.panics.Add(-1) >= 0 {
		panic("runner exploded")
	}
	return p.doubler.Run(ctx, b)
}

// TestRunnerPanicFailsOnlyItsBatch checks that a Runner's panic fails its
// batch with ErrPanic, is counted, and gives the executor slot back: with
// one slot, a leaked slot would leave the next Do blocked for ever, which
// synctest reports as a deadlock.
func TestRunnerPanicFailsOnlyItsBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &panicker{}
		p.panics.Store(1)
		m := newMetrics()
		q, err := New[*req](Config{MaxBatchSize: 8, Executors: 1, Logger: slog.New(slog.DiscardHandler)}, p, m, "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close(context.Background())
		// Do is called the way the server calls it: a recover around the
		// handler would hide a panic that escaped the queue.
		do := func(it *Item[*req]) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic escaped Do: %v", r)
				}
			}()
			return q.Do(it)
		}
		if err := do(item(2, 0)); !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "runner exploded") {
			t.Fatalf("Do with a panicking runner = %v; want ErrPanic naming the panic", err)
		}
		if n := testutil.ToFloat64(m.panics.WithLabelValues("m", "1")); n != 1 {
			t.Fatalf("switchyard_batch_panics_total = %v; want 1", n)
		}
		for i := range 3 {
			it := item(2, 0)
			if err := do(it); err != nil || !slices.Equal(it.Payload.out, []int{2, 4}) {
				t.Fatalf("Do %d after the panic = %v, out %v; want the version serving", i, err, it.Payload.out)
			}
		}
	})
}

// TestPanicInSharedBatchFailsEveryItem checks that the other requests of
// a batch that panicked get ErrPanic too, instead of waiting for ever.
func TestPanicInSharedBatchFailsEveryItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &panicker{}
		p.gate = make(chan struct{})
		q, err := New[*req](Config{MaxBatchSize: 8, Executors: 1, Logger: slog.New(slog.DiscardHandler)}, p, nil, "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close(context.Background())
		first := async(q, item(1, 0)) // leads, waits at the gate
		a, b := async(q, item(1, 0)), async(q, item(1, 0))
		p.panics.Store(1) // the batch of a and b panics
		p.gate <- struct{}{}
		if err := <-first; err != nil {
			t.Fatalf("first = %v", err)
		}
		for _, c := range []chan error{a, b} {
			if err := <-c; !errors.Is(err, ErrPanic) {
				t.Fatalf("item of the panicking batch = %v; want ErrPanic", err)
			}
		}
		close(p.gate)
		if err := q.Do(item(1, 0)); err != nil {
			t.Fatalf("Do after the panic = %v", err)
		}
	})
}

// TestCloseIsBoundedByItsContext checks that a hung run cannot make Close
// wait for ever, and that a later Close returns once the run ends.
func TestCloseIsBoundedByItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q, err := New[*req](Config{MaxBatchSize: 1, Executors: 1}, d, nil, "m", "1")
		if err != nil {
			t.Fatal(err)
		}
		running := async(q, item(1, 0))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := q.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close with a hung run = %v; want DeadlineExceeded", err)
		}
		d.gate <- struct{}{}
		if err := <-running; err != nil {
			t.Fatalf("the running item = %v", err)
		}
		if err := q.Close(context.Background()); err != nil {
			t.Fatalf("Close after the run ended = %v", err)
		}
		if d.running.Load() != 0 {
			t.Fatal("the runner is still in use after Close")
		}
	})
}
