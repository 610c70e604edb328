//go:build !race

package batcher

import (
	"context"
	"testing"
)

// TestDoAllocatesNothing pins that a warm Do, cost accounting included,
// allocates nothing: a batch adds to its queue's atomics and no more.
func TestDoAllocatesNothing(t *testing.T) {
	m := newMetrics()
	q, err := New[*req](Config{MaxBatchSize: 64}, nop{}, m, "m", "1")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(context.Background())
	q.SetPrice(1)
	it := &Item[*req]{Payload: &req{}, Rows: 1}
	if err := q.Do(it); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if err := q.Do(it); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("a warm Do allocates %v times; want 0", n)
	}
	if c := q.Cost(); c.Requests != 1002 || c.Predictions != 1002 {
		t.Fatalf("Cost() = %+v; want 1002 requests and predictions", c)
	}
}
