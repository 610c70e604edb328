package batcher

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
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
	running atomic.Int32
}

func (d *doubler) Run(_ context.Context, b *Batch[*req]) error {
	d.running.Add(1)
	defer d.running.Add(-1)
	if d.gate != nil {
		<-d.gate
	}
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
	q.Start()
	t.Cleanup(q.Close)
	return q
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
		if err := q.Enqueue(it); err != nil {
			t.Fatal(err)
		}
		if err := it.Wait(); err != nil {
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

// TestBatchesFormFromWaitingItems holds the only executor busy, queues
// items, and checks how the next batches are formed.
func TestBatchesFormFromWaitingItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q := newQueue(t, Config{MaxBatchSize: 8, Executors: 1}, d)
		blocker := item(1, 0)
		q.Enqueue(blocker)
		synctest.Wait() // the executor is now inside Run, holding blocker
		items := []*Item[*req]{
			item(3, 0), item(2, 0), item(2, 7), item(4, 0), item(1, 0), item(9, 0), item(1, 0),
		}
		for _, it := range items {
			if err := q.Enqueue(it); err != nil {
				t.Fatal(err)
			}
		}
		go func() {
			for range 6 { // one per batch below
				d.gate <- struct{}{}
			}
		}()
		if err := blocker.Wait(); err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if err := it.Wait(); err != nil {
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
		first, second, third := item(1, 0), item(2, 0), item(1, 0)
		start := time.Now()
		q.Enqueue(first)
		time.Sleep(4 * time.Millisecond)
		q.Enqueue(second)
		first.Wait()
		second.Wait()
		if got := time.Since(start); got != 10*time.Millisecond {
			t.Fatalf("batch ran after %v; want the full 10ms delay (3 rows < preferred 4)", got)
		}
		// Reaching the preferred size runs at once.
		start = time.Now()
		a, b := item(2, 0), item(2, 0)
		q.Enqueue(a)
		q.Enqueue(b)
		a.Wait()
		b.Wait()
		if got := time.Since(start); got != 0 {
			t.Fatalf("a batch at the preferred size waited %v", got)
		}
		q.Enqueue(third)
		third.Wait()
		want := [][]int{{1, 2}, {2, 2}, {1}}
		if got := d.runs(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("batches = %v; want %v", got, want)
		}
	})
}

func TestQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q := newQueue(t, Config{MaxBatchSize: 4, MaxQueueSize: 5, Executors: 1}, d)
		busy := item(1, 0)
		q.Enqueue(busy)
		synctest.Wait()
		a, b := item(3, 0), item(2, 0)
		if err := q.Enqueue(a); err != nil {
			t.Fatal(err)
		}
		if err := q.Enqueue(b); err != nil {
			t.Fatal(err)
		}
		if err := q.Enqueue(item(1, 0)); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("Enqueue into a full queue = %v; want ErrQueueFull", err)
		}
		go func() {
			for range 3 {
				d.gate <- struct{}{}
			}
		}()
		for _, it := range []*Item[*req]{busy, a, b} {
			if err := it.Wait(); err != nil {
				t.Fatal(err)
			}
		}
		// Room again: a request larger than the whole queue is admitted
		// when the queue is empty.
		d.gate = nil
		big := item(7, 0)
		if err := q.Enqueue(big); err != nil {
			t.Fatalf("Enqueue of 7 rows into an empty queue of 5 = %v", err)
		}
		if err := big.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDeadlinePassedIsNotRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &doubler{gate: make(chan struct{})}
		q := newQueue(t, Config{MaxBatchSize: 4, Executors: 1}, d)
		busy := item(1, 0)
		q.Enqueue(busy)
		synctest.Wait()
		late := item(2, 0)
		late.Deadline = time.Now().Add(5 * time.Millisecond)
		ok := item(1, 0)
		ok.Deadline = time.Now().Add(time.Hour)
		q.Enqueue(late)
		q.Enqueue(ok)
		time.Sleep(10 * time.Millisecond) // the executor is still busy
		go func() {
			for range 2 {
				d.gate <- struct{}{}
			}
		}()
		if err := late.Wait(); !errors.Is(err, ErrDeadline) {
			t.Fatalf("expired item = %v; want ErrDeadline", err)
		}
		if late.Payload.out != nil {
			t.Fatal("the expired item was run")
		}
		if err := ok.Wait(); err != nil {
			t.Fatal(err)
		}
		want := [][]int{{1}, {1}}
		if got := d.runs(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("batches = %v; want %v", got, want)
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
		q.Start()
		running, queued := item(1, 0), item(1, 0)
		q.Enqueue(running)
		synctest.Wait()
		q.Enqueue(queued)
		closed := make(chan struct{})
		go func() { q.Close(); close(closed) }()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while a batch was running")
		default:
		}
		d.gate <- struct{}{}
		<-closed
		if err := running.Wait(); err != nil {
			t.Fatalf("the running item = %v; want it finished", err)
		}
		if err := queued.Wait(); !errors.Is(err, ErrClosed) {
			t.Fatalf("the queued item = %v; want ErrClosed", err)
		}
		if err := q.Enqueue(item(1, 0)); !errors.Is(err, ErrClosed) {
			t.Fatalf("Enqueue after Close = %v; want ErrClosed", err)
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
	d := &doubler{}
	q := newQueue(t, Config{MaxBatchSize: 16, Executors: 2, MaxQueueSize: 1 << 16}, d)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 200 {
				it := item(1+(g+i)%4, uint64(g%2))
				if err := q.Enqueue(it); err != nil {
					t.Error(err)
					return
				}
				if err := it.Wait(); err != nil {
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
